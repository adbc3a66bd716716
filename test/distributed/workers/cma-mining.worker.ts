// One rank of the split-mining test: the same memory banks on every rank (seeded), each rank mines its share
// of the rows and all-gathers; prints the table and the single-process table mined here for comparison.
import * as T from '../../../src/tensor/index.js';
import * as dist from '../../../src/distributed/index.js';
import { minePositives, type AgreementKind } from '../../../src/ssl/cma-mining.js';

const [rank, worldSize, port, n, k, blockSize] = process.argv.slice(2).map(Number);
const liveBefore = T.memory().liveTensors;
dist.initProcessGroup({ rank, worldSize, masterAddr: '127.0.0.1', masterPort: port, timeoutMs: 20_000 });
const banks = T.tidy(() => {
  const g = new T.Generator(7);
  return [T.functional.normalize(T.randn([n, 16], { generator: g }), 2, 1), T.functional.normalize(T.randn([n, 16], { generator: g }), 2, 1)];
});
const out: Record<string, unknown> = {};
const progress: [number, number][] = [];
for (const kind of ['agreement', 'union'] as AgreementKind[]) {
  const split = { rank, worldSize, allGather: (t: T.Tensor) => dist.allGatherTensor(t) };
  const shared = minePositives(banks[0], banks[1], { k, kind, blockSize, split, onProgress: (done, total) => progress.push([done, total]) });
  const alone = minePositives(banks[0], banks[1], { k, kind, blockSize });
  out[kind] = { shape: shared.shape, dtype: shared.dtype, shared: shared.toArray(), alone: alone.toArray() };
  shared.dispose();
  alone.dispose();
}
dist.destroy();
banks.forEach((b) => b.dispose());
console.log('RESULT ' + JSON.stringify({ ...out, progress, leaked: T.memory().liveTensors - liveBefore }));
