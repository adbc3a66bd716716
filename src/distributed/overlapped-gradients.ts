// Gradient averaging overlapped with backward, through libtorch's c10d::Reducer (the engine of PyTorch's
// DistributedDataParallel): hooks on the parameters' gradient accumulators start each bucket's asynchronous
// all-reduce as soon as backward has produced all of its gradients, so communication for the last layers
// runs while backward still computes the first ones. When backward() returns, every parameter's gradient is
// the mean over the ranks, exactly as allReduceGradients would leave it.
//
// Unlike allReduceGradients, every parameter must receive a gradient in every step (there is no zero-fill:
// the Reducer would wait for the missing one and the next step fails naming the problem).
import { native } from '../tensor/native.js';
import type { Tensor } from '../tensor/tensor.js';
import { DEFAULT_BUCKET_BYTES } from './collectives.js';

/** PyTorch DDP's first bucket: small, so that the first exchange starts early in backward. */
export const DEFAULT_FIRST_BUCKET_BYTES = 1024 * 1024;

export interface OverlappedGradientsOptions {
  bucketBytes?: number;
  firstBucketBytes?: number;
}

export class OverlappedGradients {
  private handle: unknown;

  /** `params` (all requiring grad, same order on every rank); needs an initialised process group. */
  constructor(params: Tensor[], options: OverlappedGradientsOptions = {}) {
    this.handle = native.distGradSyncCreate(
      params.map((p) => p.handle),
      options.bucketBytes ?? DEFAULT_BUCKET_BYTES,
      options.firstBucketBytes ?? DEFAULT_FIRST_BUCKET_BYTES,
    );
  }

  /**
   * Runs `loss.backward()` with the exchange overlapped; afterwards the gradients are averaged over the ranks.
   * A failure (a dead or stalled peer) names this rank and marks the process group unusable.
   */
  backward(loss: Tensor): void {
    if (this.handle === null) throw new Error('OverlappedGradients: closed');
    native.distGradSyncPrepare(this.handle);
    try {
      loss.backward();
    } catch (error) {
      throw new Error(native.distGradSyncFailed(this.handle, (error as Error).message) as string);
    }
  }

  /** Removes the hooks (idempotent). */
  close(): void {
    if (this.handle === null) return;
    native.distGradSyncClose(this.handle);
    this.handle = null;
  }
}
