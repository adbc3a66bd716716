// The pieces of the data-size analysis that need no training: nested seeded subsets, the equal-updates
// budget, the summary over repeats, and the settings comparison both analyses refuse mixes with.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../src/config/load.js';
import { nestedSubsetIndices, subsetEntries, checkFractions, subsetSize } from '../../src/analyses/nested-subsets.js';
import { runConfig, stepsPerEpoch, summarise, type DataSizeRun } from '../../src/analyses/data-size.js';
import { settingsDifference, protocolSettings } from '../../src/analyses/protocol.js';
import type { ManifestEntry } from '../../src/data/manifest.js';

test('nested subsets: each fraction lies inside every larger one, seeded by (seed, repeat), sizes round(f·N)', () => {
  const fractions = [0.125, 0.25, 0.5, 1];
  const a = nestedSubsetIndices(1000, fractions, 0, 0);
  assert.deepEqual([...a.values()].map((s) => s.length), [125, 250, 500, 1000]);
  for (let i = 0; i + 1 < fractions.length; i++) {
    const larger = new Set(a.get(fractions[i + 1])!);
    assert.ok(a.get(fractions[i])!.every((x) => larger.has(x)), `${fractions[i]} inside ${fractions[i + 1]}`);
  }
  assert.deepEqual(a.get(1), Array.from({ length: 1000 }, (_, i) => i), 'fraction 1 is the whole manifest');
  assert.deepEqual(nestedSubsetIndices(1000, fractions, 0, 0), a, 'the same seed and repeat give the same subsets');
  assert.notDeepEqual(nestedSubsetIndices(1000, fractions, 0, 1).get(0.125), a.get(0.125), 'another repeat draws another subset');
  assert.notDeepEqual(nestedSubsetIndices(1000, fractions, 1, 0).get(0.125), a.get(0.125), 'another seed draws another subset');
  const sub = a.get(0.125)!;
  assert.deepEqual(sub, [...sub].sort((x, y) => x - y), 'a subset keeps the manifest order');
  assert.equal(subsetSize(10, 0.01), 1, 'never empty');
  assert.deepEqual(checkFractions([1, 0.5, 0.5]), [0.5, 1]);
  assert.throws(() => checkFractions([0.5, 1.5]), /--fractions: each fraction must be in \(0, 1\]; got 1\.5/);
  assert.throws(() => checkFractions([0]), /got 0/);
  const entries = Array.from({ length: 4 }, (_, i) => ({ index: i, path: `/v${i}.mp4` }) as ManifestEntry);
  assert.deepEqual(subsetEntries(entries, [1, 3]).map((e) => [e.index, e.path]), [[0, '/v1.mp4'], [1, '/v3.mp4']], 're-indexed from 0');
});

test('equal epochs keeps the config; equal updates stretches epochs, warm-up, milestones and kept checkpoints', () => {
  const base = parseConfig({
    data: { source: 'x.jsonl', clipsPerVideo: 2 },
    optim: { schedule: { kind: 'multistep', milestones: [6, 8], warmupEpochs: 1 } },
    train: { epochs: 10, batchSize: 50, keepCheckpoints: { every: 5 } },
  });
  assert.equal(stepsPerEpoch(base, 1000), 40);
  const common = { outDir: '/tmp/out', manifest: '/tmp/out/subsets/f0.25-r0.jsonl', videos: 250, fullVideos: 1000 };
  const epochs = runConfig(base, { ...common, name: 'f0.25-r0', equal: 'epochs' });
  assert.equal(epochs.train.epochs, 10);
  assert.equal(epochs.data.source, common.manifest);
  assert.equal(epochs.runsDir, '/tmp/out');
  const updates = runConfig(base, { ...common, name: 'f0.25-r0', equal: 'updates' });
  assert.equal(updates.train.epochs, 40, '400 updates at 10 steps per epoch');
  assert.equal(updates.train.epochs * stepsPerEpoch(updates, 250), 10 * stepsPerEpoch(base, 1000));
  assert.deepEqual(updates.optim.schedule.milestones, [24, 32]);
  assert.equal(updates.optim.schedule.warmupEpochs, 4);
  assert.deepEqual(updates.train.keepCheckpoints, { every: 20 });
  assert.throws(() => runConfig(base, { ...common, videos: 20, name: 'f0.02-r0', equal: 'epochs' }), /f0\.02-r0: 20 video\(s\) × data\.clipsPerVideo 2 make no full batch of train\.batchSize 50/);
});

test('the summary: one run keeps its binomial SE; repeats give the standard error of their mean', () => {
  const run = (fraction: number, repeat: number, accuracy: number, se = 0.02) => ({ fraction, repeat, videos: fraction * 100, accuracy, se }) as DataSizeRun;
  const one = summarise([run(0.5, 0, 0.6), run(1, 0, 0.7)]);
  assert.deepEqual(one.map((s) => [s.fraction, s.accuracy, s.se, s.seSource]), [[0.5, 0.6, 0.02, 'binomial'], [1, 0.7, 0.02, 'binomial']]);
  const two = summarise([run(1, 0, 0.6), run(1, 1, 0.8)]);
  assert.ok(Math.abs(two[0].accuracy - 0.7) < 1e-12);
  assert.ok(Math.abs(two[0].se - 0.1) < 1e-12, 'sd 0.1414 / √2');
  assert.equal(two[0].seSource, 'repeats');
});

test('settingsDifference names every key that differs; protocolSettings checks its options', () => {
  assert.deepEqual(settingsDifference({ a: 1, b: { c: [1, 2] } }, { a: 1, b: { c: [1, 2] } }), []);
  assert.deepEqual(settingsDifference({ a: 1, b: { c: [1, 2] } }, { a: 2, b: { c: [1] }, d: 'x' }), ['a: 1 ≠ 2', 'b.c: [1,2] ≠ [1]', 'd: (none) ≠ "x"']);
  assert.throws(() => protocolSettings({ protocol: 'svm' }), /--data is required for --protocol svm/);
  assert.throws(() => protocolSettings({ protocol: 'svm', data: '/no/such/dir' }), /--data \/no\/such\/dir: not a directory/);
  assert.throws(() => protocolSettings({ protocol: 'eval-av' }), /--labels is required for --protocol eval-av/);
  assert.throws(() => protocolSettings({ protocol: 'probe', data: '.', block: 'conv9x' }), /--block: unknown block 'conv9x'/);
});
