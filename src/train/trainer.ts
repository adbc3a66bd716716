// The pre-training loop: batches → embeddings → objective → backward → optimizer → objective update, with
// metrics, progress, atomic checkpoints that resume exactly, NaN protection and clean Ctrl-C.
// Data-parallel training plugs in through `distributed` (rank, world size, gradient all-reduce, gather).
// The run's state and batches live on `device` (checkpoints are written from CPU copies and load onto any
// device); `precision` runs the forward pass under autocast, with dynamic loss scaling for float16.
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Tensor, tidy, getDefaultGeneratorState, setDefaultGeneratorState, memory, type Device } from '../tensor/index.js';
import type { Optimizer } from '../optim/index.js';
import { clipGradNorm } from '../optim/index.js';
import type { Schedule } from '../optim/schedules.js';
import type { AVModel } from '../models/index.js';
import type { Objective, StepContext } from '../ssl/objective.js';
import { saveCheckpoint, loadCheckpoint, disposeContents } from '../io/checkpoint.js';
import { writeFileAtomic, renameDurably, removeStaleTemporaries } from '../io/atomic.js';
import { keepsEpoch, keptCheckpointPath, type KeepCheckpoints } from './kept-checkpoints.js';
import type { BatchSource, TrainBatch } from './batch-source.js';
import { Progress } from './progress.js';
import { risingLossWarning } from './loss-trend.js';
import { batchToDevice, moveTrainingState_ } from './device-transfer.js';
import { withAutocast, checkPrecision, needsGradScaling, type Precision } from './mixed-precision.js';
import { GradScaler, type GradScalerState } from './grad-scaler.js';
import { EventFileWriter } from '../io/tensorboard/event-file.js';
import { metricScalars, TENSORBOARD_DIR } from '../io/tensorboard/metric-scalars.js';

export interface Distributed {
  rank: number;
  worldSize: number;
  /** Averages gradients across ranks (after backward, before the optimizer step). */
  allReduceGradients(params: Tensor[]): void;
  /** Concatenates a tensor from every rank along dim 0 (same order on every rank). */
  allGather(t: Tensor): Tensor;
  /** Mean of a number over ranks. */
  allReduceMean(value: number): number;
  /**
   * Averages gradients during backward instead of after it (the exchange overlaps the computation); every
   * parameter must then get a gradient in every step.
   */
  overlapGradients?(params: Tensor[]): { backward(loss: Tensor): void; close(): void };
}

export interface TrainerOptions {
  runDir: string;
  seed: number;
  epochs: number;
  /** Learning-rate factor as a function of the (fractional) epoch. */
  schedule: Schedule;
  checkpointEvery: number;
  /** Epochs whose checkpoints are kept beside last (see kept-checkpoints.ts). */
  keepCheckpoints?: KeepCheckpoints;
  logEvery: number;
  /** Warn (stderr and a 'warning' record) when the epoch's mean loss has risen this many epochs in a row (default 5; 0: never). */
  warnRisingLossEpochs?: number;
  clipGradNorm?: number;
  /** Stops the run when the data source has skipped more than this many samples. */
  maxSkipped?: number;
  /** Everything else to store in checkpoints (the config, for example). */
  extraScalars?: Record<string, unknown>;
  distributed?: Distributed;
  /** Called after each epoch (evaluation hooks, re-mining). */
  onEpochEnd?: (epoch: number) => void | Promise<void>;
  /** Progress output (default stderr); null silences it. */
  progress?: NodeJS.WriteStream | null;
  /** The share of hard negatives the data source should provide at an epoch (AVTS curriculum). */
  hardNegativeShare?: (epoch: number) => number;
  /** Stop after this many optimizer steps in total (tests and the resume check). */
  maxSteps?: number;
  /** Data-parallel runs: average gradients during backward when the transport can (default true). */
  overlapGradientSync?: boolean;
  /** Where the model, optimizer state, memory banks and batches live (default 'cpu'; see resolveDevice). */
  device?: Device;
  /** Forward pass under autocast: 'fp16' (CUDA only), 'bf16', or 'fp32' (default, no autocast). */
  precision?: Precision;
  /**
   * Dynamic loss scaling: by default a GradScaler for fp16 and none otherwise; pass one to scale at any
   * precision, or null for none.
   */
  gradScaler?: GradScaler | null;
  /** Also write every metrics record as TensorBoard scalars to <runDir>/tensorboard/ (rank 0). */
  tensorboard?: boolean;
}

