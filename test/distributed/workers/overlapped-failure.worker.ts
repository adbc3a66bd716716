// One rank of the overlapped-exchange failure test: backward passes with the gradient exchange inside them,
// in a loop, until something goes wrong; then reports the error and exits non-zero, as training would.
import * as T from '../../../src/tensor/index.js';
import * as dist from '../../../src/distributed/index.js';
import { makeBatch, makeParams } from './linear-model.js';

const [rank, worldSize, port, timeoutMs] = process.argv.slice(2).map(Number);
dist.initProcessGroup({ rank, worldSize, masterAddr: '127.0.0.1', masterPort: port, timeoutMs });
const batch = makeBatch();
const params = makeParams(1);
const sync = new dist.OverlappedGradients(params, { bucketBytes: 16, firstBucketBytes: 16 });
try {
  for (let step = 0; ; step++) {
    T.tidy(() => sync.backward(T.functional.mseLoss(T.functional.linear(batch.x, params[0], params[1]), batch.y)));
    for (const p of params) p.setGrad(null);
    if (step === 0) console.log('ready');
  }
} catch (e) {
  console.error((e as Error).message);
  console.error('broken: ' + dist.processGroupInfo()?.broken);
  process.exit(3);
}
