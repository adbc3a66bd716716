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
  ) {}
  batchesPerEpoch(): number {
    return Math.floor(this.numInstances / this.batchSize);
  }
  async *epoch(epoch: number, startBatch: number): AsyncIterable<TrainBatch> {
    const order = T.tidy(() => T.randperm(this.numInstances, { generator: new T.Generator(hash32(this.seed, epoch)) }).toArray());
    for (let b = startBatch; b < this.batchesPerEpoch(); b++) {
      const ids = order.slice(b * this.batchSize, (b + 1) * this.batchSize);
      yield T.tidy(() => ({
        video: T.stack(ids.map((i) => T.randn(this.videoShape, { generator: new T.Generator(hash32(this.seed, i, 'v')) }))),
        audio: T.stack(ids.map((i) => T.randn(this.audioShape, { generator: new T.Generator(hash32(this.seed, i, 'a')) }))),
        index: T.tensor(BigInt64Array.from(ids.map(BigInt)), [ids.length]),
      }));
    }
  }
}
