import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LongFormSampler } from '../../src/data/long-form-sampler.js';

const clipsPerVideo = [30, 17, 24, 9, 40];

for (const [k, w] of [[1, 'video'], [4, 'video'], [4, 8], [8, 8], [3, 10]] as const) {
  test(`long-form batches satisfy k=${k}, w=${w} exactly and visit every clip once`, () => {
    const batchSize = 8 * k;
    const sampler = new LongFormSampler(clipsPerVideo, { k, w, batchSize, seed: 1 });
    const order = sampler.epochOrder(0);
    assert.equal(order.length, sampler.size);
    assert.deepEqual([...order].sort((a, b) => a - b), Array.from({ length: sampler.size }, (_, i) => i), 'every clip exactly once');
    const { groups, leftovers } = sampler.groups(0);
    const grouped = groups.length * k;
    for (let g = 0; g < groups.length; g++) {
      const members = order.slice(g * k, (g + 1) * k).map((i) => sampler.locate(i));
      assert.ok(members.every((m) => m.video === members[0].video), 'a group comes from one video');
      const clips = members.map((m) => m.clip);
      if (w !== 'video') {
        // Windows are aligned at multiples of w: every member lies in the same window.
        assert.ok(clips.every((c) => Math.floor(c / w) === Math.floor(clips[0] / w)), `group within a window of ${w}: ${clips}`);
      }
    }
    // Groups never straddle a batch boundary, since the batch size is a multiple of k.
    assert.equal(batchSize % k, 0);
    assert.equal(order.length - grouped, leftovers.length);
    if (k === 1) assert.equal(leftovers.length, 0);
  });
}

test('different epochs give different orders; the same epoch the same', () => {
  const s = new LongFormSampler(clipsPerVideo, { k: 4, w: 'video', batchSize: 16, seed: 3 });
  assert.deepEqual(s.epochOrder(2), s.epochOrder(2));
  assert.notDeepEqual(s.epochOrder(2), s.epochOrder(3));
});

test('bad settings are refused with the reason', () => {
  assert.throws(() => new LongFormSampler([5], { k: 4, w: 2, batchSize: 8, seed: 0 }), /w must be 'video' or an integer ≥ k/);
  assert.throws(() => new LongFormSampler([5], { k: 3, w: 'video', batchSize: 8, seed: 0 }), /multiple of k/);
});
