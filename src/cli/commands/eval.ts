// `avid eval <svm|probe|knn|retrieval|finetune> --checkpoint <file|random> --data <dir> [--labels csv] --out results.json`
import { parseArgs } from 'node:util';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import * as T from '../../tensor/index.js';
import { createModel, loadAVModel, MODEL_NAMES, type ModelName } from '../../models/index.js';
import { loadCheckpoint, disposeContents, loadModelState, saveCheckpoint } from '../../io/checkpoint.js';
import type { SpectrogramStats } from '../../media/spectrogram.js';
import { readLabelsCsv, labelsFromEscDirectory, type LabelSet } from '../../eval/labels.js';
import { SVM_AUDIO_POOLING, type BlockEncoder, type BlockPooling } from '../../eval/features.js';
import { createAudioFrontend, evaluationFrontend, assertStatsMatchFrontend } from '../../eval/audio-frontend.js';
import { loadAudioStatsFile } from '../../eval/audio-stats-file.js';
import { extractAudioFeatures } from '../../eval/audio-features.js';
import { runSvmProtocol } from '../../eval/svm-protocol.js';
import { linearProbeFolds } from '../../eval/linear-probe.js';
import { knnCrossValidation } from '../../eval/knn.js';
import { formatTable, percent, writeResultsJson } from '../../eval/results.js';
import type { FeatureMatrix } from '../../eval/svm.js';
import { readManifest, buildManifest, type ManifestEntry } from '../../data/manifest.js';
import { ClipDataset } from '../../data/dataset.js';
import { DataLoader } from '../../data/loader.js';
import { spectrogramConfigFor } from '../../media/audio-input.js';
import { embedVideos, type AVEmbedder } from '../../eval/av-embeddings.js';
import { resolveDevice, evaluateOnDevice } from '../../train/device-transfer.js';
import { crossModalRetrieval } from '../../eval/retrieval.js';
import { geometryFromConfig, type ClipGeometry } from '../../eval/localize.js';
import { FinetuneClassifier, finetune, scaledMilestones, type FinetuneResult, type PooledEncoder } from '../../eval/finetune.js';
import { loadFinetuneMedia, mediaBatchSource, type FinetuneModality } from '../../eval/finetune-data.js';
import { kFoldSplits, givenSplit, assertNoGroupLeak, type FoldSplit } from '../../eval/folds.js';

export const summary = 'evaluate encoders: SVM sound protocol, linear probe, k-NN, cross-modal retrieval, fine-tuning';

