// The in-batch objective over 2 ranks contrasts every rank's anchors against the whole global batch, and its
// gradients reach the rows of every rank: each rank's row gradients equal those of Σ over ranks of the ranks'
// losses (each the mean over its own anchors) computed in one process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/tensor/index.js';
import * as dist from '../../src/distributed/index.js';
import { freePort, resultOf, startRanks } from './helpers.js';
import { inBatchCase, SHARES } from './workers/in-batch-case.js';

const skip = dist.availableBackends().includes('gloo') ? false : 'the addon was built without Gloo (install libgloo-dev and rebuild)';

test('in-batch InfoNCE on 2 ranks (ragged shares) equals the global-batch computation in one process', { skip }, async () => {
  const job = startRanks('in-batch.worker.ts', 2, await freePort());
  const tau = 0.2;
  const reference = T.tidy(() => {
    const c = inBatchCase();
    const video = c.video.clone().requiresGrad_();
    const audio = c.audio.clone().requiresGrad_();
    const n = video.size(0);
    const target = T.arange(n);
    const v2a = T.functional.crossEntropy(video.mm(audio.transpose(0, 1)).div(tau), target, { reduction: 'none' });
    const a2v = T.functional.crossEntropy(audio.mm(video.transpose(0, 1)).div(tau), target, { reduction: 'none' });
    // Each rank's loss is the mean over its own anchors; the ranks' gradients add up.
    const weights = T.tensor(Float64Array.from(SHARES.flatMap((s) => new Array(s).fill(1 / s))), [n]);
    v2a.add(a2v).mul(weights).sum().backward();
    const perRank = (t: T.Tensor) => SHARES.map((s, r) => t.narrow(0, SHARES.slice(0, r).reduce((a, b) => a + b, 0), s));
    const mean = (t: T.Tensor) => perRank(t).map((x) => x.mean().item());
    return {
      v2a: mean(v2a.detach()),
      a2v: mean(a2v.detach()),
      videoGrad: perRank(video.grad!).map((x) => Array.from(x.contiguous().data() as Float64Array)),
      audioGrad: perRank(audio.grad!).map((x) => Array.from(x.contiguous().data() as Float64Array)),
    };
  });
  const close = (a: number[], b: number[], what: string) => {
    assert.equal(a.length, b.length, what);
    a.forEach((x, i) => assert.ok(Math.abs(x - b[i]) <= 1e-9 * Math.max(1, Math.abs(b[i])), `${what}[${i}]: ${x} vs ${b[i]}`));
  };
  for (const r of await job.done) {
    assert.equal(r.code, 0, `rank ${r.rank} failed:\n${r.stderr}`);
    const got = resultOf(r) as { terms: { v2a: number; a2v: number }; videoGrad: number[]; audioGrad: number[]; leaked: number };
    close([got.terms.v2a, got.terms.a2v], [reference.v2a[r.rank], reference.a2v[r.rank]], `rank ${r.rank} loss terms`);
    close(got.videoGrad, reference.videoGrad[r.rank], `rank ${r.rank} video gradient`);
    close(got.audioGrad, reference.audioGrad[r.rank], `rank ${r.rank} audio gradient`);
    assert.equal(got.leaked, 0, `rank ${r.rank} leaked tensors`);
  }
});
