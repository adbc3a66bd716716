// One rank of the overlapped-exchange test: the linear model's steps with gradients averaged inside backward
// (c10d Reducer hooks), against allReduceGradients after backward on a second copy of the parameters.
import * as T from '../../../src/tensor/index.js';
import * as dist from '../../../src/distributed/index.js';
import { BATCH, STEPS, gradients, makeBatch, makeParams, sgdStep } from './linear-model.js';

const [rank, worldSize, port] = process.argv.slice(2).map(Number);
const liveBefore = T.memory().liveTensors;
dist.initProcessGroup({ rank, worldSize, masterAddr: '127.0.0.1', masterPort: port, timeoutMs: 20_000 });
const batch = makeBatch();
const overlapped = makeParams(100);
const reference = makeParams(100);
// Tiny buckets (one per parameter) so that the exchange really is split and started during backward.
const sync = new dist.OverlappedGradients(overlapped, { bucketBytes: 16, firstBucketBytes: 16 });
const share = BATCH / worldSize;
const loss = (params: T.Tensor[]) => {
  const rows = T.arange(rank * share, (rank + 1) * share);
  return T.functional.mseLoss(T.functional.linear(batch.x.indexSelect(0, rows), params[0], params[1]), batch.y.indexSelect(0, rows));
};
const steps: { overlapped: number[][]; reference: number[][] }[] = [];
for (let step = 0; step < STEPS; step++) {
  T.tidy(() => sync.backward(loss(overlapped)));
  T.tidy(() => loss(reference).backward());
  dist.allReduceGradients(reference);
  steps.push({ overlapped: gradients(overlapped), reference: gradients(reference) });
  sgdStep(overlapped);
  sgdStep(reference);
}
const result: Record<string, unknown> = { steps };
// A parameter without a gradient leaves its bucket waiting: the next step says so instead of hanging.
T.tidy(() => sync.backward(T.functional.linear(batch.x, overlapped[0]).sum()));
try {
  T.tidy(() => sync.backward(loss(overlapped)));
} catch (error) {
  result.unused = (error as Error).message;
}
sync.close();
dist.destroy();
for (const t of [...overlapped, ...reference, batch.x, batch.y]) t.dispose();
console.log('RESULT ' + JSON.stringify({ ...result, leaked: T.memory().liveTensors - liveBefore }));