export interface TrainResult {
  status: 'completed' | 'interrupted' | 'max-steps';
  epoch: number;
  step: number;
  losses: number[];
  checkpoint: string;
}

export class NonFiniteLossError extends Error {}
/** A checkpoint would have held non-finite parameters, optimizer state or memory banks: it was not written. */
export class NonFiniteStateError extends Error {}

/** Lets pending events (a SIGINT above all) run between steps: some batch sources never yield on their own. */
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The first floating-point tensor of the groups that holds a NaN or an infinity, as 'group.key'; null if none. */
function firstNonFinite(groups: Record<string, Map<string, Tensor>>): string | null {
  for (const [group, tensors] of Object.entries(groups)) {
    for (const [key, t] of tensors) {
      if (!['float32', 'float64', 'float16', 'bfloat16'].includes(t.dtype)) continue;
      if (!tidy(() => t.isfinite().all().item())) return `${group}.${key}`;
    }
  }
  return null;
}

interface ResumeScalars {
  epoch: number;
  step: number;
  stepInEpoch: number;
  optimizer: { step: number; groups: { lr: number; baseLr: number }[] };
  objective: Record<string, unknown>;
  gradScaler?: GradScalerState;
}

/** The position and states a checkpoint must hold to resume from, checked; errors name the file and the key. */
function resumeScalars(scalars: Record<string, unknown>, file: string): ResumeScalars {
  const fail = (what: string): never => {
    throw new Error(`cannot resume from ${file}: ${what} (not a training checkpoint, or a damaged one)`);
  };
  for (const key of ['epoch', 'step', 'stepInEpoch']) {
    const v = scalars[key];
    if (!Number.isSafeInteger(v) || (v as number) < 0) fail(`scalars.${key} is ${JSON.stringify(v) ?? 'missing'}, expected a non-negative integer`);
  }
  const optimizer = scalars.optimizer as ResumeScalars['optimizer'] | undefined;
  if (optimizer === null || typeof optimizer !== 'object' || !Number.isSafeInteger(optimizer.step) || !Array.isArray(optimizer.groups)) fail(`scalars.optimizer is ${JSON.stringify(optimizer) ?? 'missing'}, expected { step, groups }`);
  for (const [i, g] of optimizer!.groups.entries()) {
    if (g === null || typeof g !== 'object' || !Number.isFinite(g.lr) || !Number.isFinite(g.baseLr)) fail(`scalars.optimizer.groups[${i}] is ${JSON.stringify(g)}, expected finite lr and baseLr`);
  }
  const objective = scalars.objective ?? {};
  if (objective === null || typeof objective !== 'object' || Array.isArray(objective)) fail(`scalars.objective is ${JSON.stringify(objective)}, expected an object`);
  return { ...(scalars as unknown as ResumeScalars), objective: objective as Record<string, unknown> };
}

function disposeBatch(batch: { video?: Tensor; audio?: Tensor; index?: Tensor; audioNegative?: Tensor; negativeIsHard?: Tensor }): void {
  for (const t of [batch.video, batch.audio, batch.index, batch.audioNegative, batch.negativeIsHard]) t?.dispose();
}

export class Trainer {
  epoch = 0;
  step = 0;
  stepInEpoch = 0;
  private interrupted = false;
  /** Ends the wait for the next batch when a SIGINT arrives. */
  private wakeOnInterrupt: (() => void) | null = null;
  readonly checkpointPath: string;
  /**
   * Where checkpoints wait until the next step's loss shows that their weights still train: a diverging
   * update can leave finite but useless weights (1e30 after an lr of 1e30), so a checkpoint written right
   * after it would be "last good" in name only. Promoted to checkpointPath by the next finite loss.
   */
  readonly pendingCheckpointPath: string;
  /** The step of the checkpoint at checkpointPath (null: none yet). */
  private lastGoodStep: number | null = null;
  private pendingStep: number | null = null;
  readonly metricsPath: string;
  private readonly rank: number;
  readonly device: Device;
  readonly precision: Precision;
  readonly gradScaler: GradScaler | null;
  private gradientSync: { backward(loss: Tensor): void; close(): void } | null = null;
  /** Mean losses of the epochs this process trained, from epoch `epochLossesFrom` on (for the rising-loss warning). */
  private readonly epochLosses: number[] = [];
  private epochLossesFrom: number | null = null;
  /** TensorBoard's copy of metrics.jsonl (train.tensorboard), opened on the first record. */
  private events: EventFileWriter | null = null;

