// The pre-training config: every key, its type, its default and what it allows. Read top to bottom, it is
// the list of knobs a run has.
import { z } from 'zod';
import { PAPER_SETTING_IDS } from './published.js';

/** Numbers are finite everywhere: YAML's .inf and .nan parse as numbers and must not pass as a learning rate. */
const finite = () => z.number().finite();
const positiveInt = finite().int().positive();

export const DataConfig = z
  .object({
    /** A manifest (.jsonl from `avid manifest`) or a directory of videos (a manifest is built on the fly). */
    source: z.string().min(1),
    /** Optional labels CSV (file,label,fold[,group]) for diagnostics and probes; never used for training. */
    labels: z.string().optional(),
    workers: positiveInt.default(2),
    prefetch: positiveInt.default(2),
    /** Clips drawn from each video per epoch ("epochs × clips-per-video"). */
    clipsPerVideo: positiveInt.default(1),
    /**
     * 'memory': decode every video once, whole, and cut each epoch's clips from memory (small datasets such
     * as the synthetic world; far faster on few cores). 'none': one ffmpeg decode per clip.
     */
    decodeCache: z.enum(['none', 'memory']).default('none'),
    /** Stop when more than this share of the files is rejected or fails to decode. */
    maxRejectShare: finite().min(0).max(1).default(0.2),
  })
  .strict();

export const VideoConfig = z
  .object({
    frames: positiveInt.default(8),
    fps: finite().positive().default(16),
    size: positiveInt.default(112),
  })
  .strict();

export const AudioConfig = z
  .object({
    sampleRate: positiveInt.default(24000),
    seconds: finite().positive().default(2),
    /** Spectrogram hop: 0.02 s gives the analysis input (100 × 129 for 2 s), 0.01 s the comparison one. */
    hopSeconds: finite().positive().default(0.02),
    /** The paper's Hann window; the 'reference' front end's window is always the FFT (4 × (freqBins − 1) samples). */
    windowSeconds: finite().positive().default(0.02),
    freqBins: positiveInt.default(129),
    /**
     * Log spectrogram: 'paper' (the papers' text: windowSeconds window, natural log) or 'reference' (the
     * reference code's LogSpectrogram: window as long as the FFT, power_to_db with top_db 100), for models
     * trained by the reference. Checkpoints record it; those written before the field existed are 'paper'.
     */
    frontend: z.enum(['paper', 'reference']).default('paper'),
  })
  .strict();

export const AugmentConfig = z
  .object({
    enabled: z.boolean().default(true),
    minCropArea: finite().min(0.01).max(1).default(0.08),
    flip: z.boolean().default(true),
    colorJitter: z.boolean().default(true),
    volumeJitter: z.boolean().default(true),
    durationJitter: z.boolean().default(true),
    audioOffsetSeconds: finite().min(0).default(0.5),
  })
  .strict();

export const ModelConfig = z
  .object({
    name: z.enum(['av-r2plus1d-10', 'av-r2plus1d-18', 'av-r2plus1d-34']).default('av-r2plus1d-10'),
    width: finite().positive().max(4).default(1),
    audioWidth: finite().positive().max(4).optional(),
    /** The papers use 128; the cap stops a mistyped value from allocating gigabytes of memory bank. */
    embeddingDim: positiveInt.max(65536).default(128),
  })
  .strict();

export const ObjectiveConfig = z
  .object({
    /**
     * avid / cma: NCE against memory banks (the negatives are drawn uniformly from all instances). in-batch:
     * cross-modal InfoNCE whose negatives are the other clips of the (global) batch, so the batch's make-up
     * (the long-form sampler's k and w) is what the loss contrasts against. avts: synchronisation.
     */
    kind: z.enum(['avid', 'cma', 'avts', 'in-batch']).default('avid'),
    variant: z.enum(['self', 'cross', 'joint']).default('cross'),
    /** The temperature (in-batch: the starting value when it is learned). */
    tau: finite().positive().default(0.07),
    negatives: positiveInt.default(1024),
    memoryMomentum: finite().min(0).max(1).default(0.5),
    crossWeight: finite().min(0).default(1),
    selfWeight: finite().min(0).default(1),
    /**
     * true: one NCE normalisation constant Z for every term (avid, cma), estimated from the first term's negatives on
     * the first batch, as the reference code does (one NCECriterion for all terms). false (the default): one Z per
     * term. Measured here, CMA from a Cross-AVID checkpoint diverges with one shared Z (the demo's world: loss 222 →
     * 840 in 3 epochs, retrieval at chance) and trains with one Z per term (loss about 11); until that is understood
     * the configs keep one Z per term, which every published figure of avid was measured with.
     */
    sharedNormaliser: z.boolean().default(false),
    /**
     * When Z is estimated (avid, cma): 'first-batch' (the reference: once, then fixed) or 'every-batch' (from each
     * batch's negatives). Self-AVID from scratch on a small world needs 'every-batch': with a Z fixed while the
     * memory banks were random its loss climbed (15 → 1,500 in 3 epochs) and the embeddings collapsed; see
     * docs/experiments/self-avid-health.md.
     */
    normaliserEstimate: z.enum(['first-batch', 'every-batch']).default('first-batch'),
    inBatch: z
      .object({
        /** Learn the temperature (log τ, updated by the optimizer, saved in checkpoints), starting at tau. */
        learnTemperature: z.boolean().default(false),
        /** Memory-bank negatives per anchor added to the batch's (0: batch negatives only). */
        bankNegatives: z.number().int().min(0).default(0),
      })
      .strict()
      .default({}),
    cma: z
      .object({
        /** Positives kept per instance (Kp) and the candidates they are chosen from. */
        positives: positiveInt.default(32),
        candidates: positiveInt.optional(),
        /** Negatives for wMPD (Kn), drawn from the complement of the positives: the paper's 1024 (the released code uses 64). */
        negatives: positiveInt.default(1024),
        lambda: finite().min(0).default(1),
        /** agreement = min(v·v, a·a) (CMA); union = max; video / audio = one modality only. */
        agreement: z.enum(['agreement', 'union', 'video', 'audio']).default('agreement'),
        remineEveryEpochs: positiveInt.default(50),
        blockSize: positiveInt.default(4096),
      })
      .strict()
      .default({}),
    avts: z
      .object({
        hardNegativeShare: finite().min(0).max(1).default(0.25),
        curriculumEpochs: finite().int().min(0).default(1),
        minOffsetSeconds: finite().positive().default(1),
        margin: finite().positive().default(0.99),
      })
      .strict()
      .default({}),
  })
  .strict();

