import { test } from 'node:test';
import assert from 'node:assert/strict';
import { samePattern, syncPairs, syncRate } from '../../src/eval/sync-evaluation.js';
import type { ClipGeometry } from '../../src/eval/clip-geometry.js';

const geometry: ClipGeometry = { frames: 8, fps: 8, size: 64, audioSeconds: 1, sampleRate: 24000, hopSeconds: 0.02, windowSeconds: 0.02, freqBins: 129 };

test('a rhythm shifted by a multiple of its period is ambiguous, shifted by half a period it is not', () => {
  const regular = Array.from({ length: 12 }, (_, i) => 0.1 + 0.5 * i);
  const tolerance = 0.5 / 8;
  assert.equal(samePattern(regular, 0.3, 1.3, 1, tolerance), true);
  assert.equal(samePattern(regular, 0.3, 2.32, 1, tolerance), true, 'within half a frame');
  assert.equal(samePattern(regular, 0.3, 1.55, 1, tolerance), false);
  const irregular = [0.2, 0.5, 1.3, 1.6, 1.9, 2.7];
  assert.equal(samePattern(irregular, 0, 1.1, 1, tolerance), false);
  // No events in either window: nothing tells them apart.
  assert.equal(samePattern([5], 0, 2, 1, tolerance), true);
});

test('sync pairs: hard negatives of the same video at least the minimum offset away, inside the file, reproducible', () => {
  const videos = [
    { path: 'a.mp4', durationSec: 3, label: 0, events: [0.25, 0.75, 1.25, 1.75, 2.25, 2.75] },
    { path: 'b.mp4', durationSec: 4, label: 1, events: null },
    { path: 'c.mp4', durationSec: 10, label: 1 },
  ];
  const pairs = syncPairs(videos, geometry, { minOffsetSeconds: 1, pairsPerVideo: 20, seed: 3 });
  assert.equal(pairs.length, 60);
  for (const p of pairs) {
    const v = videos[p.video];
    assert.ok(p.start >= 0 && p.start + 1 <= v.durationSec);
    assert.ok(p.hardStart >= 0 && p.hardStart + 1 <= v.durationSec + 1e-9);
    assert.ok(Math.abs(p.hardStart - p.start) >= 1 - 1e-9, `offset ${p.hardStart - p.start}`);
    assert.notEqual(p.easyVideo, p.video);
    assert.equal(p.ambiguous === null, !v.events);
  }
  // Video a's regular rhythm (period 0.5 s): ambiguous exactly when the shift is near a multiple of 0.5 s.
  for (const p of pairs.filter((q) => q.video === 0)) {
    const shift = Math.abs(p.hardStart - p.start);
    const offPhase = Math.abs(shift / 0.5 - Math.round(shift / 0.5)) * 0.5;
    if (offPhase < 0.03) assert.equal(p.ambiguous, true);
    if (offPhase > 0.07) assert.equal(p.ambiguous, false);
  }
  assert.deepEqual(syncPairs(videos, geometry, { minOffsetSeconds: 1, pairsPerVideo: 20, seed: 3 }), pairs);
  assert.notDeepEqual(syncPairs(videos, geometry, { minOffsetSeconds: 1, pairsPerVideo: 20, seed: 4 }), pairs);
  assert.throws(() => syncPairs([{ path: 'short.mp4', durationSec: 1.5 }, videos[0]], geometry, { minOffsetSeconds: 1, pairsPerVideo: 1, seed: 0 }), /short\.mp4.*no audio window/);
});

test('accuracy with its binomial standard error', () => {
  const r = syncRate([true, true, true, false]);
  assert.equal(r.n, 4);
  assert.equal(r.correct, 3);
  assert.equal(r.accuracy, 0.75);
  assert.ok(Math.abs(r.standardError - Math.sqrt(0.75 * 0.25 / 4)) < 1e-12);
});
