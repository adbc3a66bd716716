// One rank of the failure test: all-reduces in a loop until something goes wrong, then reports the error
// and exits non-zero, as a training process would.
import * as T from '../../../src/tensor/index.js';
import * as dist from '../../../src/distributed/index.js';

const [rank, worldSize, port, timeoutMs] = process.argv.slice(2).map(Number);
dist.initProcessGroup({ rank, worldSize, masterAddr: '127.0.0.1', masterPort: port, timeoutMs });
// Four buckets: a stalled peer must cost one timeout in all, not one per bucket.
const buffers = [0, 1, 2, 3].map(() => T.ones([1000]));
try {
  for (let step = 0; ; step++) {
    dist.allReduce(buffers, { bucketBytes: 4000 });
    for (const b of buffers) b.fill_(1);
    if (step === 0) console.log('ready');
  }
} catch (e) {
  console.error((e as Error).message);
  console.error('broken: ' + dist.processGroupInfo()?.broken);
  process.exit(3);
}