export const SamplerConfig = z
  .object({
    kind: z.enum(['uniform', 'long-form']).default('uniform'),
    /** Long-form: clips per group drawn from the same long video ... */
    k: positiveInt.default(1),
    /** ... within a window of w clips ('video' = anywhere in that video). */
    w: z.union([positiveInt, z.literal('video')]).default('video'),
  })
  .strict();

export const ScheduleConfig = z
  .object({
    kind: z.enum(['constant', 'multistep', 'cosine']).default('constant'),
    /** Milestones in epochs for multistep. */
    milestones: z.array(finite().nonnegative()).default([]),
    gamma: finite().positive().default(0.1),
    warmupEpochs: finite().min(0).default(0),
    warmupStartFactor: finite().min(0).max(1).default(0.05),
    minFactor: finite().min(0).max(1).default(0),
  })
  .strict();

export const OptimConfig = z
  .object({
    name: z.enum(['adam', 'adamw', 'sgd']).default('adam'),
    lr: finite().positive().default(1e-4),
    weightDecay: finite().min(0).default(1e-5),
    momentum: finite().min(0).max(1).default(0.9),
    betas: z.tuple([finite(), finite()]).default([0.9, 0.999]),
    clipGradNorm: finite().positive().optional(),
    schedule: ScheduleConfig.default({}),
  })
  .strict();

export const TrainConfig = z
  .object({
    epochs: positiveInt.default(1),
    batchSize: positiveInt.default(16),
    /** Save a checkpoint every N optimizer steps (and at each epoch end). */
    checkpointEvery: positiveInt.default(200),
    /**
     * Also keep checkpoints/epoch-<N>.safetensors after these epochs (0: the initial weights), beside last:
     * a list such as [0, 10, 50], or {every: N} for 0, N, 2N, ...
     */
    keepCheckpoints: z
      .union([z.array(z.number().int().min(0)), z.object({ every: positiveInt }).strict()], {
        errorMap: () => ({ message: 'expected a list of epochs (integers ≥ 0) or {every: N}' }),
      })
      .default([]),
    logEvery: positiveInt.default(10),
    /** Warn when the mean loss has risen in this many epochs in a row (0: never); see src/train/loss-trend.ts. */
    warnRisingLossEpochs: z.number().int().min(0).default(5),
    threads: positiveInt.optional(),
    deterministic: z.boolean().default(false),
    /** Data-parallel runs: batch-norm statistics over the global batch instead of each process's share. */
    syncBatchNorm: z.boolean().default(false),
    /** 'cpu', 'cuda' (under `avid launch`: the GPU of the process's LOCAL_RANK) or 'cuda:N'. */
    device: z.string().regex(/^(cpu|cuda(:\d+)?)$/, "must be 'cpu', 'cuda' or 'cuda:N'").default('cpu'),
    /** Mixed precision: the forward pass under autocast in float16 (CUDA; with dynamic loss scaling) or bfloat16. */
    precision: z.enum(['fp32', 'fp16', 'bf16']).default('fp32'),
    /** Also write TensorBoard event files (scalars per step and per epoch) to <run dir>/tensorboard/. */
    tensorboard: z.boolean().default(false),
  })
  .strict();

export const PretrainConfig = z
  .object({
    name: z.string().default('run'),
    seed: finite().int().min(0).default(0),
    /** Where runs are written: <runsDir>/<name>. */
    runsDir: z.string().default('runs'),
    /** Start from this checkpoint's model and (for CMA) memory banks and Z. */
    init: z.string().optional(),
    /**
     * The papers' settings this config reproduces (ids of config/published.ts): the report sets the published
     * figures beside the run's own, for evaluations of the same protocol on the same benchmark.
     */
    reproduces: z.array(z.enum(PAPER_SETTING_IDS)).optional(),
    data: DataConfig,
    video: VideoConfig.default({}),
    audio: AudioConfig.default({}),
    augment: AugmentConfig.default({}),
    model: ModelConfig.default({}),
    objective: ObjectiveConfig.default({}),
    sampler: SamplerConfig.default({}),
    optim: OptimConfig.default({}),
    train: TrainConfig.default({}),
  })
  .strict();

export type PretrainConfig = z.infer<typeof PretrainConfig>;
export type ModelConfig = z.infer<typeof ModelConfig>;
