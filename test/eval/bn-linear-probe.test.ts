import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/tensor/index.js';
import { trainBnLinearProbe, type BnProbeSchedule, type TrainingDraw } from '../../src/eval/bn-linear-probe.js';
import { linearProbe } from '../../src/eval/linear-probe.js';
import { matrix, type FeatureMatrix } from '../../src/eval/svm.js';
import { seededRandom } from '../../src/data/rng.js';
import type { ClipFeatures, ProtocolSample } from '../../src/eval/svm-protocol.js';

T.setNumThreads(1);

function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** Rows of `labels`, class c centred at offset + c·separation on every dimension, unit noise. */
function rowsOf(labels: number[], dim: number, separation: number, offset: number, seed: number): FeatureMatrix {
  const random = seededRandom(seed);
  const data = new Float32Array(labels.length * dim);
  labels.forEach((label, r) => {
    for (let j = 0; j < dim; j++) data[r * dim + j] = offset + label * separation * (j % 2 === 0 ? 1 : -1) + gaussian(random);
  });
  return matrix(data, labels.length, dim);
}

const schedule = (o: Partial<BnProbeSchedule> = {}): BnProbeSchedule => ({ epochs: 12, milestones: [6, 9], gamma: 0.1, lr: 0.05, batchSize: 16, weightDecay: 0, seed: 1, ...o });

function accuracy(p: Float32Array, labels: number[], K: number): number {
  let correct = 0;
  labels.forEach((label, r) => {
    let best = 0;
    for (let c = 1; c < K; c++) if (p[r * K + c] > p[r * K + best]) best = c;
    if (best === label) correct++;
  });
  return correct / labels.length;
}

test('BN probe: test predictions use the running statistics, not the statistics of the scored batch', () => {
  const trainLabels = Array.from({ length: 128 }, (_, i) => i % 2);
  // A large common offset: batch norm's statistics matter. The test set holds one class only, so the batch
  // statistics of the scored clips would centre them on the decision boundary.
  const draw: TrainingDraw = { features: rowsOf(trainLabels, 8, 2.5, 20, 1), labels: trainLabels };
  const fit = trainBnLinearProbe([draw], 2, schedule());
  try {
    const testLabels = new Array<number>(40).fill(1);
    const test = rowsOf(testLabels, 8, 2.5, 20, 2);
    const p = fit.probe.predict(test);
    assert.ok(accuracy(p, testLabels, 2) >= 0.95, `one-class test set scored ${accuracy(p, testLabels, 2)}`);
    // One clip at a time gives the same probabilities as the whole set (batch statistics of one row are degenerate).
    for (const r of [0, 17, 39]) {
      const one = fit.probe.predict(matrix(test.data.slice(r * 8, (r + 1) * 8) as Float32Array, 1, 8));
      for (let c = 0; c < 2; c++) assert.ok(Math.abs(one[c] - p[r * 2 + c]) < 1e-5, `row ${r} class ${c}: ${one[c]} alone vs ${p[r * 2 + c]} in the set`);
    }
  } finally {
    fit.probe.dispose();
  }
});

test('BN probe: the learning rate drops ×0.1 at the milestones, and the updates shrink with it', () => {
  // Far from convergence (tiny lr, heavy class overlap): Adam's steps keep the size of the lr, so each drop
  // shows in the weight updates.
  const labels = Array.from({ length: 64 }, (_, i) => i % 4);
  const fit = trainBnLinearProbe([{ features: rowsOf(labels, 6, 0.3, 0, 3), labels }], 4, schedule({ lr: 1e-4 }));
  fit.probe.dispose();
  const expected = [...new Array(6).fill(1e-4), ...new Array(3).fill(1e-5), ...new Array(3).fill(1e-6)];
  fit.lrByEpoch.forEach((lr, e) => assert.ok(Math.abs(lr - expected[e]) < 1e-12 * expected[e] + 1e-18, `epoch ${e}: lr ${lr}, expected ${expected[e]}`));
  const mean = (from: number, to: number) => fit.updateNormByEpoch.slice(from, to).reduce((a, b) => a + b, 0) / (to - from);
  const [first, second, third] = [mean(0, 6), mean(6, 9), mean(9, 12)];
  assert.ok(second / first > 0.05 && second / first < 0.2, `updates after epoch 6: ×${second / first}`);
  assert.ok(third / first > 0.005 && third / first < 0.02, `updates after epoch 9: ×${third / first}`);
  assert.equal(fit.steps, 12 * 4, '64 rows in batches of 16');
});