  constructor(
    readonly model: AVModel,
    readonly objective: Objective,
    readonly optimizer: Optimizer<object>,
    readonly data: BatchSource,
    readonly options: TrainerOptions,
  ) {
    this.rank = options.distributed?.rank ?? 0;
    this.device = options.device ?? 'cpu';
    this.precision = checkPrecision(options.precision ?? 'fp32', this.device);
    this.gradScaler = options.gradScaler !== undefined ? options.gradScaler : needsGradScaling(this.precision) ? new GradScaler() : null;
    // Built on the CPU, moved in place: the optimizer and the objective keep their tensors' handles.
    if (this.device !== 'cpu') moveTrainingState_(this.device, { model, optimizer, objective });
    // After the move: the exchange's buckets are views of the parameters' gradients on their device.
    if (options.overlapGradientSync !== false && options.distributed?.overlapGradients) this.gradientSync = options.distributed.overlapGradients(model.parameters());
    this.checkpointPath = path.join(options.runDir, 'checkpoints', 'last.safetensors');
    this.pendingCheckpointPath = path.join(options.runDir, 'checkpoints', 'pending.safetensors');
    this.metricsPath = path.join(options.runDir, 'metrics.jsonl');
    if (this.rank === 0) {
      mkdirSync(path.dirname(this.checkpointPath), { recursive: true });
      // Left by a run killed mid-write: temporary files (possibly gigabytes) and an unconfirmed checkpoint.
      for (const dir of [options.runDir, path.dirname(this.checkpointPath)]) removeStaleTemporaries(dir);
      rmSync(this.pendingCheckpointPath, { force: true });
      if (existsSync(this.checkpointPath)) this.lastGoodStep = -1; // an earlier run's: its step is read on restore
    }
  }

  private context(): StepContext {
    const gather = this.options.distributed ? (t: Tensor) => this.options.distributed!.allGather(t) : (t: Tensor) => t.alias();
    const d = this.options.distributed;
    return { seed: this.options.seed, epoch: this.epoch, step: this.step, gather, rank: d?.rank ?? 0, worldSize: d?.worldSize ?? 1, allReduceMean: d ? (v: number) => d.allReduceMean(v) : undefined };
  }

  private log(record: Record<string, unknown>): void {
    if (this.rank === 0) appendFileSync(this.metricsPath, `${JSON.stringify(record)}\n`);
    if (this.rank === 0 && this.options.tensorboard) {
      const event = metricScalars(record);
      if (event) (this.events ??= new EventFileWriter(path.join(this.options.runDir, TENSORBOARD_DIR))).scalars(event.step, event.scalars);
    }
  }