const usage = `usage: avid eval <svm|probe|knn> --checkpoint <file|random> --data <dir> [options]
       avid eval retrieval --checkpoint <file|random> --data <manifest.jsonl|dir> [options]
       avid eval finetune --checkpoint <file|random|random:<file>> --data <dir> [--labels csv] --modality audio|video [options]

Evaluates the audio encoder of a checkpoint (or a randomly initialised one) on a labelled sound dataset
with the papers' protocols, cross-validated over the dataset's folds:
  svm    one-vs-rest linear SVM on per-clip block features; every training clip is an example, test
         scores are averaged over a sample's clips; C chosen by inner cross-validation on training folds
  probe  multinomial logistic regression on the same features (clip@1 and video@1), weight decay chosen
         on a validation split of the training samples
  knn    cosine k-NN on per-sample features (mean over the sample's clips)
Labels: --labels CSV (file,label,fold[,group]; files relative to --data), else the ESC file names in --data.
Features are cached (safetensors) in --cache, keyed by model, weights, data and settings.
  retrieval  video→audio and audio→video recall@1/5/10 and median rank over the videos of --data (a
         manifest or a directory of audio-visual files): each video's K aligned evaluation clips are embedded
         by the AV model and averaged; the i-th video's audio is its match. The model settings (frames, size,
         spectrogram) come from the checkpoint's config; with random weights from --model/--width/--frames/--size.
  finetune  the whole encoder (the --modality branch of an AV checkpoint, or a bare encoder with --model
         audio-conv2d|r2plus1d-*) with dropout and a new linear layer on its max-pooled conv5x features, trained
         end to end: Adam (--lr, default the papers' 1e-4), lr × 0.3 at 60/100/140 of 160 epochs scaled to
         --epochs; batch-norm in training mode while training, evaluation mode at test; one random clip per
         training sample and epoch; test: clip@1 and video@1 over --clips uniformly spaced clips. Per fold
         (--splits folds), or the labels' train/test 'split' column (--splits given; auto: the column when
         present). The clip geometry and spectrogram statistics come from the checkpoint's config;
         'random:<file>' is a random network of <file>'s architecture, geometry and statistics.
         Each fold's fine-tuned model is saved as <out>.fold<k>.safetensors (or in --save DIR).

options:
  --checkpoint FILE|random   weights (an avid checkpoint or a state dict; AV checkpoints: audio_model.*)
  --data DIR                 the audio files
  --labels FILE              labels CSV (default: ESC names in --data)
  --model NAME               audio-conv2d (default) or an av-* model (its audio encoder; retrieval: the AV model,
                             default av-r2plus1d-10); ${MODEL_NAMES.join(', ')}
  --width W                  channel multiplier of the encoder (default 1)
  --blocks LIST              blocks to evaluate, comma-separated (default conv5x); conv2x..conv5x, pool
  --clips K                  clips per sample (default 10)
  --clip-seconds S           seconds per clip (default 2)
  --sample-rate HZ           (default 24000)
  --hop-seconds S            spectrogram hop: 0.02 (100 frames / 2 s, default) or 0.01
                             (a checkpoint's spectrogram statistics bring their own rate, hop and bins; without
                             them, e.g. random weights, each clip's spectrogram is standardised on its own)
  --frontend paper|reference the log spectrogram (default: the checkpoint's audio.frontend; 'paper' when it has
                             none; imported reference checkpoints: 'reference', whose spectrogram settings then
                             come from the checkpoint's config, see docs/published-checkpoints.md)
  --audio-stats FILE         svm, probe, knn, retrieval, finetune: per-bin spectrogram statistics to Z-normalise
                             with, over the checkpoint's: avid's JSON, or the reference's datasets/assets/*-norm-stats.npz
                             (its training-set statistics, for imported reference checkpoints)
  --c-grid LIST              SVM C candidates (default 0.001,0.01,0.1,1,10,100)
  --tolerance T              SVM stopping tolerance on the projected gradient (default 0.01)
  --max-iterations N         SVM pass cap (default 1000; unconverged SVMs are counted in the results)
  --k N                      k-NN neighbours (default 20)
  --frames N, --size N       retrieval / fine-tuning with random weights: clip frames (default 8) and frame
                             size (default 112)
  --modality audio|video     fine-tuning: which encoder (default audio)
  --epochs N                 fine-tuning epochs (default 20; the papers' 160 for UCF 8f)
  --lr X                     fine-tuning Adam learning rate (default 1e-4)
  --weight-decay X           fine-tuning L2 weight decay (default 0)
  --dropout P                fine-tuning dropout before the classifier (default 0.5)
  --train-clips N            fine-tuning: random clips per training sample and epoch (default 1)
  --splits auto|folds|given  fine-tuning: cross-validate over the folds, or use the labels' split column
  --save DIR                 fine-tuning: where the fine-tuned checkpoints go (default beside --out)
  --test-folds LIST          hold out only these folds (default all)
  --cache DIR                feature cache directory (default .cache/eval-features)
  --no-cache                 do not read or write the cache
  --batch-size N             clips per forward pass (default 32)
  --seed N                   seed of the random initialisation and the solvers (default 0)
  --threads N                libtorch threads (default: libtorch's)
  --device cpu|cuda|cuda:N   where the encoder runs (svm, probe, knn, retrieval; default cpu; CUDA needs an
                             avid build against a CUDA libtorch, see docs/cuda.md)
  --out FILE                 results JSON (required)
  -h, --help                 this help`;

function list(text: string, what: string): number[] {
  const values = text.split(',').map((s) => Number(s.trim()));
  if (values.some((v) => !Number.isFinite(v))) throw new Error(`${what} must be a comma-separated list of numbers; got '${text}'`);
  return values;
}

function positiveInt(text: string, what: string): number {
  const v = Number(text);
  if (!Number.isInteger(v) || v < 1) throw new Error(`${what} must be a positive integer; got '${text}'`);
  return v;
}

/**
 * The audio encoder named by --model, with --checkpoint's weights or a seeded random initialisation, and the
 * checkpoint's spectrogram statistics when it carries them (pre-training's input normalisation).
 */