test('BN probe: draws cycle per epoch, incomplete batches are dropped, a set smaller than the batch takes one step', () => {
  const a = [0, 1, 0, 1, 0, 1, 0, 1, 0, 1];
  const b = [...a, ...a, 0, 1];
  const draws = [
    { features: rowsOf(a, 3, 2, 0, 4), labels: a },
    { features: rowsOf(b, 3, 2, 0, 5), labels: b },
  ];
  const fit = trainBnLinearProbe(draws, 2, schedule({ epochs: 3, milestones: [], batchSize: 4 }));
  fit.probe.dispose();
  assert.equal(fit.steps, 2 + 5 + 2, 'epoch 0: ⌊10/4⌋, epoch 1: ⌊22/4⌋, epoch 2: ⌊10/4⌋');
  const small = trainBnLinearProbe(draws.slice(0, 1), 2, schedule({ epochs: 5, milestones: [], batchSize: 64 }));
  small.probe.dispose();
  assert.equal(small.steps, 5);
});

test('BN probe: no tensor left behind, seeded, and clear errors for bad options', () => {
  const labels = Array.from({ length: 40 }, (_, i) => i % 3);
  const draw = { features: rowsOf(labels, 5, 2, 1, 6), labels };
  const before = T.memory().liveTensors;
  const run = () => {
    const fit = trainBnLinearProbe([draw], 3, schedule({ epochs: 4, milestones: [2] }));
    try {
      return Array.from(fit.probe.predict(draw.features));
    } finally {
      fit.probe.dispose();
    }
  };
  const first = run();
  assert.equal(T.memory().liveTensors, before, 'every tensor disposed');
  assert.deepEqual(run(), first, 'seeded: reproducible');
  assert.throws(() => trainBnLinearProbe([draw], 3, schedule({ epochs: 0 })), /epochs must be an integer ≥ 1, got 0/);
  assert.throws(() => trainBnLinearProbe([draw], 3, schedule({ milestones: [12] })), /milestone 12 must be an integer epoch in 1\.\.11/);
  assert.throws(() => trainBnLinearProbe([draw], 3, schedule({ milestones: [9, 6] })), /milestones must increase/);
  assert.throws(() => trainBnLinearProbe([draw], 3, schedule({ batchSize: 1 })), /batchSize must be an integer ≥ 2/);
  assert.throws(() => trainBnLinearProbe([draw], 3, schedule({ lr: -1 })), /lr must be a finite number > 0/);
  assert.throws(() => trainBnLinearProbe([draw], 3, schedule({ gamma: 0 })), /gamma must be in \(0, 1\]/);
  assert.throws(() => trainBnLinearProbe([{ ...draw, labels: labels.map((l) => l + 1) }], 3, schedule()), /row \d+ has label 3, outside 0\.\.2/);
  assert.throws(() => trainBnLinearProbe([draw, { features: rowsOf(labels, 4, 2, 1, 6), labels }], 3, schedule()), /training draw 1 has 4 features, draw 0 has 5/);
  assert.throws(() => trainBnLinearProbe([], 3, schedule()), /no training draws/);
  assert.equal(T.memory().liveTensors, before, 'failed calls leave nothing behind');
});

