// The pre-training loop: batches → embeddings → objective → backward → optimizer → objective update, with
// metrics, progress, atomic checkpoints that resume exactly, NaN protection and clean Ctrl-C.
// Data-parallel training plugs in through `distributed` (rank, world size, gradient all-reduce, gather).
// The run's state and batches live on `device` (checkpoints are written from CPU copies and load onto any
// device); `precision` runs the forward pass under autocast, with dynamic loss scaling for float16.
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { Tensor, tidy, getDefaultGeneratorState, setDefaultGeneratorState, memory, type Device } from '../tensor/index.js';
import type { Optimizer } from '../optim/index.js';
import { clipGradNorm } from '../optim/index.js';
import type { Schedule } from '../optim/schedules.js';
import type { AVModel } from '../models/index.js';
import type { Objective, StepContext } from '../ssl/objective.js';
import { saveCheckpoint, loadCheckpoint, disposeContents } from '../io/checkpoint.js';
import { keepsEpoch, keptCheckpointPath, type KeepCheckpoints } from './kept-checkpoints.js';
import type { BatchSource } from './batch-source.js';
import { Progress } from './progress.js';
import { batchToDevice, moveTrainingState_ } from './device-transfer.js';
import { withAutocast, checkPrecision, needsGradScaling, type Precision } from './mixed-precision.js';
import { GradScaler, type GradScalerState } from './grad-scaler.js';

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
}

export interface TrainResult {
  status: 'completed' | 'interrupted' | 'max-steps';
  epoch: number;
  step: number;
  losses: number[];
  checkpoint: string;
}

export class NonFiniteLossError extends Error {}

export class Trainer {
  epoch = 0;
  step = 0;
  stepInEpoch = 0;
  private interrupted = false;
  readonly checkpointPath: string;
  readonly metricsPath: string;
  private readonly rank: number;
  readonly device: Device;
  readonly precision: Precision;
  readonly gradScaler: GradScaler | null;
  private gradientSync: { backward(loss: Tensor): void; close(): void } | null = null;

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
    this.metricsPath = path.join(options.runDir, 'metrics.jsonl');
    if (this.rank === 0) mkdirSync(path.dirname(this.checkpointPath), { recursive: true });
  }

  private context(): StepContext {
    const gather = this.options.distributed ? (t: Tensor) => this.options.distributed!.allGather(t) : (t: Tensor) => t.alias();
    const d = this.options.distributed;
    return { seed: this.options.seed, epoch: this.epoch, step: this.step, gather, rank: d?.rank ?? 0, worldSize: d?.worldSize ?? 1, allReduceMean: d ? (v: number) => d.allReduceMean(v) : undefined };
  }

  private log(record: Record<string, unknown>): void {
    if (this.rank === 0) appendFileSync(this.metricsPath, `${JSON.stringify(record)}\n`);
  }

  /** Runs from the current position to the last epoch (or until interrupted / maxSteps). */
  async run(): Promise<TrainResult> {
    const o = this.options;
    const losses: number[] = [];
    const onSigint = () => {
      if (this.interrupted) process.exit(130);
      this.interrupted = true;
      process.stderr.write('\ninterrupt: finishing this step, saving a checkpoint (Ctrl-C again to quit at once)\n');
    };
    process.on('SIGINT', onSigint);
    const started = Date.now();
    const worldSize = o.distributed?.worldSize ?? 1;
    try {
      if (this.step === 0) this.keepCheckpoint(); // epoch 0: the initial weights
      while (this.epoch < o.epochs) {
        this.objective.beforeEpoch?.(this.epoch);
        if (this.options.hardNegativeShare) this.data.setHardNegativeShare?.(this.options.hardNegativeShare(this.epoch));
        const perEpoch = this.data.batchesPerEpoch(this.epoch);
        const progress = o.progress === null ? null : new Progress(`epoch ${this.epoch + 1}/${o.epochs}`, perEpoch, o.progress ?? process.stderr);
        let windowStart = Date.now();
        let windowClips = 0;
        const epochStart = Date.now();
        const firstStepInEpoch = this.stepInEpoch;
        for await (const batch of this.data.epoch(this.epoch, this.stepInEpoch)) {
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
            for (const b of [onDevice, batch]) for (const t of [b.video, b.audio, b.index, b.audioNegative, b.negativeIsHard]) t?.dispose();
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
          if (this.step % o.checkpointEvery === 0) this.saveCheckpoint();
          if (this.interrupted) {
            this.saveCheckpoint();
            progress?.done();
            return { status: 'interrupted', epoch: this.epoch, step: this.step, losses, checkpoint: this.checkpointPath };
          }
          if (o.maxSteps !== undefined && this.step >= o.maxSteps) {
            progress?.done();
            return { status: 'max-steps', epoch: this.epoch, step: this.step, losses, checkpoint: this.checkpointPath };
          }
        }
        progress?.done();
        const skipped = this.data.skipped?.().length ?? 0;
        const epochLosses = losses.slice(-this.stepInEpoch);
        this.log({ kind: 'epoch', epoch: this.epoch, loss: epochLosses.reduce((a, b) => a + b, 0) / Math.max(epochLosses.length, 1), steps: this.stepInEpoch, skipped, liveTensors: memory().liveTensors, rssMB: Math.round(process.memoryUsage().rss / 2 ** 20) });
        this.epoch += 1;
        this.stepInEpoch = 0;
        await o.onEpochEnd?.(this.epoch - 1);
        this.saveCheckpoint();
        this.keepCheckpoint();
      }
      return { status: 'completed', epoch: this.epoch, step: this.step, losses, checkpoint: this.checkpointPath };
    } finally {
      process.off('SIGINT', onSigint);
    }
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
        throw new NonFiniteLossError(
          `loss is ${value} at epoch ${this.epoch}, step ${this.step} (terms ${JSON.stringify(terms)}); training stopped. ` +
            `The last good checkpoint is ${this.checkpointPath}.`,
        );
      }
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

  saveCheckpoint(file = this.checkpointPath): void {
    if (this.rank !== 0) return;
    tidy(() => {
      const optimizerState = this.optimizer.stateDict();
      const objectiveState = this.objective.state();
      saveCheckpoint(file, {
        groups: {
          model: this.model.stateDict(),
          optimizer: optimizerState.tensors,
          objective: objectiveState.tensors,
          rng: new Map([['default', getDefaultGeneratorState()]]),
        },
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
      const s = contents.scalars as { epoch: number; step: number; stepInEpoch: number; optimizer: never; objective: Record<string, unknown>; gradScaler?: GradScalerState };
      this.model.loadStateDict(contents.groups.model ?? new Map());
      this.optimizer.loadStateDict({ tensors: contents.groups.optimizer ?? new Map(), scalars: s.optimizer });
      this.objective.loadState({ tensors: contents.groups.objective ?? new Map(), scalars: s.objective ?? {} });
      const rng = contents.groups.rng?.get('default');
      if (rng) setDefaultGeneratorState(rng);
      if (this.gradScaler && s.gradScaler) this.gradScaler.loadState(s.gradScaler);
      this.epoch = s.epoch;
      this.step = s.step;
      this.stepInEpoch = s.stepInEpoch;
    } finally {
      disposeContents(contents);
    }
  }
}
