// A deterministic in-memory BatchSource for trainer tests: instance i always has the same (video, audio)
// content, and each epoch visits the instances in a seeded order.
import * as T from '../../src/tensor/index.js';
import { hash32 } from '../../src/data/rng.js';
import type { BatchSource, TrainBatch } from '../../src/train/batch-source.js';

export class RandomSource implements BatchSource {
  constructor(
    readonly numInstances: number,
    readonly batchSize: number,
    readonly seed = 0,
    readonly videoShape = [3, 4, 16, 16],
    readonly audioShape = [1, 20, 16],
    /** Data-parallel share: global batch b is order[b·B·W, (b+1)·B·W); this rank takes its r-th part. */
    readonly shard = { rank: 0, worldSize: 1 },
  ) {}
  batchesPerEpoch(): number {
    return Math.floor(this.numInstances / (this.batchSize * this.shard.worldSize));
  }
  async *epoch(epoch: number, startBatch: number): AsyncIterable<TrainBatch> {
    const order = T.tidy(() => T.randperm(this.numInstances, { generator: new T.Generator(hash32(this.seed, epoch)) }).toArray());
    for (let b = startBatch; b < this.batchesPerEpoch(); b++) {
      const start = (b * this.shard.worldSize + this.shard.rank) * this.batchSize;
      const ids = order.slice(start, start + this.batchSize);
      yield T.tidy(() => ({
        video: T.stack(ids.map((i) => T.randn(this.videoShape, { generator: new T.Generator(hash32(this.seed, i, 'v')) }))),
        audio: T.stack(ids.map((i) => T.randn(this.audioShape, { generator: new T.Generator(hash32(this.seed, i, 'a')) }))),
        index: T.tensor(BigInt64Array.from(ids.map(BigInt)), [ids.length]),
      }));
    }
  }
}
