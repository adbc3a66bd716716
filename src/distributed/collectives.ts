// Collectives over the process group, in the forms data-parallel training needs. All of them block until
// every rank has taken part, and fail (naming this rank, the operation and the cause) within the group's
// timeout when a peer died or stalled.
import { native } from '../tensor/native.js';
import { Tensor } from '../tensor/tensor.js';
import { zeros, cat, stack } from '../tensor/creation.js';
import { keep, tidy } from '../tensor/scope.js';
import type { Device } from '../tensor/dtype.js';
import { processGroupInfo } from './process-group.js';

/** Gradients and parameters travel in flat buffers of at most this many bytes (PyTorch DDP's default). */
export const DEFAULT_BUCKET_BYTES = 25 * 1024 * 1024;

export interface AllReduceOptions {
  /** Divide the sums by the world size (the mean across ranks). Default false for allReduce. */
  average?: boolean;
  bucketBytes?: number;
}

/**
 * NCCL exchanges CUDA tensors only: under it, CPU tensors (instance indices, scalars) cross through this
 * process's GPU (cuda:LOCAL_RANK). Null for Gloo, which takes CPU (and CUDA) tensors as they are.
 */
function ncclBridgeDevice(tensors: Tensor[]): Device | null {
  if (!tensors.some((t) => t.device === 'cpu')) return null;
  if (processGroupInfo()?.backend !== 'nccl') return null;
  return `cuda:${Number(process.env.LOCAL_RANK ?? 0)}`;
}

/** Runs an in-place collective on `tensors`, through `device` copies of the CPU ones (then copied back). */
function viaDevice(tensors: Tensor[], device: Device | null, run: (on: Tensor[]) => void): void {
  if (!device) return run(tensors);
  tidy(() => {
    const on = tensors.map((t) => (t.device === 'cpu' ? t.to(null, device) : t));
    run(on);
    tensors.forEach((t, i) => {
      if (on[i] !== t) t.copy_(on[i]);
    });
  });
}

/** Sums (or averages) each tensor across all ranks, in place. Every rank must pass the same shapes and dtypes, in the same order. */
export function allReduce(tensors: Tensor[], options: AllReduceOptions = {}): void {
  viaDevice(tensors, ncclBridgeDevice(tensors), (on) =>
    native.distAllReduce(
      on.map((t) => t.handle),
      options.average ?? false,
      options.bucketBytes ?? DEFAULT_BUCKET_BYTES,
    ),
  );
}

/** An all-reduce in flight; wait() blocks until it is done and the results are in the tensors. */
export interface PendingAllReduce {
  wait(): void;
}

/**
 * Starts allReduce and returns at once: the exchange runs on c10d's threads while this thread computes
 * something else (which must not read or write these tensors), then wait() finishes it. Every rank must start
 * its collectives in the same order.
 */
export function allReduceAsync(tensors: Tensor[], options: AllReduceOptions = {}): PendingAllReduce {
  const pending = native.distAllReduceStart(
    tensors.map((t) => t.handle),
    options.average ?? false,
    options.bucketBytes ?? DEFAULT_BUCKET_BYTES,
  );
  return { wait: () => native.distAllReduceWait(pending) };
}

/** Anything that owns parameters: a plain list, or a module-like object with parameters() (and buffers()). */
export type ParameterSource = Iterable<Tensor> | { parameters(): Iterable<Tensor>; buffers?(): Iterable<Tensor> };

function tensorsOf(source: ParameterSource, withBuffers: boolean): Tensor[] {
  if (Symbol.iterator in source) return [...(source as Iterable<Tensor>)];
  const owner = source as { parameters(): Iterable<Tensor>; buffers?(): Iterable<Tensor> };
  const list = [...owner.parameters()];
  if (withBuffers && typeof owner.buffers === 'function') list.push(...owner.buffers());
  return list;
}

