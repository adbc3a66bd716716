// Samplers decide the order in which a loader visits a dataset's items in each epoch. The interface is one
// method, so that other policies (the long-form sampler of issue 9: k clips of one long video per batch)
// plug into the same loader.
import { Rng, hash32 } from './rng.js';

export interface Sampler {
  /** Item indices to visit in `epoch`, in order (this rank's share when sharded). */
  epochOrder(epoch: number): number[];
}

/**
 * This rank's share of an epoch order: a strided slice (rank, rank + worldSize, ...) of the first
 * ⌊n / worldSize⌋ · worldSize items, so that the ranks' shares never overlap and all have the same length
 * (every rank must run the same number of steps). At most worldSize − 1 items are left out per epoch, and
 * a shuffled order leaves out different ones each epoch.
 */
export function shardOrder(order: number[], rank: number, worldSize: number): number[] {
  if (!Number.isInteger(worldSize) || worldSize < 1) throw new Error(`worldSize must be a positive integer, got ${worldSize}`);
  if (!Number.isInteger(rank) || rank < 0 || rank >= worldSize) throw new Error(`rank must be an integer in [0, ${worldSize}), got ${rank}`);
  if (worldSize === 1) return order.slice();
  const perRank = Math.floor(order.length / worldSize);
  const out = new Array<number>(perRank);
  for (let i = 0; i < perRank; i++) out[i] = order[i * worldSize + rank];
  return out;
}

export interface ShardOptions {
  rank?: number;
  worldSize?: number;
}

/** 0, 1, 2, ... (evaluation), sharded. */
export class SequentialSampler implements Sampler {
  constructor(
    readonly size: number,
    readonly shard: ShardOptions = {},
  ) {}
  epochOrder(_epoch: number): number[] {
    return shardOrder(
      Array.from({ length: this.size }, (_, i) => i),
      this.shard.rank ?? 0,
      this.shard.worldSize ?? 1,
    );
  }
}

/** A uniform random permutation per epoch from (seed, epoch) — the same on every rank — then sharded. */
export class ShuffleSampler implements Sampler {
  constructor(
    readonly size: number,
    readonly seed: number,
    readonly shard: ShardOptions = {},
  ) {
    if (!Number.isInteger(size) || size < 0) throw new Error(`sampler size must be a non-negative integer, got ${size}`);
  }
  epochOrder(epoch: number): number[] {
    const order = new Rng(hash32(this.seed, epoch, 'shuffle-sampler')).permutation(this.size);
    return shardOrder(order, this.shard.rank ?? 0, this.shard.worldSize ?? 1);
  }
}
