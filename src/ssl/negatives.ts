// Negative sampling: K indices drawn uniformly from the N instances, never the anchor itself.
import { Tensor, randint, arange, tidy, type Generator } from '../tensor/index.js';

/** Which rows of a global batch this process holds (data-parallel training). */
export interface Shard {
  rank: number;
  worldSize: number;
}

/**
 * Draws for the whole global batch and keeps this rank's rows, so that a data-parallel run draws exactly
 * what one process on the global batch would.
 */
export function shardedDraw(localRows: number, shard: Shard | undefined, draw: (rows: number) => Tensor): Tensor {
  if (!shard || shard.worldSize === 1) return draw(localRows);
  return tidy(() => draw(localRows * shard.worldSize).narrow(0, shard.rank * localRows, localRows).contiguous());
}

/**
 * (B, K) int64 indices uniform over {0..N-1} \ {anchorᵢ}: draw from N−1 values and shift those at or above
 * the anchor up by one, which maps the draw one-to-one onto the other instances.
 */
export function sampleNegatives(anchors: Tensor, numInstances: number, k: number, generator: Generator, shard?: Shard): Tensor {
  if (numInstances < 2) throw new Error('negative sampling needs at least 2 instances');
  return tidy(() => {
    const draw = shardedDraw(anchors.size(0), shard, (rows) => randint(0, numInstances - 1, [rows, k], { generator }));
    const shift = draw.ge(anchors.unsqueeze(1)).to('int64');
    return draw.add(shift);
  });
}

/**
 * (B, K) indices uniform over the instances outside each row's forbidden set (B, M) (the anchor and its
 * positives; entries distinct). A draw r from the N − M allowed values maps exactly onto the r-th allowed
 * instance: r + #{forbidden fⱼ (sorted) with fⱼ − j ≤ r}.
 */
export function sampleOutside(forbidden: Tensor, numInstances: number, k: number, generator: Generator, shard?: Shard): Tensor {
  return tidy(() => {
    const m = forbidden.size(1);
    if (numInstances - m < 1) throw new Error(`no instance left to sample: ${m} forbidden of ${numInstances}`);
    const sorted = forbidden.sort(1).values;
    const shifted = sorted.sub(arange(m).unsqueeze(0)).unsqueeze(1); // (B, 1, M)
    const draw = shardedDraw(forbidden.size(0), shard, (rows) => randint(0, numInstances - m, [rows, k], { generator }));
    return draw.add(shifted.le(draw.unsqueeze(2)).sum(2));
  });
}