/**
 * Averages (default) or sums the gradients of `params` across ranks, bucketed, in place: after it every rank
 * holds the gradient of the global batch, as if one process had computed the mean loss over all ranks'
 * samples (when each rank's loss is the mean over an equal share). Parameters that do not require grad are
 * skipped; a parameter without a gradient on this rank (unused in its forward pass) gets a zero gradient, so
 * that every rank exchanges the same buffers.
 */
export function allReduceGradients(params: ParameterSource, options: AllReduceOptions = {}): void {
  allReduceGradientsAsync(params, options).wait();
}

/** allReduceGradients started in the background (see allReduceAsync); the gradients are final after wait(). */
export function allReduceGradientsAsync(params: ParameterSource, options: AllReduceOptions = {}): PendingAllReduce {
  const grads: Tensor[] = [];
  // These handles alias the parameters' gradients; disposing them frees the handles, not the gradients.
  const release = () => grads.forEach((g) => g.dispose());
  try {
    for (const p of tensorsOf(params, false)) {
      if (!p.requiresGrad) continue;
      let g = p.grad;
      if (g === null) {
        const zero = zeros(p.shape, { dtype: p.dtype, device: p.device });
        p.setGrad(zero);
        zero.dispose();
        g = p.grad!;
      }
      grads.push(keep(g));
    }
    const pending = allReduceAsync(grads, { average: options.average ?? true, bucketBytes: options.bucketBytes });
    return {
      wait: () => {
        try {
          pending.wait();
        } finally {
          release();
        }
      },
    };
  } catch (error) {
    release();
    throw error;
  }
}

/**
 * Makes every rank's parameters (and, for a module-like source, its buffers such as batch-norm statistics)
 * equal to those of `root`, in place: call it once after building the model, before training.
 */
export function broadcastParameters(params: ParameterSource, root = 0, options: { bucketBytes?: number } = {}): void {
  broadcast(tensorsOf(params, true), root, options);
}

/** Copies `root`'s tensors into every other rank's tensors of the same shapes, in place. */
export function broadcast(tensors: Tensor[], root = 0, options: { bucketBytes?: number } = {}): void {
  viaDevice(tensors, ncclBridgeDevice(tensors), (on) =>
    native.distBroadcast(
      on.map((t) => t.handle),
      root,
      options.bucketBytes ?? DEFAULT_BUCKET_BYTES,
    ),
  );
}

/**
 * Every rank's `t`, in rank order, as one tensor joined along dim 0 (0-d tensors are stacked), or with
 * `{ concat: false }` as a list of worldSize tensors. The dtype and the sizes after the first dimension must
 * agree across ranks (an error names the rank that differs); the first dimension may differ, for ragged last
 * batches. The result is a new tensor (dispose it, or let a tidy scope do it) and carries no gradient (for
 * memory-bank updates and mining; use allReduceWithGrad where gradients must cross ranks).
 */
export function allGatherTensor(t: Tensor, options?: { concat?: true }): Tensor;
export function allGatherTensor(t: Tensor, options: { concat: false }): Tensor[];
export function allGatherTensor(t: Tensor, options: { concat?: boolean } = {}): Tensor | Tensor[] {
  const concat = options.concat ?? true;
  const bridge = ncclBridgeDevice([t]);
  if (bridge) {
    // A CPU tensor under NCCL: gathered on the GPU, returned on the CPU like its input.
    return tidy(() => {
      const gathered = allGatherTensor(t.to(null, bridge), { concat: false }).map((g) => g.cpu());
      return concat ? (gathered[0].ndim === 0 ? stack(gathered) : cat(gathered, 0)) : gathered;
    });
  }
  const out = native.distAllGather(t.handle, concat);
  if (concat) return Tensor.wrap(out);
  return (out as unknown[]).map((h) => Tensor.wrap(h as never));
}

/**
 * The sum of `t` over all ranks as a new tensor that autograd differentiates: in backward(), each rank's
 * input gradient is the sum of every rank's output gradient. Every rank must run the same forward and
 * backward (the backward exchange happens inside backward()). Used by syncBatchNorm.
 */
export function allReduceWithGrad(t: Tensor): Tensor {
  return Tensor.wrap(native.distAllReduceWithGrad(t.handle));
}