function loadAudioEncoder(
  modelName: string,
  width: number,
  checkpoint: string,
  seed: number,
): { encoder: BlockEncoder & { dispose(): void }; identity: unknown; audioStats: SpectrogramStats | null; config: Record<string, unknown> | null } {
  if (!(MODEL_NAMES as string[]).includes(modelName)) throw new Error(`--model must be one of ${MODEL_NAMES.join(', ')}; got '${modelName}'`);
  T.manualSeed(seed);
  const model = createModel(modelName as ModelName, { width });
  const encoder = (modelName.startsWith('av-') ? (model as unknown as { audio_model: BlockEncoder }).audio_model : model) as BlockEncoder & {
    loadStateDict(s: Map<string, T.Tensor>, o?: { strict?: boolean }): unknown;
    dispose(): void;
  };
  if (modelName.startsWith('av-')) {
    // Only the audio encoder is used; free the rest.
    for (const [key, t] of (model as unknown as { stateDict(): Map<string, T.Tensor> }).stateDict()) if (!key.startsWith('audio_model.')) t.dispose();
  }
  if (checkpoint === 'random') return { encoder, identity: { model: modelName, width, weights: 'random', seed }, audioStats: null, config: null };
  if (!existsSync(checkpoint)) throw new Error(`--checkpoint ${checkpoint}: no such file (or pass 'random')`);
  const contents = loadCheckpoint(checkpoint);
  try {
    const state = contents.groups.model ?? new Map<string, T.Tensor>();
    const prefixed = [...state.keys()].some((k) => k.startsWith('audio_model.'));
    const audioState = new Map<string, T.Tensor>();
    for (const [k, t] of state) {
      if (!prefixed) audioState.set(k, t);
      else if (k.startsWith('audio_model.')) audioState.set(k.slice('audio_model.'.length), t);
    }
    if (audioState.size === 0) throw new Error(`--checkpoint ${checkpoint}: no audio encoder weights (expected audio_model.* or a bare audio state dict)`);
    encoder.loadStateDict(audioState, { strict: true });
  } finally {
    disposeContents(contents);
  }
  const audioStats = (contents.scalars.audioStats as SpectrogramStats | undefined) ?? null;
  const stat = statSync(checkpoint);
  const config = (contents.scalars.config as Record<string, unknown> | undefined) ?? null;
  return { encoder, identity: { model: modelName, width, checkpoint: path.resolve(checkpoint), size: stat.size, mtimeMs: stat.mtimeMs }, audioStats, config };
}

