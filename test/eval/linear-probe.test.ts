import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/tensor/index.js';
import { linearProbe, linearProbeFolds } from '../../src/eval/linear-probe.js';
import { matrix } from '../../src/eval/svm.js';
import { seededRandom } from '../../src/data/rng.js';
import type { ClipFeatures, ProtocolSample } from '../../src/eval/svm-protocol.js';

// Small problems: one libtorch thread avoids OpenMP contention on a shared machine (10× faster here).
T.setNumThreads(1);

function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

function synthetic(classes: number, samplesPerClass: number, clipsPerSample: number, dim: number, clipNoise: number, seed: number) {
  const random = seededRandom(seed);
  const centres = Array.from({ length: classes }, () => Array.from({ length: dim }, () => 1.5 * gaussian(random)));
  const samples: ProtocolSample[] = [];
  const rows: number[] = [];
  const sampleOfClip: number[] = [];
  for (let i = 0; i < classes * samplesPerClass; i++) {
    const label = i % classes;
    samples.push({ label, fold: 1 + (Math.floor(i / classes) % 3), group: `r${i}` });
    const point = centres[label].map((v) => v + 0.3 * gaussian(random));
    for (let j = 0; j < clipsPerSample; j++) {
      rows.push(...point.map((v) => v + clipNoise * gaussian(random)));
      sampleOfClip.push(i);
    }
  }
  const clips: ClipFeatures = { features: matrix(Float32Array.from(rows), sampleOfClip.length, dim), sampleOfClip };
  return { samples, clips };
}

test('probe: clip@1 from single clips, video@1 from averaged predictions; no tensor leaks', () => {
  const { samples, clips } = synthetic(4, 30, 5, 10, 2.5, 1);
  const train = samples.map((_, i) => i).filter((i) => samples[i].fold !== 1);
  const testSet = samples.map((_, i) => i).filter((i) => samples[i].fold === 1);
  const before = T.memory().liveTensors;
  const r = linearProbe(samples, clips, train, testSet, 4, { weightDecays: [0, 1e-2, 30], steps: 200 });
  assert.equal(T.memory().liveTensors, before, 'every tensor disposed');
  assert.equal(r.validation.length, 3);
  assert.notEqual(r.chosenWeightDecay, 30, 'a crushing weight decay is not chosen');
  assert.ok(r.validation[2].clipAccuracy < r.validation[0].clipAccuracy, 'weight decay 30 hurts on validation');
  assert.ok(r.clipAccuracy > 0.5 && r.clipAccuracy < 0.95, `clip@1 ${r.clipAccuracy} (noisy clips)`);
  assert.ok(r.videoAccuracy >= r.clipAccuracy + 0.05, `video@1 ${r.videoAccuracy} beats clip@1 ${r.clipAccuracy}`);
  assert.ok(Number.isFinite(r.finalTrainLoss) && r.finalTrainLoss < Math.log(4));
});

test('probe fits separable data exactly, with full batch or mini-batches', () => {
  const { samples, clips } = synthetic(3, 10, 2, 6, 0.05, 2);
  const all = samples.map((_, i) => i);
  const train = all.filter((i) => i % 2 === 0);
  const testSet = all.filter((i) => i % 2 === 1);
  const full = linearProbe(samples, clips, train, testSet, 3, { weightDecays: [0], steps: 200 });
  assert.equal(full.clipAccuracy, 1);
  assert.equal(full.videoAccuracy, 1);
  assert.equal(full.validation.length, 0);
  assert.ok(full.finalTrainLoss < 0.05, `loss ${full.finalTrainLoss}`);
  const mini = linearProbe(samples, clips, train, testSet, 3, { weightDecays: [0], steps: 1000, batchSize: 8, seed: 3 });
  assert.equal(mini.videoAccuracy, 1);
  assert.deepEqual(mini, linearProbe(samples, clips, train, testSet, 3, { weightDecays: [0], steps: 1000, batchSize: 8, seed: 3 }), 'seeded: reproducible');
  assert.throws(() => linearProbe(samples, clips, [0, 1], [1, 2], 3), /sample 1 is in both the training and the test set/);
  assert.throws(() => linearProbe(samples, clips, [0], [2], 2), /sample 2 has label 2, outside 0\.\.1/);
});

test('probe over folds', () => {
  const { samples, clips } = synthetic(3, 12, 2, 5, 0.5, 4);
  const lines: string[] = [];
  const r = linearProbeFolds(samples, clips, 3, { weightDecays: [1e-3], steps: 100, log: (l) => lines.push(l) });
  assert.deepEqual(r.folds.map((f) => [f.fold, f.trainSamples, f.testSamples]), [[1, 24, 12], [2, 24, 12], [3, 24, 12]]);
  assert.ok(r.meanVideoAccuracy > 0.9, `video@1 ${r.meanVideoAccuracy}`);
  assert.equal(lines.length, 3);
});

test('probe: video-level confusion counts (row = true class, column = predicted) sum to the test samples and give video@1', () => {
  const { samples, clips } = synthetic(4, 30, 5, 10, 2.5, 1);
  const train = samples.map((_, i) => i).filter((i) => samples[i].fold !== 1);
  const testSet = samples.map((_, i) => i).filter((i) => samples[i].fold === 1);
  const r = linearProbe(samples, clips, train, testSet, 4, { weightDecays: [1e-2], steps: 200 });
  assert.equal(r.videoConfusion.length, 4);
  for (const row of r.videoConfusion) assert.equal(row.length, 4);
  const total = r.videoConfusion.flat().reduce((a, b) => a + b, 0);
  assert.equal(total, testSet.length, 'one count per test sample');
  const diagonal = r.videoConfusion.reduce((a, row, k) => a + row[k], 0);
  assert.equal(diagonal / total, r.videoAccuracy, 'the diagonal is the video@1 accuracy');
  for (let k = 0; k < 4; k++) {
    const perClass = testSet.filter((s) => samples[s].label === k).length;
    assert.equal(r.videoConfusion[k].reduce((a, b) => a + b, 0), perClass, `row ${k} counts the test samples of class ${k}`);
  }

  // Orientation: a test sample whose features are class 0's but whose label says class 2 lands in row 2, column 0.
  const separable = synthetic(3, 10, 2, 6, 0.05, 2);
  const all = separable.samples.map((_, i) => i);
  const trainSeparable = all.filter((i) => i % 2 === 0);
  const testSeparable = all.filter((i) => i % 2 === 1);
  const relabelled = testSeparable.find((i) => separable.samples[i].label === 0)!;
  const samplesWithWrongLabel = separable.samples.map((s, i) => (i === relabelled ? { ...s, label: 2 } : s));
  const wrong = linearProbe(samplesWithWrongLabel, separable.clips, trainSeparable, testSeparable, 3, { weightDecays: [0], steps: 200 });
  assert.equal(wrong.videoConfusion[2][0], 1, 'true class 2, predicted class 0');
  assert.equal(wrong.videoConfusion[0][2], 0);
  assert.equal(wrong.videoAccuracy, (testSeparable.length - 1) / testSeparable.length);
});
