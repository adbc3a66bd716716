// Seconds to mine the top-32 agreement positives for N random 128-d unit vectors per modality, and the ratio
// to the lower bound set by the matrix products' FLOPs at the GEMM rate measured in the same run.
// Prints one JSON line. Options: --n 100000 --dim 128 --k 32 --block 1024 --threads 2
import { parseArgs } from 'node:util';
import * as T from '../src/tensor/index.js';
import { minePositives } from '../src/ssl/cma-mining.js';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '100000' },
    dim: { type: 'string', default: '128' },
    k: { type: 'string', default: '32' },
    block: { type: 'string', default: '1024' },
    threads: { type: 'string', default: '2' },
  },
});
const n = Number(values.n);
const dim = Number(values.dim);
const k = Number(values.k);
const block = Number(values.block);
T.setNumThreads(Number(values.threads));
T.manualSeed(0);

const video = T.tidy(() => T.functional.normalize(T.randn([n, dim])));
const audio = T.tidy(() => T.functional.normalize(T.randn([n, dim])));

// GEMM rate on the same shape the miner multiplies: (block × dim) · (dim × N).
const gemmSeconds = T.tidy(() => {
  const a = video.narrow(0, 0, block);
  const bT = audio.T;
  a.matmul(bT).dispose();
  const t0 = performance.now();
  const reps = 3;
  for (let i = 0; i < reps; i++) a.matmul(bT).dispose();
  return (performance.now() - t0) / 1000 / reps;
});
const gemmFlopsPerSec = (2 * block * dim * n) / gemmSeconds;

const t0 = performance.now();
const positives = minePositives(video, audio, { k, kind: 'agreement', blockSize: block });
const seconds = (performance.now() - t0) / 1000;
positives.dispose();

const totalFlops = 2 * (2 * n * n * dim); // two modalities' N×N×D products
const lowerBound = totalFlops / gemmFlopsPerSec;
console.log(
  JSON.stringify({
    bench: 'cma-mine',
    n,
    dim,
    k,
    block,
    threads: T.getNumThreads(),
    seconds,
    gemmGflops: gemmFlopsPerSec / 1e9,
    lowerBoundSeconds: lowerBound,
    ratioToBound: seconds / lowerBound,
    target: 'ratioToBound <= 2',
  }),
);
