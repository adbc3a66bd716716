// Gradient averaging inside backward (c10d Reducer hooks) gives the gradients allReduceGradients gives after
// backward, step after step, on 2 processes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, resultOf, startRanks } from './helpers.js';
import { availableBackends } from '../../src/dist/index.js';

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
