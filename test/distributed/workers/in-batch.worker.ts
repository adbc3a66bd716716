// One rank of the data-parallel in-batch objective test: its share of a global batch (ragged: 5 rows on rank
// 0, 3 on rank 1), the loss of its anchors against the whole gathered batch, backward, and the gradients of
// its own rows printed. float64 leaves, so the comparison with one process can be tight.
import * as T from '../../../src/tensor/index.js';
import * as dist from '../../../src/distributed/index.js';
import { InBatchObjective } from '../../../src/ssl/in-batch-nce.js';
import { inBatchCase, SHARES } from './in-batch-case.js';

const [rank, worldSize, port] = process.argv.slice(2).map(Number);
dist.initProcessGroup({ rank, worldSize, masterAddr: '127.0.0.1', masterPort: port, timeoutMs: 20_000 });
const liveBefore = T.memory().liveTensors;
const from = SHARES.slice(0, rank).reduce((a, b) => a + b, 0);
const result = T.tidy(() => {
  const c = inBatchCase();
  const video = c.video.narrow(0, from, SHARES[rank]).clone().requiresGrad_();
  const audio = c.audio.narrow(0, from, SHARES[rank]).clone().requiresGrad_();
  const objective = new InBatchObjective({ tau: 0.2 });
  const ctx = { seed: 0, epoch: 0, step: 0, rank, worldSize, gather: (t: T.Tensor) => dist.allGatherTensor(t) };
  const out = objective.loss({ video, audio, index: T.arange(from, from + SHARES[rank]) }, ctx);
  out.loss.backward();
  objective.dispose();
  return { terms: out.terms, videoGrad: Array.from(video.grad!.data() as Float64Array), audioGrad: Array.from(audio.grad!.data() as Float64Array) };
});
dist.destroy();
console.log('RESULT ' + JSON.stringify({ ...result, leaked: T.memory().liveTensors - liveBefore }));
