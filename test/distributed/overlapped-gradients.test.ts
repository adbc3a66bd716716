// Gradient averaging inside backward (c10d Reducer hooks) gives the gradients allReduceGradients gives after
// backward, step after step, on 2 processes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, resultOf, startRanks } from './helpers.js';

const TIMEOUT_MS = 5000;
import { availableBackends } from '../../src/distributed/index.js';

const skip = availableBackends().includes('gloo') ? false : 'the addon was built without Gloo (install libgloo-dev and rebuild)';

test('overlapped gradient averaging equals all-reduce after backward, on 2 ranks', { skip }, async () => {
  const results = await startRanks('overlapped.worker.ts', 2, await freePort()).done;
  const got = results.map((r) => {
    assert.equal(r.code, 0, `rank ${r.rank} failed:\n${r.stderr}`);
    return resultOf(r) as { steps: { overlapped: number[][]; reference: number[][] }[]; unused?: string; leaked: number };
  });
  for (const [rank, r] of got.entries()) {
    assert.equal(r.steps.length, 3);
    for (const [i, s] of r.steps.entries()) {
      s.reference.forEach((g, p) => g.forEach((v, j) => assert.ok(Math.abs(v - s.overlapped[p][j]) <= 1e-6 * Math.max(1, Math.abs(v)), `rank ${rank} step ${i} param ${p}[${j}]: ${s.overlapped[p][j]} vs ${v}`)));
    }
    assert.match(r.unused ?? '', new RegExp(`rank ${rank} of 2.*Expected to have finished reduction in the prior iteration`, 's'), 'an unused parameter is reported');
    assert.equal(r.leaked, 0);
  }
  // Both ranks hold the same averaged gradients.
  assert.deepEqual(got[0].steps.map((s) => s.overlapped), got[1].steps.map((s) => s.overlapped));
});

test('killing one rank during overlapped backward makes the other fail fast, naming its rank', { skip }, async () => {
  const job = startRanks('overlapped-failure.worker.ts', 2, await freePort(), [String(TIMEOUT_MS)], 40_000);
  await Promise.all([job.waitFor(0, 'ready'), job.waitFor(1, 'ready')]);
  const sentAt = Date.now();
  job.children[1].kill('SIGKILL');
  const elapsedMs = await new Promise<number>((resolve) => job.children[0].on('close', () => resolve(Date.now() - sentAt)));
  const [r] = await job.done;
  assert.equal(r.code, 3, `rank 0 should report the failure and exit non-zero:\n${r.stderr}`);
  assert.match(r.stderr, /distributed gradient (all-reduce \(overlapped with backward\)|sync) failed on rank 0 of 2 \(gloo, timeout 5000 ms\)/);
  assert.match(r.stderr, /broken: distributed gradient/, 'the group is marked unusable');
  assert.ok(elapsedMs < TIMEOUT_MS + 3000, `rank 0 took ${elapsedMs} ms to fail`);
});
