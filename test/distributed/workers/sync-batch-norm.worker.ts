// One rank of the synchronised batch-norm test: normalises its half of the batch with global statistics,
// back-propagates its share of the loss, averages the parameter gradients, and prints everything.
import * as T from '../../../src/tensor/index.js';
import * as dist from '../../../src/distributed/index.js';
import { N, makeCase, rows, toList } from './batch-norm-case.js';

const [rank, worldSize, port] = process.argv.slice(2).map(Number);
const liveBefore = T.memory().liveTensors;
dist.initProcessGroup({ rank, worldSize, masterAddr: '127.0.0.1', masterPort: port, timeoutMs: 20_000 });
const share = N / worldSize;
const c = makeCase();
const result = T.tidy(() => {
  const x = rows(c.x, rank * share, (rank + 1) * share).clone().requiresGrad_();
  const runningMean = T.zeros([3], { dtype: 'float64' });
  const runningVar = T.ones([3], { dtype: 'float64' });
  const y = dist.syncBatchNorm(x, { weight: c.weight, bias: c.bias, runningMean, runningVar, training: true, momentum: 0.1, eps: 1e-5 });
  y.mul(rows(c.r, rank * share, (rank + 1) * share)).sum().div(share).backward();
  dist.allReduceGradients([c.weight, c.bias]);
  // Mixed precision: bfloat16 activations are normalised with float32 statistics, giving float32.
  const low = dist.syncBatchNorm(rows(c.x, rank * share, (rank + 1) * share).to('bfloat16'), { weight: c.weight.float(), bias: c.bias.float(), training: true, momentum: 0.1, eps: 1e-5 });
  return {
    lowDtype: low.dtype,
    low: toList(low),
    y: toList(y),
    xGrad: toList(x.grad!),
    weightGrad: toList(c.weight.grad!),
    biasGrad: toList(c.bias.grad!),
    runningMean: toList(runningMean),
    runningVar: toList(runningVar),
  };
});
dist.destroy();
for (const t of Object.values(c)) t.dispose();
console.log('RESULT ' + JSON.stringify({ ...result, leaked: T.memory().liveTensors - liveBefore }));
