// Two processes over loopback (Gloo): allReduce, broadcast, allGather and barrier give exact results.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, resultOf, startRanks } from './helpers.js';
import { availableBackends } from '../../src/distributed/index.js';

const skip = availableBackends().includes('gloo') ? false : 'the addon was built without Gloo (install libgloo-dev and rebuild)';

test('allReduce, broadcast, allGather and barrier across 2 processes', { skip }, async () => {
  const results = await startRanks('collectives.worker.ts', 2, await freePort()).done;
  for (const r of results) {
    assert.equal(r.code, 0, `rank ${r.rank} failed:\n${r.stderr}`);
    const got = resultOf(r);
    assert.deepEqual(got.info, { rank: r.rank, worldSize: 2, backend: 'gloo', timeoutMs: 20_000, broken: null, store: 'tcp' });
    // sums: (arange + 0) + (arange + 10); fulls 1 + 2; the strided view wrote through to its base (1x + 2x)
    assert.deepEqual(got.a, [10, 12, 14, 16, 18, 20]);
    assert.deepEqual(got.b, [3, 3, 3, 3, 3]);
    assert.deepEqual(got.c, [3, 3, 3]);
    assert.equal(got.cDtype, 'int64');
    assert.deepEqual(got.base, [0, 3, 6, 9, 12, 15]);
    assert.deepEqual(got.mean, [2, 2, 2, 2], '(1 + 3) / 2');
    // broadcast from rank 1
    assert.deepEqual(got.broadcastP, [101, 101, 101, 101, 101, 101]);
    assert.deepEqual(got.broadcastQ, [1, 2, 3, 4]);
    // allGather, in rank order
    assert.deepEqual(got.gatheredShape, [4, 2]);
    assert.deepEqual(got.gathered, [0, 0, 0, 0, 1, 1, 1, 1]);
    assert.deepEqual(got.listShapes, [[2, 2], [2, 2]]);
    assert.deepEqual(got.raggedShape, [3, 3]);
    assert.deepEqual(got.ragged, [1, 1, 1, 2, 2, 2, 2, 2, 2]);
    assert.deepEqual(got.scalar, [0.5, 1.5]);
    assert.deepEqual(got.overlapped, [1.5, 1.5], 'async all-reduce: (1 + 2) / 2 everywhere');
    assert.deepEqual(got.during, [0, 7], 'a collective issued while the all-reduce was in flight');
    const other = 1 - r.rank;
    assert.match(String(got.mismatch), new RegExp(`allGather: rank ${other} sent a tensor of dtype float32 and shape \\[2, ${other + 1}\\]`));
    assert.equal(got.leaked, 0, 'live tensor count unchanged');
  }
});
