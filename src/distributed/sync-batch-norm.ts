// Synchronised batch norm: in training, the batch statistics are those of the global batch (all ranks'
// samples together), as if one process normalised it, and the gradients flow through the shared statistics
// to every rank (as torch.nn.SyncBatchNorm). Each rank's small share of a batch otherwise gives noisy
// statistics. In evaluation it is plain batch norm with the running statistics.
import { Tensor } from '../tensor/tensor.js';
import { tidy } from '../tensor/scope.js';
import { noGrad } from '../tensor/autograd.js';
import { cat, scalar } from '../tensor/creation.js';
import * as F from '../tensor/functional.js';
import { allReduceWithGrad } from './collectives.js';

/** Same options as functional.batchNorm. */
export type SyncBatchNormOptions = F.BatchNormOptions;

/**
 * Batch norm over [N, C, ...] with statistics over N and the trailing dimensions of every rank's x. In
 * training the running statistics (if given) are updated in place with the global mean and unbiased variance,
 * identically on every rank. Every rank must call it in the same order (it is a collective).
 */
export function syncBatchNorm(x: Tensor, o: SyncBatchNormOptions): Tensor {
  if (!o.training) return F.batchNorm(x, o);
  if (x.ndim < 2) throw new Error(`syncBatchNorm: input must be [N, C, ...], got shape [${x.shape.join(', ')}]`);
  const momentum = o.momentum ?? 0.1;
  const eps = o.eps ?? 1e-5;
  return tidy(() => {
    // Under autocast the convolutions hand over float16/bfloat16 activations. The statistics (E[x²] − E[x]²,
    // a cancellation) and the output are computed in float32, as batch norm itself runs under autocast.
    if (x.dtype === 'float16' || x.dtype === 'bfloat16') x = x.float();
    const channels = x.size(1);
    const dims = [0, ...Array.from({ length: x.ndim - 2 }, (_, i) => i + 2)];
    const statShape = [1, channels, ...Array<number>(x.ndim - 2).fill(1)];
    // [sum, sum of squares, count] of this rank, summed over ranks in one exchange.
    const count = scalar(x.numel / channels, { dtype: x.dtype, device: x.device }).reshape([1]);
    const local = cat([x.sum(dims), x.square().sum(dims), count]);
    const global = allReduceWithGrad(local);
    const n = global.narrow(0, 2 * channels, 1);
    const mean = global.narrow(0, 0, channels).div(n);
    const variance = global.narrow(0, channels, channels).div(n).sub(mean.square()).clamp(0);
    let y = x.sub(mean.reshape(statShape)).mul(variance.add(eps).rsqrt().reshape(statShape));
    if (o.weight) y = y.mul(o.weight.reshape(statShape));
    if (o.bias) y = y.add(o.bias.reshape(statShape));
    if (o.runningMean || o.runningVar) {
      noGrad(() => {
        const total = n.item();
        if (o.runningMean) o.runningMean.mul_(1 - momentum).add_(mean.detach(), momentum);
        if (o.runningVar) o.runningVar.mul_(1 - momentum).add_(variance.detach().mul(total / Math.max(1, total - 1)), momentum);
      });
    }
    return y;
  });
}
