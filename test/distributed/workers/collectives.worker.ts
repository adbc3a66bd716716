// One rank of the collectives test: exercises allReduce (bucketed, several dtypes), broadcast, allGather
// (equal and ragged) and barrier, and prints what it got.
import * as T from '../../../src/tensor/index.js';
import * as dist from '../../../src/distributed/index.js';

const [rank, worldSize, port] = process.argv.slice(2).map(Number);
const liveBefore = T.memory().liveTensors;
dist.initProcessGroup({ rank, worldSize, masterAddr: '127.0.0.1', masterPort: port, timeoutMs: 20_000 });
const info = dist.processGroupInfo();

const result = T.tidy(() => {
  // allReduce: rank-dependent values; a tiny bucket size forces several buckets, a non-contiguous tensor
  // and mixed dtypes force the flatten/copy-back path.
  const a = T.arange(6, undefined, 1, { dtype: 'float32' }).add(rank * 10).reshape([2, 3]);
  const b = T.full([5], rank + 1, { dtype: 'float64' });
  const c = T.full([3], rank + 1, { dtype: 'int64' });
  const base = T.arange(6, undefined, 1, { dtype: 'float32' }).reshape([2, 3]).mul(rank + 1);
  const strided = base.transpose(0, 1); // a view into base: in-place results must land in base
  const empty = T.zeros([0, 4]);
  dist.allReduce([a, b, c, strided, empty], { bucketBytes: 16 });
  const sums = { a: a.toArray(), b: b.toArray(), c: c.toArray(), base: base.toArray(), cDtype: c.dtype };

  // average on floats
  const m = T.full([4], rank * 2 + 1);
  dist.allReduce([m], { average: true });

  // broadcast from the last rank into every rank
  const root = worldSize - 1;
  const p = T.full([3, 2], rank + 100);
  const q = T.arange(4, undefined, 1, { dtype: 'int64' }).add(rank);
  dist.broadcast([p, q], root);

  // allGather: equal shapes (as one tensor and as a list), ragged first dimension, 0-d
  const equal = T.full([2, 2], rank);
  const gathered = dist.allGatherTensor(equal);
  const list = dist.allGatherTensor(equal, { concat: false });
  const ragged = dist.allGatherTensor(T.full([rank + 1, 3], rank + 1, { dtype: 'int64' }));
  const scalar = dist.allGatherTensor(T.scalar(rank + 0.5));

  // an all-reduce in flight while another collective runs, finished afterwards
  const overlapped = T.full([1000], rank + 1);
  const pending = dist.allReduceAsync([overlapped], { average: true });
  const during = dist.allGatherTensor(T.full([1], rank * 7));
  pending.wait();

  dist.barrier();
  return {
    overlapped: [overlapped.min().item(), overlapped.max().item()],
    during: during.toArray(),
    ...sums,
    mean: m.toArray(),
    broadcastP: p.toArray(),
    broadcastQ: q.toArray(),
    gatheredShape: gathered.shape,
    gathered: gathered.toArray(),
    listShapes: list.map((t) => t.shape),
    raggedShape: ragged.shape,
    ragged: ragged.toArray(),
    scalar: scalar.toArray(),
  };
});

// A shape mismatch is an error naming the ranks, not garbage.
let mismatch = '';
try {
  T.tidy(() => dist.allGatherTensor(T.zeros([2, rank + 1])));
} catch (e) {
  mismatch = (e as Error).message;
}
dist.destroy();
console.log('RESULT ' + JSON.stringify({ info, ...result, mismatch, leaked: T.memory().liveTensors - liveBefore }));