  /**
   * Runs from the current position to the last epoch (or until interrupted / maxSteps).
   *
   * Ctrl-C: the first SIGINT lets the step in progress finish, writes the checkpoint and returns
   * 'interrupted' (the CLI exits 130); a second one exits at once. The trainer never depends on the data
   * source surviving the signal (a terminal's Ctrl-C reaches every process of the group, ffprobe included,
   * and decodes in flight on native threads are cancelled when the epoch is left): after the signal it
   * takes no further batch, and a batch that failed because of the signal is not an error.
   */
  async run(): Promise<TrainResult> {
    const o = this.options;
    const losses: number[] = [];
    const onSigint = () => {
      if (this.interrupted) {
        process.stderr.write('\ninterrupt: quitting now, without a checkpoint of this step\n');
        process.exit(130);
      }
      this.interrupted = true;
      this.wakeOnInterrupt?.();
      process.stderr.write('\ninterrupt: finishing this step, saving a checkpoint (Ctrl-C again to quit at once)\n');
    };
    process.on('SIGINT', onSigint);
    const started = Date.now();
    const worldSize = o.distributed?.worldSize ?? 1;
    const distributed = worldSize > 1;
    const stopInterrupted = (progress: Progress | null): TrainResult => {
      this.saveCheckpoint();
      progress?.done();
      process.stderr.write(`interrupted at epoch ${this.epoch}, step ${this.step}; resume with: avid pretrain --resume ${o.runDir}\n`);
      return { status: 'interrupted', epoch: this.epoch, step: this.step, losses, checkpoint: this.checkpointPath };
    };
    try {
      // A run is resumable from its first step: a failure (or Ctrl-C) in the first steps has a checkpoint to name.
      if (this.lastGoodStep === null && this.step === 0 && this.epoch === 0 && this.stepInEpoch === 0) this.saveCheckpoint();
      if (this.step === 0) this.keepCheckpoint(); // epoch 0: the initial weights
      while (this.epoch < o.epochs) {
        if (await this.stopRequested()) return stopInterrupted(null);
        this.objective.beforeEpoch?.(this.epoch);
        if (this.options.hardNegativeShare) this.data.setHardNegativeShare?.(this.options.hardNegativeShare(this.epoch));
        const perEpoch = this.data.batchesPerEpoch(this.epoch);
        const progress = o.progress === null ? null : new Progress(`epoch ${this.epoch + 1}/${o.epochs}`, perEpoch, o.progress ?? process.stderr);
        let windowStart = Date.now();
        let windowClips = 0;
        const epochStart = Date.now();
        const firstStepInEpoch = this.stepInEpoch;
        const batches = this.data.epoch(this.epoch, this.stepInEpoch)[Symbol.asyncIterator]();
        // Set when the loop leaves a batch request unanswered: the generator is busy, so return() would wait for it.
        let abandoned = false;
        try {
          for (;;) {
            // Waiting for a batch (decoding, most of a real run's time) ends at a signal: the run stops
            // without that batch, and the source's owner closes it (which cancels the decodes).
            const pending = batches.next();
            let next: IteratorResult<TrainBatch> | 'interrupted';
            try {
              // Data-parallel ranks must stop at the same step: they decide together after each step instead.
              next = distributed ? await pending : await Promise.race([pending, new Promise<'interrupted'>((resolve) => (this.wakeOnInterrupt = () => resolve('interrupted')))]);
            } catch (error) {
              // The signal may have stopped the decoders under the batch being assembled.
              if (this.interrupted && !distributed) return stopInterrupted(progress);
              throw error;
            } finally {
              this.wakeOnInterrupt = null;
            }
            if (next === 'interrupted') {
              abandoned = true;
              pending.then((late) => !late.done && disposeBatch(late.value), () => undefined);
              return stopInterrupted(progress);
            }
            if (next.done) break;
            const batch = next.value;
            // A signal that arrived with this batch is handled before the step, and the batch is not used:
            // it may have been assembled from decodes the signal cut short.
            await yieldToEventLoop();
            if (this.interrupted && !distributed) {
              disposeBatch(batch);
              return stopInterrupted(progress);
            }
            const batchSize = batch.index.size(0);
            const lrScale = o.schedule(this.epoch + this.stepInEpoch / perEpoch);
            this.optimizer.setLrScale(lrScale);
            let result: { loss: number; terms: Record<string, number> };
            let onDevice = batch;
            try {
              onDevice = batchToDevice(batch, this.device);
              result = this.trainStep(onDevice.video, onDevice.audio, onDevice.index, onDevice.audioNegative);
            } finally {
              // Both sets: the copies, and whatever was not moved (dispose is idempotent).
              disposeBatch(onDevice);
              disposeBatch(batch);
            }
            losses.push(result.loss);
            this.step += 1;
            this.stepInEpoch += 1;
            windowClips += batchSize * worldSize;
            const lr = this.optimizer.groups[0].lr;
            if (this.step % o.logEvery === 0 || this.stepInEpoch === perEpoch) {
              const seconds = (Date.now() - windowStart) / 1000;
              const scaling = this.gradScaler ? { gradScale: this.gradScaler.scale, skippedSteps: this.gradScaler.skippedSteps } : {};
              this.log({ kind: 'train', step: this.step, epoch: this.epoch, loss: result.loss, lr, clipsPerSec: windowClips / Math.max(seconds, 1e-9), time: (Date.now() - started) / 1000, ...result.terms, ...scaling });
              windowStart = Date.now();
              windowClips = 0;
            }
            const epochSeconds = (Date.now() - epochStart) / 1000;
            progress?.update(this.stepInEpoch, { loss: result.loss, lr, 'clips/s': (batchSize * worldSize * (this.stepInEpoch - firstStepInEpoch)) / Math.max(epochSeconds, 1e-9) });
            const skipped = this.data.skipped?.() ?? [];
            if (o.maxSkipped !== undefined && skipped.length > o.maxSkipped) {
              throw new Error(`${skipped.length} samples failed to decode (more than the allowed ${o.maxSkipped}): ${skipped.slice(0, 5).map((s) => `${s.path} (${s.reason})`).join(', ')}${skipped.length > 5 ? ', ...' : ''}`);
            }
            const last = o.maxSteps !== undefined && this.step >= o.maxSteps;
            // The last checkpoint of a run has no next step to confirm it: it is written in place.
            if (this.step % o.checkpointEvery === 0 && !last) this.savePendingCheckpoint();
            if (last) {
              this.saveCheckpoint();
              progress?.done();
              return { status: 'max-steps', epoch: this.epoch, step: this.step, losses, checkpoint: this.checkpointPath };
            }
            if (await this.stopRequested()) return stopInterrupted(progress);
          }
        } finally {
          // Stops the source's work for this epoch (prefetched decodes) whether the loop ended or broke off.
          if (!abandoned) await batches.return?.();
        }
        if (this.stepInEpoch === 0 && perEpoch === 0) {
          throw new Error(`epoch ${this.epoch} has no batch: the data source yields ${perEpoch} full batches per epoch (is the batch size larger than the dataset?)`);
        }
        progress?.done();
        const skipped = this.data.skipped?.().length ?? 0;
        const epochLosses = losses.slice(-this.stepInEpoch);
        const epochLoss = epochLosses.reduce((a, b) => a + b, 0) / Math.max(epochLosses.length, 1);
        this.log({ kind: 'epoch', epoch: this.epoch, loss: epochLoss, steps: this.stepInEpoch, skipped, liveTensors: memory().liveTensors, rssMB: Math.round(process.memoryUsage().rss / 2 ** 20) });
        if (firstStepInEpoch === 0) this.checkLossTrend(epochLoss);
        this.epoch += 1;
        this.stepInEpoch = 0;
        await o.onEpochEnd?.(this.epoch - 1);
        if (this.epoch < o.epochs) this.savePendingCheckpoint();
        else this.saveCheckpoint();
        this.keepCheckpoint();
      }
      return { status: 'completed', epoch: this.epoch, step: this.step, losses, checkpoint: this.checkpointPath };
    } finally {
      process.off('SIGINT', onSigint);
    }
  }

