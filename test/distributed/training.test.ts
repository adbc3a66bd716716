// Data-parallel equivalence: two ranks, each on half the batch, gradients averaged, equal the single-process
// gradients of the whole batch; after a few SGD steps both ranks hold the same parameters as one process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/tensor/index.js';
import { availableBackends } from '../../src/distributed/index.js';
import { freePort, resultOf, startRanks } from './helpers.js';
import { BATCH, STEPS, backwardOnRows, gradients, makeBatch, makeParams, sgdStep } from './workers/linear-model.js';

const skip = availableBackends().includes('gloo') ? false : 'the addon was built without Gloo (install libgloo-dev and rebuild)';

function assertClose(actual: number[][], expected: number[][], what: string, tolerance = 1e-5): void {
  assert.equal(actual.length, expected.length, what);
  actual.forEach((row, i) => {
    assert.equal(row.length, expected[i].length, what);
    row.forEach((v, j) => {
      const e = expected[i][j];
      assert.ok(Math.abs(v - e) <= tolerance * Math.max(1, Math.abs(e)), `${what}[${i}][${j}]: ${v} vs ${e}`);
    });
  });
}

test('2 ranks on half batches with averaged gradients match one process on the full batch', { skip }, async () => {
  const job = startRanks('training.worker.ts', 2, await freePort());

  // The single-process reference, from rank 0's initial parameters (the ones broadcast).
  const batch = makeBatch();
  const params = makeParams(100);
  let referenceGradients: number[][] = [];
  for (let step = 0; step < STEPS; step++) {
    backwardOnRows(params, batch, 0, BATCH);
    if (step === 0) referenceGradients = gradients(params);
    sgdStep(params);
  }
  const referenceFinal = params.map((p) => Array.from(p.toFloat32Array()));
  for (const t of [...params, batch.x, batch.y]) t.dispose();

  const results = await job.done;
  const [r0, r1] = results.map((r) => {
    assert.equal(r.code, 0, `rank ${r.rank} failed:\n${r.stderr}`);
    return resultOf(r) as { initial: number[][]; firstGradients: number[][]; final: number[][]; leaked: number };
  });
  assert.notDeepEqual(r0.initial, r1.initial, 'the ranks start from different parameters');
  assert.deepEqual(r0.firstGradients, r1.firstGradients, 'all-reduced gradients are bitwise equal on both ranks');
  assert.deepEqual(r0.final, r1.final, 'parameters are bitwise equal on both ranks');
  assertClose(r0.firstGradients, referenceGradients, 'averaged gradient vs full-batch gradient');
  assertClose(r0.final, referenceFinal, 'parameters after SGD vs single process');
  assert.equal(r0.leaked, 0);
  assert.equal(r1.leaked, 0);
});