/** Mean of each sample's clip rows: one embedding per sample (for k-NN). */
function meanPerSample(m: FeatureMatrix, sampleOfClip: Int32Array, samples: number): FeatureMatrix {
  const out = new Float32Array(samples * m.cols);
  const counts = new Float32Array(samples);
  for (let c = 0; c < m.rows; c++) {
    const s = sampleOfClip[c];
    counts[s]++;
    for (let k = 0; k < m.cols; k++) out[s * m.cols + k] += m.data[c * m.cols + k];
  }
  for (let s = 0; s < samples; s++) for (let k = 0; k < m.cols; k++) out[s * m.cols + k] /= counts[s];
  return { data: out, rows: samples, cols: m.cols };
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      checkpoint: { type: 'string' },
      data: { type: 'string' },
      labels: { type: 'string' },
      model: { type: 'string' },
      width: { type: 'string', default: '1' },
      blocks: { type: 'string', default: 'conv5x' },
      clips: { type: 'string', default: '10' },
      'clip-seconds': { type: 'string', default: '2' },
      'sample-rate': { type: 'string', default: '24000' },
      'hop-seconds': { type: 'string', default: '0.02' },
      frontend: { type: 'string' },
      'audio-stats': { type: 'string' },
      'c-grid': { type: 'string', default: '0.001,0.01,0.1,1,10,100' },
      tolerance: { type: 'string', default: '0.01' },
      'max-iterations': { type: 'string', default: '1000' },
      k: { type: 'string', default: '20' },
      'test-folds': { type: 'string' },
      cache: { type: 'string', default: '.cache/eval-features' },
      'no-cache': { type: 'boolean', default: false },
      'batch-size': { type: 'string', default: '32' },
      seed: { type: 'string', default: '0' },
      frames: { type: 'string', default: '8' },
      size: { type: 'string', default: '112' },
      modality: { type: 'string', default: 'audio' },
      epochs: { type: 'string', default: '20' },
      lr: { type: 'string', default: '1e-4' },
      'weight-decay': { type: 'string', default: '0' },
      dropout: { type: 'string', default: '0.5' },
      'train-clips': { type: 'string', default: '1' },
      splits: { type: 'string', default: 'auto' },
      save: { type: 'string' },
      threads: { type: 'string' },
      device: { type: 'string', default: 'cpu' },
      out: { type: 'string', short: 'o' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const protocol = positionals[0];
  if (!['svm', 'probe', 'knn', 'retrieval', 'finetune'].includes(protocol ?? '')) throw new Error(`the protocol must be svm, probe, knn, retrieval or finetune; got '${protocol ?? ''}'\n\n${usage}`);
  if (!values.checkpoint) throw new Error(`--checkpoint is required (a file, or 'random')\n\n${usage}`);
  if (!values.data) throw new Error(`--data is required\n\n${usage}`);
  if (!values.out) throw new Error(`--out is required\n\n${usage}`);
  if (values.threads) T.setNumThreads(positiveInt(values.threads, '--threads'));
  const device = resolveDevice(values.device, { what: '--device' });
  if (protocol === 'finetune' && device !== 'cpu') throw new Error('--device: finetune runs on the CPU only (svm, probe, knn and retrieval take --device cuda)');
  if (protocol === 'retrieval') return runRetrieval({ ...values, model: values.model ?? 'av-r2plus1d-10' } as RetrievalFlags, device);
  if (protocol === 'finetune') return runFinetune(values as FinetuneFlags);
  if (!existsSync(values.data) || !statSync(values.data).isDirectory()) throw new Error(`--data ${values.data}: not a directory`);
  const width = Number(values.width);
  if (!(width > 0)) throw new Error(`--width must be a positive number; got '${values.width}'`);
  const seed = Number(values.seed);
  if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer; got '${values.seed}'`);
  const clipsPerSample = positiveInt(values.clips, '--clips');
  const clipSeconds = Number(values['clip-seconds']);
  if (!(clipSeconds > 0)) throw new Error(`--clip-seconds must be positive; got '${values['clip-seconds']}'`);
  const sampleRate = positiveInt(values['sample-rate'], '--sample-rate');
  const hopSec = Number(values['hop-seconds']);
  const blockNames = values.blocks.split(',').map((b) => b.trim());
  const blocks: Record<string, BlockPooling> = {};
  for (const b of blockNames) {
    if (!SVM_AUDIO_POOLING[b]) throw new Error(`--blocks: unknown block '${b}' (allowed: ${Object.keys(SVM_AUDIO_POOLING).join(', ')})`);
    blocks[b] = SVM_AUDIO_POOLING[b];
  }
  const testFolds = values['test-folds'] ? list(values['test-folds'], '--test-folds') : undefined;
  const log = (line: string) => process.stderr.write(`${line}\n`);

  const labels: LabelSet = values.labels ? readLabelsCsv(values.labels) : labelsFromEscDirectory(values.data);
  const files = labels.entries.map((e) => path.resolve(values.data!, e.file));
  const missing = files.filter((f) => !existsSync(f));
  if (missing.length > 0) throw new Error(`${missing.length} labelled file(s) not found under ${values.data}, e.g. ${missing.slice(0, 3).join(', ')}`);
  const numClasses = labels.classNames.length;
  log(`${protocol}: ${files.length} samples, ${numClasses} classes, folds ${[...new Set(labels.entries.map((e) => e.fold))].sort((a, b) => a - b).join(', ')}`);

  const { encoder, identity, audioStats, config } = loadAudioEncoder(values.model ?? 'audio-conv2d', width, values.checkpoint, seed);
  const frontendName = evaluationFrontend(config, values.frontend);
  // A reference model (imported) is evaluated on the spectrogram it was trained on: its config's settings.
  const trained = frontendName === 'reference' ? (config?.audio as { sampleRate?: number; hopSeconds?: number; freqBins?: number } | undefined) : undefined;
  const settingsOf = { frontend: frontendName, sampleRate: trained?.sampleRate ?? sampleRate, hopSec: trained?.hopSeconds ?? hopSec, freqBins: trained?.freqBins };
  const givenStats = values['audio-stats'] ? loadAudioStatsFile(values['audio-stats'], createAudioFrontend(settingsOf).options.spectrogram) : null;
  const frontend = createAudioFrontend({ ...settingsOf, stats: givenStats ?? audioStats, statsFile: givenStats ? path.resolve(values['audio-stats']!) : undefined });
  if (givenStats) log(`spectrogram: statistics of ${values['audio-stats']} (${JSON.stringify(givenStats.config)})`);
  else if (audioStats) log(`spectrogram: the checkpoint's statistics and config (${JSON.stringify(audioStats.config)})`);
  else if (trained) log(`spectrogram: the reference's front end with the checkpoint's settings (${JSON.stringify(frontend.options.spectrogram)}), standardised per clip`);
  const inputRate = frontend.options.spectrogram.sampleRate;
  let features;
  try {
    features = await extractAudioFeatures(evaluateOnDevice(encoder, device, ['forwardBlocks']), files, {
      blocks,
      frontend,
      sampleRate: inputRate,
      clipSeconds,
      clipsPerSample,
      batchSize: positiveInt(values['batch-size'], '--batch-size'),
      cacheDir: values['no-cache'] ? undefined : values.cache,
      // Statistics from a file change the input: the feature cache must tell them apart.
      encoderIdentity: givenStats ? { ...(identity as object), audioStats: { mean: givenStats.mean, std: givenStats.std } } : identity,
      log,
    });
  } finally {
    encoder.dispose();
  }
  log(`features: ${features.sampleOfClip.length} clips in ${features.seconds.toFixed(1)} s${features.fromCache ? ' (cache)' : ''}`);

  const samples = labels.entries;
  const started = performance.now();
  const perBlock: Record<string, unknown> = {};
  const rows: (string | number)[][] = [];
  let headers: string[] = [];
  for (const block of blockNames) {
    const m = features.blocks.get(block)!;
    const clips = { features: m, sampleOfClip: features.sampleOfClip };
    log(`${block}: ${m.cols} features per clip`);
    if (protocol === 'svm') {
      const tolerance = Number(values.tolerance);
      if (!(tolerance > 0)) throw new Error(`--tolerance must be a positive number; got '${values.tolerance}'`);
      const maxIterations = positiveInt(values['max-iterations'], '--max-iterations');
      const r = runSvmProtocol(samples, clips, numClasses, { cGrid: list(values['c-grid'], '--c-grid'), tolerance, maxIterations, seed, testFolds, log });
      perBlock[block] = r;
      headers = ['block', 'fold', 'accuracy %', 'clip acc %', 'C', 'unconverged (final+inner)', 'seconds'];
      for (const f of r.folds) rows.push([block, f.fold, percent(f.accuracy), percent(f.clipAccuracy), String(f.chosenC), `${f.unconverged}+${f.innerUnconverged}`, Math.round(f.seconds * 10) / 10]);
      rows.push([block, 'mean', percent(r.meanAccuracy), percent(r.meanClipAccuracy), '', '', '']);
    } else if (protocol === 'probe') {
      const r = linearProbeFolds(samples, clips, numClasses, { seed, testFolds, log });
      perBlock[block] = r;
      headers = ['block', 'fold', 'clip@1 %', 'video@1 %', 'weight decay'];
      for (const f of r.folds) rows.push([block, f.fold, percent(f.clipAccuracy), percent(f.videoAccuracy), String(f.chosenWeightDecay)]);
      rows.push([block, 'mean', percent(r.meanClipAccuracy), percent(r.meanVideoAccuracy), '']);
    } else {
      const r = knnCrossValidation(meanPerSample(m, features.sampleOfClip, samples.length), samples, numClasses, { k: positiveInt(values.k, '--k'), testFolds });
      perBlock[block] = r;
      headers = ['block', 'fold', 'accuracy %'];
      for (const f of r.folds) rows.push([block, f.fold, percent(f.accuracy)]);
      rows.push([block, 'mean', percent(r.meanAccuracy)]);
    }
  }
  const classifySeconds = (performance.now() - started) / 1000;
  const result = {
    protocol,
    data: path.resolve(values.data),
    labels: values.labels ? path.resolve(values.labels) : 'ESC file names',
    classNames: labels.classNames,
    encoder: identity,
    settings: { clipsPerSample, clipSeconds, sampleRate: inputRate, frontend: frontend.options, blocks, seed, testFolds: testFolds ?? 'all' },
    timing: { featureSeconds: features.seconds, featuresFromCache: features.fromCache, classifySeconds },
    results: perBlock,
  };
  writeResultsJson(values.out, result);
  console.log(formatTable(headers, rows, { decimals: 1 }));
  console.log(`\nresults: ${values.out}`);
  return 0;
}

interface RetrievalFlags {
  checkpoint: string;
  frontend?: string;
  'audio-stats'?: string;
  data: string;
  out: string;
  model: string;
  width: string;
  frames: string;
  size: string;
  clips: string;
  seed: string;
  'batch-size': string;
}

/** The model and input settings of a checkpoint's training config (or the flags, for random weights). */
interface AVSettings {
  model: { name: ModelName; width: number; audioWidth?: number; embeddingDim: number };
  video: { frames: number; fps: number; size: number };
  audio: { sampleRate: number; seconds: number; hopSeconds: number; windowSeconds: number; freqBins: number; frontend?: 'paper' | 'reference' };
}

async function runRetrieval(flags: RetrievalFlags, device: T.Device = 'cpu'): Promise<number> {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const seed = Number(flags.seed);
  let settings: AVSettings = {
    model: { name: flags.model as ModelName, width: Number(flags.width), embeddingDim: 128 },
    video: { frames: positiveInt(flags.frames, '--frames'), fps: 16, size: positiveInt(flags.size, '--size') },
    audio: { sampleRate: 24000, seconds: 2, hopSeconds: 0.02, windowSeconds: 0.02, freqBins: 129 },
  };
  let audioStats: SpectrogramStats | null = null;
  let state: Map<string, T.Tensor> | null = null;
  if (flags.checkpoint !== 'random') {
    if (!existsSync(flags.checkpoint)) throw new Error(`--checkpoint ${flags.checkpoint}: no such file (or pass 'random')`);
    const contents = loadCheckpoint(flags.checkpoint);
    for (const [prefix, group] of Object.entries(contents.groups)) if (prefix !== 'model') group.forEach((t) => t.dispose());
    state = contents.groups.model ?? null;
    if (!state) throw new Error(`--checkpoint ${flags.checkpoint}: no model weights`);
    const config = contents.scalars.config as Partial<AVSettings> | undefined;
    if (config?.model && config.video && config.audio) settings = { model: config.model, video: config.video, audio: config.audio };
    else log(`retrieval: ${flags.checkpoint} carries no training config; using --model/--width/--frames/--size`);
    audioStats = (contents.scalars.audioStats as SpectrogramStats | undefined) ?? null;
  }
  settings = { ...settings, audio: { ...settings.audio, frontend: evaluationFrontend(settings, flags.frontend) } };
  if (flags['audio-stats']) audioStats = loadAudioStatsFile(flags['audio-stats'], spectrogramConfigFor(settings.audio));
  assertStatsMatchFrontend(audioStats, settings.audio.frontend!);
  if (!settings.model.name.startsWith('av-')) throw new Error(`retrieval needs an audio-visual model (av-*); got '${settings.model.name}'`);
  if (!(MODEL_NAMES as string[]).includes(settings.model.name)) throw new Error(`--model must be one of ${MODEL_NAMES.join(', ')}; got '${settings.model.name}'`);
  T.manualSeed(seed);
  const model = createModel(settings.model.name, settings.model);
  try {
    if (state) {
      try {
        model.loadStateDict(state, { strict: true });
      } finally {
        state.forEach((t) => t.dispose());
      }
    }
    let entries: ManifestEntry[];
    if (existsSync(flags.data) && statSync(flags.data).isDirectory()) {
      const manifest = await buildManifest([flags.data], { mode: 'audio-visual', clipSeconds: settings.audio.seconds, verifyEnd: false });
      for (const r of manifest.rejects) log(`retrieval: skipped ${r.path} (${r.reason})`);
      entries = manifest.entries;
    } else {
      entries = readManifest(flags.data);
    }
    if (entries.length < 2) throw new Error(`retrieval needs at least 2 audio-visual videos in ${flags.data}, found ${entries.length}`);
    const clipsPerVideo = positiveInt(flags.clips, '--clips');
    const dataset = new ClipDataset(entries, {
      mode: 'eval',
      seed,
      clip: { numFrames: settings.video.frames, fps: settings.video.fps, audioSeconds: settings.audio.seconds, audioOffsetSec: 0, audioDurationJitter: null },
      frameSize: [settings.video.size, settings.video.size],
      sampleRate: settings.audio.sampleRate,
      clipsPerVideo,
    });
    const loader = new DataLoader(dataset, {
      batchSize: positiveInt(flags['batch-size'], '--batch-size'),
      spectrogram: audioStats?.config ?? spectrogramConfigFor(settings.audio),
      spectrogramStats: audioStats ?? undefined,
      log,
    });
    const started = performance.now();
    const embeddings = await embedVideos(evaluateOnDevice(model, device, ['embedVideo', 'embedAudio']) as unknown as AVEmbedder, loader, (clips) => log(`retrieval: ${clips} clips embedded`));
    const skipped = loader.stats().skipped;
    const r = crossModalRetrieval(embeddings.video, embeddings.audio);
    const seconds = (performance.now() - started) / 1000;
    const row = (name: string, x: typeof r.videoToAudio) => [name, percent(x.recall[1]), percent(x.recall[5]), percent(x.recall[10]), x.medianRank];
    writeResultsJson(flags.out, {
      protocol: 'retrieval',
      data: path.resolve(flags.data),
      checkpoint: flags.checkpoint === 'random' ? 'random' : path.resolve(flags.checkpoint),
      settings: { ...settings, clipsPerVideo, seed, normalisation: !audioStats ? 'log spectrogram as is' : flags['audio-stats'] ? `statistics of ${path.resolve(flags['audio-stats'])}` : 'checkpoint statistics' },
      videos: embeddings.indices.length,
      skipped,
      seconds,
      results: r,
    });
    console.log(formatTable(['direction', 'R@1 %', 'R@5 %', 'R@10 %', 'median rank'], [row('video→audio', r.videoToAudio), row('audio→video', r.audioToVideo)], { decimals: 1 }));
    console.log(`\n${embeddings.indices.length} videos (chance R@1 ${percent(1 / embeddings.indices.length)}%); results: ${flags.out}`);
    return 0;
  } finally {
    model.dispose();
  }
}

interface FinetuneFlags {
  checkpoint: string;
  frontend?: string;
  'audio-stats'?: string;
  data: string;
  labels?: string;
  out: string;
  model?: string;
  width: string;
  frames: string;
  size: string;
  modality: string;
  epochs: string;
  lr: string;
  'weight-decay': string;
  dropout: string;
  clips: string;
  'train-clips': string;
  splits: string;
  'test-folds'?: string;
  save?: string;
  seed: string;
  'batch-size': string;
}

/**
 * The encoder to fine-tune: the `modality` branch of an audio-visual checkpoint ('random' / 'random:<file>'
 * for a seeded random initialisation), or a bare encoder named by --model; and the clip geometry (frames,
 * size, spectrogram, statistics) of the checkpoint's config, else of the flags.
 */
function loadFinetuneEncoder(flags: FinetuneFlags, modality: FinetuneModality, seed: number): { encoder: PooledEncoder; geometry: ClipGeometry; identity: unknown } {
  const width = Number(flags.width);
  if (!(width > 0)) throw new Error(`--width must be a positive number; got '${flags.width}'`);
  const fallbackVideo = { video: { frames: positiveInt(flags.frames, '--frames'), size: positiveInt(flags.size, '--size') } };
  const name = flags.model;
  if (name !== undefined && !(MODEL_NAMES as string[]).includes(name)) throw new Error(`--model must be one of ${MODEL_NAMES.join(', ')}; got '${name}'`);
  if (name === undefined || name.startsWith('av-')) {
    const spec = { name: (name ?? 'av-r2plus1d-10') as 'av-r2plus1d-10', width };
    const { model, spec: used, config, audioStats } = loadAVModel(flags.checkpoint, spec, seed);
    const branch = `${modality}_model.`;
    // Only the fine-tuned branch lives on; the other encoder and the projection heads are freed.
    for (const [key, t] of model.stateDict()) if (!key.startsWith(branch)) t.dispose();
    const encoder = modality === 'audio' ? model.audio_model : model.video_model;
    const geometry = geometryFromConfig(config ?? fallbackVideo, flags['audio-stats'] ? null : audioStats, flags.frontend);
    if (flags['audio-stats']) geometry.audioStats = loadAudioStatsFile(flags['audio-stats'], spectrogramConfigFor(geometry));
    return { encoder, geometry, identity: { checkpoint: flags.checkpoint, model: used, seed } };
  }
  const expected = name === 'audio-conv2d' ? 'audio' : 'video';
  if (expected !== modality) throw new Error(`--model ${name} is a ${expected} encoder but --modality is ${modality}`);
  T.manualSeed(seed);
  const encoder = createModel(name as ModelName, { width }) as unknown as PooledEncoder;
  if (flags.checkpoint !== 'random') {
    if (!existsSync(flags.checkpoint)) throw new Error(`--checkpoint ${flags.checkpoint}: no such file (or pass 'random')`);
    const state = loadModelState(flags.checkpoint);
    const branch = `${modality}_model.`;
    const prefixed = [...state.keys()].some((k) => k.startsWith(branch));
    const own = new Map([...state].filter(([k]) => !prefixed || k.startsWith(branch)).map(([k, t]) => [prefixed ? k.slice(branch.length) : k, t]));
    try {
      encoder.loadStateDict(own, { strict: true });
    } catch (error) {
      encoder.dispose();
      throw new Error(`--checkpoint ${flags.checkpoint}: ${(error as Error).message}`);
    } finally {
      state.forEach((t) => t.dispose());
    }
  }
  const geometry = geometryFromConfig(fallbackVideo, null, flags.frontend);
  if (flags['audio-stats']) geometry.audioStats = loadAudioStatsFile(flags['audio-stats'], spectrogramConfigFor(geometry));
  return { encoder, geometry, identity: { checkpoint: flags.checkpoint, model: name, width, seed } };
}

async function runFinetune(flags: FinetuneFlags): Promise<number> {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const modality = flags.modality as FinetuneModality;
  if (modality !== 'audio' && modality !== 'video') throw new Error(`--modality must be audio or video; got '${flags.modality}'`);
  const seed = Number(flags.seed);
  if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer; got '${flags.seed}'`);
  const number = (text: string, what: string, ok: (v: number) => boolean) => {
    const v = Number(text);
    if (!Number.isFinite(v) || !ok(v)) throw new Error(`${what}: invalid value '${text}'`);
    return v;
  };
  const epochs = positiveInt(flags.epochs, '--epochs');
  const lr = number(flags.lr, '--lr', (v) => v > 0);
  const weightDecay = number(flags['weight-decay'], '--weight-decay', (v) => v >= 0);
  const dropout = number(flags.dropout, '--dropout', (v) => v >= 0 && v < 1);
  const testClips = positiveInt(flags.clips, '--clips');
  const trainClips = positiveInt(flags['train-clips'], '--train-clips');
  const batchSize = positiveInt(flags['batch-size'], '--batch-size');
  if (!existsSync(flags.data) || !statSync(flags.data).isDirectory()) throw new Error(`--data ${flags.data}: not a directory`);
  const labels: LabelSet = flags.labels ? readLabelsCsv(flags.labels) : labelsFromEscDirectory(flags.data);
  const files = labels.entries.map((e) => path.resolve(flags.data, e.file));
  const missing = files.filter((f) => !existsSync(f));
  if (missing.length > 0) throw new Error(`${missing.length} labelled file(s) not found under ${flags.data}, e.g. ${missing.slice(0, 3).join(', ')}`);
  const hasGiven = labels.entries.some((e) => e.split === 'test');
  const splitMode = flags.splits === 'auto' ? (hasGiven ? 'given' : 'folds') : flags.splits;
  if (splitMode !== 'given' && splitMode !== 'folds') throw new Error(`--splits must be auto, folds or given; got '${flags.splits}'`);
  if (splitMode === 'given' && !hasGiven) throw new Error(`--splits given: ${flags.labels ?? flags.data} has no 'split' column marking test files`);
  const testFolds = flags['test-folds'] ? list(flags['test-folds'], '--test-folds') : undefined;
  const splits: FoldSplit[] = splitMode === 'given' ? [givenSplit(labels.entries)] : kFoldSplits(labels.entries, testFolds);
  for (const split of splits) assertNoGroupLeak(labels.entries, split);
  const numClasses = labels.classNames.length;
  const label = labels.entries.map((e) => e.label);
  log(`finetune: ${files.length} ${modality} samples, ${numClasses} classes, ${splitMode === 'given' ? 'the given train/test split' : `held-out folds ${splits.map((s) => s.heldOutFold).join(', ')}`}`);

  // The geometry (and statistics) of the checkpoint decide how the media are decoded, once for all folds.
  const probe = loadFinetuneEncoder(flags, modality, seed);
  probe.encoder.dispose();
  const media = await loadFinetuneMedia(files, modality, probe.geometry, log);
  const saveDir = flags.save ?? path.dirname(flags.out);
  const stem = path.basename(flags.out).replace(/\.json$/, '');
  const folds: (FinetuneResult & { fold: number; trainSamples: number; checkpoint: string })[] = [];
  for (const split of splits) {
    const { encoder } = loadFinetuneEncoder(flags, modality, seed);
    const model = new FinetuneClassifier(encoder, numClasses, { dropout, generator: new T.Generator(seed) });
    // Dropout draws from the default generator: seeded per fold so that a fold can be rerun alone.
    T.manualSeed(seed * 1009 + split.heldOutFold);
    const source = mediaBatchSource(media, label, split.train, split.test, { seed, batchSize, testClips, trainClips, log });
    try {
      log(`finetune: ${splitMode === 'given' ? 'given split' : `fold ${split.heldOutFold}`}: ${split.train.length} training, ${split.test.length} test samples`);
      const r = await finetune(model, source, { epochs, lr, weightDecay, log });
      const checkpoint = path.join(saveDir, `${stem}.${splitMode === 'given' ? 'given' : `fold${split.heldOutFold}`}.safetensors`);
      saveCheckpoint(checkpoint, {
        groups: { model: model.stateDict() },
        scalars: { protocol: 'finetune', modality, heldOutFold: split.heldOutFold, classNames: labels.classNames, encoder: probe.identity, geometry: { ...probe.geometry, audioStats: undefined }, epochs },
      });
      folds.push({ ...r, fold: split.heldOutFold, trainSamples: split.train.length, checkpoint });
      log(`finetune: ${splitMode === 'given' ? 'given split' : `fold ${split.heldOutFold}`}: video@1 ${percent(r.videoAccuracy)}%, clip@1 ${percent(r.clipAccuracy)}% (${r.seconds.toFixed(0)} s); saved ${checkpoint}`);
    } finally {
      await source.close();
      model.dispose();
    }
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const meanVideoAccuracy = mean(folds.map((f) => f.videoAccuracy));
  const meanClipAccuracy = mean(folds.map((f) => f.clipAccuracy));
  writeResultsJson(flags.out, {
    protocol: 'finetune',
    modality,
    data: path.resolve(flags.data),
    labels: flags.labels ? path.resolve(flags.labels) : 'ESC file names',
    classNames: labels.classNames,
    encoder: probe.identity,
    settings: {
      epochs,
      lr,
      milestones: scaledMilestones(epochs),
      gamma: 0.3,
      weightDecay,
      dropout,
      batchSize,
      trainClips,
      testClips,
      splits: splitMode,
      seed,
      geometry: { ...probe.geometry, audioStats: !probe.geometry.audioStats ? null : flags['audio-stats'] ? `statistics of ${path.resolve(flags['audio-stats'])}` : 'checkpoint statistics' },
    },
    results: { meanVideoAccuracy, meanClipAccuracy, folds },
  });
  const rows = folds.map((f) => [splitMode === 'given' ? 'given' : f.fold, percent(f.videoAccuracy), percent(f.clipAccuracy), f.epochs[f.epochs.length - 1].loss.toFixed(3), percent(f.epochs[f.epochs.length - 1].trainAccuracy), Math.round(f.seconds)]);
  rows.push(['mean', percent(meanVideoAccuracy), percent(meanClipAccuracy), '', '', '']);
  console.log(formatTable(['fold', 'video@1 %', 'clip@1 %', 'final train loss', 'final train acc %', 'seconds'], rows, { decimals: 1 }));
  console.log(`\nresults: ${flags.out}`);
  return 0;
}
