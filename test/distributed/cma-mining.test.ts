// CMA mining split across ranks: each of 2 processes mines half of the rows and the halves are all-gathered;
// the table equals what one process mines alone, on both ranks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, resultOf, startRanks } from './helpers.js';
import { availableBackends } from '../../src/distributed/index.js';

const skip = availableBackends().includes('gloo') ? false : 'the addon was built without Gloo (install libgloo-dev and rebuild)';

test('mining split over 2 ranks equals single-process mining (odd N, blocks crossing the split)', { skip }, async () => {
  const [n, k, blockSize] = [203, 6, 32];
  const results = await startRanks('cma-mining.worker.ts', 2, await freePort(), [String(n), String(k), String(blockSize)]).done;
  for (const r of results) {
    assert.equal(r.code, 0, `rank ${r.rank} failed:\n${r.stderr}`);
    const got = resultOf(r) as Record<string, { shape: number[]; dtype: string; shared: number[]; alone: number[] }> & { progress: [number, number][]; leaked: number };
    for (const kind of ['agreement', 'union']) {
      assert.deepEqual(got[kind].shape, [n, k]);
      assert.equal(got[kind].dtype, 'int64');
      assert.deepEqual(got[kind].shared, got[kind].alone, `${kind}: rank ${r.rank}'s gathered table differs from single-process mining`);
    }
    // This rank's share: rows [0, 101) or [101, 203), in blocks of 32, then the whole table once gathered.
    const share = r.rank === 0 ? 101 : 102;
    const local = got.progress.filter(([, total]) => total === n).slice(0, Math.ceil(share / blockSize) + 1);
    assert.deepEqual(local.map(([done]) => done), [...Array.from({ length: Math.ceil(share / blockSize) }, (_, i) => Math.min((i + 1) * blockSize, share)), n]);
    assert.equal(got.leaked, 0);
  }
});