  /**
   * Whether to stop now for a SIGINT. Lets pending events (the signal) run first. Data-parallel ranks decide
   * together (any rank interrupted stops all), so that none is left waiting in a collective for the others.
   */
  private async stopRequested(): Promise<boolean> {
    await yieldToEventLoop();
    const d = this.options.distributed;
    if (!d || d.worldSize <= 1) return this.interrupted;
    return d.allReduceMean(this.interrupted ? 1 : 0) > 0;
  }

  /**
   * One optimizer step (skipped, with the scale halved, when loss scaling finds inf/NaN gradients); returns
   * the loss and its terms. Leaves the live-tensor count unchanged. The media tensors must be on the
   * trainer's device; `index` may stay on the CPU.
   */
  trainStep(video: Tensor, audio: Tensor, index: Tensor, audioNegative?: Tensor): { loss: number; terms: Record<string, number> } {
    const o = this.options;
    return tidy(() => {
      this.optimizer.zeroGrad();
      // Only the encoders run under autocast; their unit-norm embeddings return to float32, so that the
      // objective (logits divided by τ = 0.07, memory banks) computes in full precision.
      const { embeddings, negative } = withAutocast(this.device, this.precision, () => ({
        embeddings: this.model.forward(video, audio),
        negative: audioNegative ? this.model.embedAudio(audioNegative) : undefined,
      }));
      if (this.precision !== 'fp32') {
        embeddings.video = embeddings.video.float();
        embeddings.audio = embeddings.audio.float();
      }
      const ctx = this.context();
      const { loss, terms } = this.objective.loss({ ...embeddings, index, audioNegative: negative?.float() }, ctx);
      const value = loss.item();
      if (!Number.isFinite(value)) {
        this.discardPendingCheckpoint();
        throw new NonFiniteLossError(
          `loss is ${value} at epoch ${this.epoch}, step ${this.step} (terms ${JSON.stringify(terms)}); training stopped. ` + this.lastGoodDescription(),
        );
      }
      // This step's weights gave a finite loss: the checkpoint written after the previous update is good.
      this.promotePendingCheckpoint();
      const scaled = this.gradScaler ? this.gradScaler.scaleLoss(loss) : loss;
      // The objective's own parameters (a learned temperature) are updated, clipped and averaged like the model's.
      const objectiveParams = this.objective.parameters?.() ?? [];
      const params = [...this.model.parameters(), ...objectiveParams];
      // After the exchange every rank holds the same gradients, so loss scaling skips a step on all or none.
      if (this.gradientSync) {
        this.gradientSync.backward(scaled);
        if (objectiveParams.length > 0) o.distributed?.allReduceGradients(objectiveParams);
      } else {
        scaled.backward();
        o.distributed?.allReduceGradients(params);
      }
      const optimizerStep = () => {
        if (o.clipGradNorm) clipGradNorm(params, o.clipGradNorm);
        this.optimizer.update();
      };
      if (this.gradScaler) this.gradScaler.step(params, optimizerStep);
      else optimizerStep();
      // The memory banks take this step's embeddings even when the update was skipped: the forward pass and
      // its loss were finite, only the scaled gradients overflowed.
      this.objective.afterStep({ video: embeddings.video.detach(), audio: embeddings.audio.detach(), index }, ctx);
      return { loss: value, terms };
    });
  }

