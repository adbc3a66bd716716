// Negative sampling: K indices drawn uniformly from the N instances, never the anchor itself.
import { Tensor, randint, arange, tidy, type Generator } from '../tensor/index.js';

/**
 * (B, K) int64 indices uniform over {0..N-1} \ {anchorᵢ}: draw from N−1 values and shift those at or above
 * the anchor up by one, which maps the draw one-to-one onto the other instances.
 */
export function sampleNegatives(anchors: Tensor, numInstances: number, k: number, generator: Generator): Tensor {
  if (numInstances < 2) throw new Error('negative sampling needs at least 2 instances');
  return tidy(() => {
    const draw = randint(0, numInstances - 1, [anchors.size(0), k], { generator });
    const shift = draw.ge(anchors.unsqueeze(1)).to('int64');
    return draw.add(shift);
  });
}

/**
 * (B, K) indices uniform over the instances outside each row's forbidden set (B, M) (the anchor and its
 * positives; entries distinct). A draw r from the N − M allowed values maps exactly onto the r-th allowed
 * instance: r + #{forbidden fⱼ (sorted) with fⱼ − j ≤ r}.
 */
export function sampleOutside(forbidden: Tensor, numInstances: number, k: number, generator: Generator): Tensor {
  return tidy(() => {
    const m = forbidden.size(1);
    if (numInstances - m < 1) throw new Error(`no instance left to sample: ${m} forbidden of ${numInstances}`);
    const sorted = forbidden.sort(1).values;
    const shifted = sorted.sub(arange(m).unsqueeze(0)).unsqueeze(1); // (B, 1, M)
    const draw = randint(0, numInstances - m, [forbidden.size(0), k], { generator });
    return draw.add(shifted.le(draw.unsqueeze(2)).sum(2));
  });
}
