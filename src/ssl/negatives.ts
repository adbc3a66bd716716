// Negative sampling: K indices drawn uniformly from the N instances, never the anchor itself.
import { Tensor, randint, multinomial, tidy, type Generator } from '../tensor/index.js';

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
 * (B, K) indices drawn uniformly (with replacement) from each row's allowed instances, given a (B, N)
 * boolean mask of forbidden ones (for CMA: the anchor and its positives).
 */
export function sampleFromComplement(forbidden: Tensor, k: number, generator: Generator): Tensor {
  return tidy(() => multinomial(forbidden.logicalNot().to('float32'), k, true, generator));
}
