// What a self-supervised objective looks like to the trainer: a loss on a batch's embeddings, an update of
// its own state after the optimizer step (memory banks), and state for checkpoints.
import type { Tensor } from '../tensor/index.js';

export interface EmbeddedBatch {
  /** (B, D) unit-norm video embeddings (with grad in `loss`, detached in `afterStep`). */
  video: Tensor;
  /** (B, D) unit-norm audio embeddings. */
  audio: Tensor;
  /** (B) int64 instance indices (manifest rows). */
  index: Tensor;
  /** (B, D) embeddings of each sample's negative (out-of-sync) audio, for synchronisation objectives. */
  audioNegative?: Tensor;
}

export interface StepContext {
  seed: number;
  epoch: number;
  /** Global optimizer step (0-based) of this batch. */
  step: number;
  /** All-gathers a tensor along dim 0 across data-parallel ranks (identity in a single process). */
  gather(t: Tensor): Tensor;
  /** This process's share of the global batch: rows [rank·B, (rank+1)·B) of every per-step random draw. */
  rank?: number;
  worldSize?: number;
  /** Mean of a number over ranks (identity in a single process). */
  allReduceMean?(value: number): number;
}

export interface ObjectiveOutput {
  loss: Tensor;
  /** Named loss terms for logging (detached scalars). */
  terms: Record<string, number>;
}

export interface ObjectiveState {
  tensors: Map<string, Tensor>;
  scalars: Record<string, unknown>;
}

export interface Objective {
  readonly name: string;
  /** Called before each epoch (0-based), e.g. to re-mine CMA positives. */
  beforeEpoch?(epoch: number): void;
  loss(batch: EmbeddedBatch, ctx: StepContext): ObjectiveOutput;
  /**
   * The objective's own learnable tensors (a learned temperature), if any: the optimizer updates them with
   * the model's parameters (without weight decay), and data-parallel runs average their gradients too.
   */
  parameters?(): Tensor[];
  afterStep(batch: EmbeddedBatch, ctx: StepContext): void;
  state(): ObjectiveState;
  loadState(state: ObjectiveState): void;
  dispose(): void;
}