  /** Records the epoch's mean loss and warns once when it has climbed for a whole window of epochs. */
  private checkLossTrend(epochLoss: number): void {
    // Only whole epochs count (the caller skips one resumed mid-way: its mean covers its last steps only).
    this.epochLossesFrom ??= this.epoch;
    this.epochLosses.push(epochLoss);
    const warning = risingLossWarning(this.epochLosses, this.options.warnRisingLossEpochs ?? 5, this.epochLossesFrom);
    if (warning === null || this.rank !== 0) return;
    process.stderr.write(`\n${warning}\n`);
    this.log({ kind: 'warning', epoch: this.epoch, reason: 'rising-loss', message: warning });
  }

  /** Removes the gradient-exchange hooks of a data-parallel run (the model, optimizer and objective stay the caller's). */
  close(): void {
    this.gradientSync?.close();
    this.gradientSync = null;
  }

  /** A copy of the state after `this.epoch` epochs, when train.keepCheckpoints asks for that epoch. */
  private keepCheckpoint(): void {
    const keep = this.options.keepCheckpoints;
    if (keep && keepsEpoch(keep, this.epoch)) this.saveCheckpoint(keptCheckpointPath(this.options.runDir, this.epoch));
  }

  /** Writes the checkpoint in place (the run's last one, an interrupt, or an explicit file); replaces any pending one. */
  saveCheckpoint(file = this.checkpointPath): void {
    if (this.rank !== 0) return;
    this.writeCheckpoint(file);
    if (file === this.checkpointPath) {
      this.lastGoodStep = this.step;
      this.discardPendingCheckpoint();
    }
  }

  /** Writes the checkpoint beside the last good one; the next finite loss promotes it (see pendingCheckpointPath). */
  savePendingCheckpoint(): void {
    if (this.rank !== 0) return;
    this.writeCheckpoint(this.pendingCheckpointPath);
    this.pendingStep = this.step;
  }

  private promotePendingCheckpoint(): void {
    if (this.pendingStep === null) return;
    renameDurably(this.pendingCheckpointPath, this.checkpointPath);
    this.lastGoodStep = this.pendingStep;
    this.pendingStep = null;
  }

  private discardPendingCheckpoint(): void {
    if (this.rank !== 0) return;
    rmSync(this.pendingCheckpointPath, { force: true });
    this.pendingStep = null;
  }

