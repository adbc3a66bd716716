// Splitting an epoch's sample order between ranks, as PyTorch's DistributedSampler does. Every rank must get
// exactly the same number of samples: a rank with one batch more would wait in a collective the others never
// join (and fail at the timeout).

export interface ShardOptions {
  /**
   * When the count does not divide by worldSize: 'pad' (default, as DistributedSampler) repeats the first
   * samples of the order to fill the last round, so that nothing is skipped; 'drop' leaves out the last
   * (count mod worldSize) samples of the order, so that nothing is seen twice.
   */
  remainder?: 'pad' | 'drop';
}

/**
 * This rank's share of `order` (the epoch's sample order, identical on every rank: shuffle with a seed derived
 * from (seed, epoch) before sharding): every worldSize-th item starting at `rank`. The shares of all ranks
 * are disjoint and, with 'pad' or a count that divides, cover the whole order.
 */
export function shardIndices<T>(order: readonly T[], rank: number, worldSize: number, options: ShardOptions = {}): T[] {
  if (!Number.isInteger(worldSize) || worldSize < 1) throw new Error(`shardIndices: worldSize must be a positive integer, got ${worldSize}`);
  if (!Number.isInteger(rank) || rank < 0 || rank >= worldSize) throw new Error(`shardIndices: rank must be in [0, ${worldSize - 1}], got ${rank}`);
  const remainder = options.remainder ?? 'pad';
  if (remainder !== 'pad' && remainder !== 'drop') throw new Error(`shardIndices: remainder must be 'pad' or 'drop', got '${String(remainder)}'`);
  const perRank = remainder === 'pad' ? Math.ceil(order.length / worldSize) : Math.floor(order.length / worldSize);
  const out: T[] = [];
  for (let k = 0; k < perRank; k++) out.push(order[(k * worldSize + rank) % order.length]);
  return out;
}
