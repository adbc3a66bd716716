// One rank of the data-parallel equivalence test: parameters broadcast from rank 0, each rank computes the
// gradient on its share of the batch, gradients averaged, SGD steps; prints the first step's gradients and
// the final parameters.
import * as T from '../../../src/tensor/index.js';
import * as dist from '../../../src/distributed/index.js';
import { BATCH, STEPS, backwardOnRows, gradients, makeBatch, makeParams, sgdStep } from './linear-model.js';

const [rank, worldSize, port] = process.argv.slice(2).map(Number);
const liveBefore = T.memory().liveTensors;
dist.initProcessGroup({ rank, worldSize, masterAddr: '127.0.0.1', masterPort: port, timeoutMs: 20_000 });

const batch = makeBatch();
const params = makeParams(100 + rank);
const initial = params.map((p) => Array.from(p.toFloat32Array()));
dist.broadcastParameters(params, 0);
const share = BATCH / worldSize;
let firstGradients: number[][] = [];
for (let step = 0; step < STEPS; step++) {
  backwardOnRows(params, batch, rank * share, (rank + 1) * share);
  // odd steps overlap the exchange with other work (here: nothing but the call order), even steps block
  if (step % 2 === 1) dist.allReduceGradientsAsync(params).wait();
  else dist.allReduceGradients(params);
  if (step === 0) firstGradients = gradients(params);
  sgdStep(params);
}
const final = params.map((p) => Array.from(p.toFloat32Array()));
dist.destroy();
for (const t of [...params, batch.x, batch.y]) t.dispose();
console.log('RESULT ' + JSON.stringify({ initial, firstGradients, final, leaked: T.memory().liveTensors - liveBefore }));