  /** The sentence of an error message that says which checkpoint to resume from. */
  private lastGoodDescription(): string {
    if (this.rank !== 0) return 'Rank 0 names the last good checkpoint.';
    if (this.lastGoodStep === null || !existsSync(this.checkpointPath)) return 'No checkpoint was written.';
    const at = this.lastGoodStep >= 0 ? ` (step ${this.lastGoodStep}, written before the update that produced this)` : '';
    return `The last good checkpoint is ${this.checkpointPath}${at}; resume from it with a lower optim.lr: avid pretrain --resume ${this.options.runDir} --set optim.lr=...`;
  }

  private writeCheckpoint(file: string): void {
    tidy(() => {
      const optimizerState = this.optimizer.stateDict();
      const objectiveState = this.objective.state();
      const groups = {
        model: this.model.stateDict(),
        optimizer: optimizerState.tensors,
        objective: objectiveState.tensors,
        rng: new Map([['default', getDefaultGeneratorState()]]),
      };
      const bad = firstNonFinite(groups);
      if (bad) {
        throw new NonFiniteStateError(`${bad} holds non-finite values at epoch ${this.epoch}, step ${this.step}: the checkpoint ${file} was not written. ${this.lastGoodDescription()}`);
      }
      saveCheckpoint(file, {
        groups,
        scalars: {
          epoch: this.epoch,
          step: this.step,
          stepInEpoch: this.stepInEpoch,
          optimizer: optimizerState.scalars,
          objective: objectiveState.scalars,
          objectiveName: this.objective.name,
          ...(this.gradScaler ? { gradScaler: this.gradScaler.state() } : {}),
          ...this.options.extraScalars,
        },
      });
    });
  }

  /** Restores everything a checkpoint holds; the run continues exactly where it stopped. */
  restore(file: string): void {
    const contents = loadCheckpoint(file);
    try {
      const s = resumeScalars(contents.scalars, file);
      this.model.loadStateDict(contents.groups.model ?? new Map());
      this.optimizer.loadStateDict({ tensors: contents.groups.optimizer ?? new Map(), scalars: s.optimizer });
      this.objective.loadState({ tensors: contents.groups.objective ?? new Map(), scalars: s.objective ?? {} });
      const rng = contents.groups.rng?.get('default');
      if (rng) setDefaultGeneratorState(rng);
      if (this.gradScaler && s.gradScaler) this.gradScaler.loadState(s.gradScaler);
      this.epoch = s.epoch;
      this.step = s.step;
      this.stepInEpoch = s.stepInEpoch;
      if (file === this.checkpointPath) this.lastGoodStep = s.step;
    } finally {
      disposeContents(contents);
    }
  }

  /**
   * Marks the resumption in metrics.jsonl: the records the stopped run logged after the checkpoint's step
   * are dropped (this run logs those steps again, so each step keeps one record), and a 'resume' record
   * notes the step and `details` (the config keys changed on resume, for example).
   */
  recordResume(details: Record<string, unknown> = {}): void {
    if (this.rank !== 0) return;
    let dropped = 0;
    if (existsSync(this.metricsPath)) {
      const text = readFileSync(this.metricsPath, 'utf8');
      const kept: string[] = [];
      for (const line of text.split('\n')) {
        if (line.trim() === '') continue;
        let record: { kind?: unknown; step?: unknown; epoch?: unknown; steps?: unknown } | null = null;
        try {
          record = JSON.parse(line);
        } catch {
          // a line cut off by a kill: it belongs to a step that is replayed
          dropped++;
          continue;
        }
        const replayed =
          (record?.kind === 'train' && typeof record.step === 'number' && record.step > this.step) ||
          // the trainer's own end-of-epoch records (they have `steps`); others' epoch records stay
          (record?.kind === 'epoch' && record.steps !== undefined && typeof record.epoch === 'number' && record.epoch >= this.epoch);
        if (replayed) dropped++;
        else kept.push(line);
      }
      if (dropped) writeFileAtomic(this.metricsPath, kept.map((l) => `${l}\n`).join(''));
    }
    this.log({ kind: 'resume', step: this.step, epoch: this.epoch, droppedRecords: dropped, ...details });
  }
}
