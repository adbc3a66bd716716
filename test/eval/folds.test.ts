import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { kFoldSplits, groupKFold, innerSplits, assertNoGroupLeak } from '../../src/eval/folds.js';
import { labelsFromEscDirectory } from '../../src/eval/labels.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const esc10 = path.resolve(repoRoot, '../shared/data/esc10');

test('k-fold splits by the fold column partition the data', () => {
  const entries = [1, 2, 3, 1, 2, 3, 3].map((fold, i) => ({ fold, group: `g${i}` }));
  const splits = kFoldSplits(entries);
  assert.deepEqual(splits.map((s) => s.heldOutFold), [1, 2, 3]);
  assert.deepEqual(splits[2].test, [2, 5, 6]);
  assert.deepEqual(splits[2].train, [0, 1, 3, 4]);
  for (const s of splits) assert.equal(s.train.length + s.test.length, entries.length);
  assert.deepEqual(kFoldSplits(entries, [3]).map((s) => s.heldOutFold), [3]);
  assert.throws(() => kFoldSplits(entries, [9]), /test fold 9 is not in the labels/);
  assert.throws(() => kFoldSplits([{ fold: 1, group: 'a' }]), /at least 2 folds/);
});

test('group k-fold keeps groups whole, is seeded and balanced', () => {
  const entries = Array.from({ length: 60 }, (_, i) => ({ fold: 1, group: `r${Math.floor(i / 3)}` }));
  const indices = entries.map((_, i) => i);
  const a = groupKFold(entries, indices, 4, 7);
  assert.deepEqual(a, groupKFold(entries, indices, 4, 7), 'same seed, same split');
  assert.notDeepEqual(a, groupKFold(entries, indices, 4, 8), 'another seed, another split');
  const covered = a.flatMap((s) => s.test).sort((x, y) => x - y);
  assert.deepEqual(covered, indices, 'each item validated exactly once');
  for (const s of a) {
    assertNoGroupLeak(entries, s);
    assert.ok(s.test.length === 15, `balanced parts, got ${s.test.length}`);
  }
});

test('a leaking split is detected', () => {
  const entries = [
    { fold: 1, group: 'x' },
    { fold: 2, group: 'x' },
  ];
  assert.throws(() => assertNoGroupLeak(entries, { heldOutFold: 1, train: [1], test: [0] }), /'x' is in both train and test/);
});

test('ESC-10: no recording in both train and test of any outer or inner split', (t) => {
  if (!existsSync(esc10)) return t.skip(`ESC-10 not found at ${esc10}`);
  const { entries } = labelsFromEscDirectory(esc10);
  const clipsPerGroup = new Map<string, number>();
  for (const e of entries) clipsPerGroup.set(e.group, (clipsPerGroup.get(e.group) ?? 0) + 1);
  const multiClip = [...clipsPerGroup.values()].filter((n) => n > 1);
  assert.ok(multiClip.length > 10, 'ESC-10 has recordings cut into several clips: the test is meaningful');
  const splits = kFoldSplits(entries);
  assert.equal(splits.length, 5);
  for (const split of splits) {
    assert.equal(split.test.length, 80);
    assertNoGroupLeak(entries, split);
    const trainSet = new Set(split.train);
    for (const i of split.test) assert.ok(!trainSet.has(i));
    for (const inner of innerSplits(entries, split.train)) {
      assertNoGroupLeak(entries, inner);
      for (const i of [...inner.train, ...inner.test]) assert.ok(trainSet.has(i), 'inner splits stay within the training folds');
    }
  }
});
