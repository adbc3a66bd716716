// What the trainer reads batches from. The media loader implements it for real videos; tests use small
// in-memory sources.
import type { Tensor } from '../tensor/index.js';

export interface TrainBatch {
  /** (B, 3, T, H, W) float32. */
  video: Tensor;
  /** (B, 1, frames, bins) float32. */
  audio: Tensor;
  /** (B) int64 instance indices (memory-bank rows). */
  index: Tensor;
  /** (B, 1, frames, bins): an out-of-sync audio clip per sample (AVTS), when the source provides one. */
  audioNegative?: Tensor;
  /** (B) bool: which negatives are hard (same video, shifted) rather than easy (another video). */
  negativeIsHard?: Tensor;
}

export interface BatchSource {
  /** Number of instances (memory-bank rows). */
  readonly numInstances: number;
  batchesPerEpoch(epoch: number): number;
  /**
   * The batches of `epoch` from batch `startBatch` on (a resumed run starts mid-epoch). Deterministic for a
   * seed. The consumer owns (disposes) each batch's tensors.
   */
  epoch(epoch: number, startBatch: number): AsyncIterable<TrainBatch>;
  /** Asks for a negative audio clip per sample with this share of hard negatives from now on (AVTS). */
  setHardNegativeShare?(share: number): void;
  /** Samples that failed to decode so far, with reasons (never dropped silently). */
  skipped?(): { path: string; reason: string }[];
  close?(): Promise<void>;
}