/** Samples with one scored clip each; `informative` false gives their training rows no class signal. */
function probeProblem(seed: number) {
  const samples: ProtocolSample[] = Array.from({ length: 120 }, (_, i) => ({ label: i % 3, fold: i < 30 ? 1 : 2, group: `g${i}` }));
  const labels = samples.map((s) => s.label);
  const informative = rowsOf(labels, 6, 2, 5, seed);
  const noise = rowsOf(labels.map(() => 0), 6, 0, 5, seed + 1);
  const sampleOfClip = samples.map((_, i) => i);
  const train = samples.flatMap((s, i) => (s.fold === 2 ? [i] : []));
  const test = samples.flatMap((s, i) => (s.fold === 1 ? [i] : []));
  // Scored clips: informative for the test samples, noise for the training samples.
  const scored = new Float32Array(informative.data);
  for (const i of train) scored.set(noise.data.slice(i * 6, (i + 1) * 6), i * 6);
  const clips: ClipFeatures = { features: matrix(scored, 120, 6), sampleOfClip };
  const draw = (s: number): ClipFeatures => ({ features: rowsOf(labels, 6, 2, 5, s), sampleOfClip });
  return { samples, clips, train, test, draw };
}

test('linearProbe recipe reference: trains on the training draws, scores the clips, validates, leaks nothing', () => {
  const { samples, clips, train, test: testSamples, draw } = probeProblem(7);
  const before = T.memory().liveTensors;
  const options = { recipe: 'reference' as const, lr: 0.05, batchSize: 16, epochs: 24 };
  const fixedClipsOnly = linearProbe(samples, clips, train, testSamples, 3, options);
  const withDraws = linearProbe(samples, clips, train, testSamples, 3, { ...options, trainingDraws: [draw(8), draw(9), draw(10)] });
  assert.equal(T.memory().liveTensors, before, 'every tensor disposed');
  assert.ok(fixedClipsOnly.clipAccuracy < 0.6, `trained on noise: clip@1 ${fixedClipsOnly.clipAccuracy}`);
  assert.ok(withDraws.clipAccuracy > 0.9, `trained on the draws: clip@1 ${withDraws.clipAccuracy}`);
  assert.equal(withDraws.validation.length, 1, 'one validation fit, for choosing a block');
  // The held-out training samples are scored on their `clips` rows (noise here), never on their draws.
  assert.ok(withDraws.validation[0].clipAccuracy < 0.6, `validation clip@1 ${withDraws.validation[0].clipAccuracy} on noise clips`);
  assert.equal(withDraws.chosenWeightDecay, 0);
});

test('linearProbe: options of one recipe given to the other, and draws missing a training sample, are errors', () => {
  const { samples, clips, train, test: testSamples, draw } = probeProblem(11);
  const probe = (o: Parameters<typeof linearProbe>[5]) => () => linearProbe(samples, clips, train, testSamples, 3, o);
  assert.throws(probe({ recipe: 'bogus' as 'fixed' }), /recipe must be one of fixed, reference, got 'bogus'/);
  assert.throws(probe({ recipe: 'reference', steps: 10 }), /steps applies to the fixed recipe/);
  assert.throws(probe({ epochs: 3 }), /epochs applies to the reference recipe, not 'fixed'/);
  assert.throws(probe({ trainingDraws: [draw(1)] }), /trainingDraws applies to the reference recipe/);
  const partial = draw(2);
  const dropped: ClipFeatures = { features: matrix(partial.features.data.slice(0, 119 * 6) as Float32Array, 119, 6), sampleOfClip: Array.from(partial.sampleOfClip).slice(0, 119) };
  assert.throws(probe({ recipe: 'reference', trainingDraws: [dropped] }), /training draw 0 has no clip of training sample 119/);
  assert.throws(probe({ recipe: 'reference', epochs: 4, milestones: [4] }), /milestone 4 must be an integer epoch in 1\.\.3/);
});
