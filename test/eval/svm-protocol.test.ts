import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSvmProtocol, type ClipFeatures, type FitEvent, type ProtocolSample } from '../../src/eval/svm-protocol.js';
import { matrix } from '../../src/eval/svm.js';
import { seededRandom } from '../../src/data/rng.js';

function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/**
 * Samples of `classes` classes over `folds` folds; each sample has `clipsPerSample` clips drawn around a
 * sample-specific point near its class centre. Clip noise is large, so single clips are often wrong and
 * averaging a sample's clips is what makes it right.
 */
function synthetic(o: { classes: number; folds: number; perClassPerFold: number; clipsPerSample: number; dim: number; clipNoise: number; seed: number }) {
  const random = seededRandom(o.seed);
  const centres = Array.from({ length: o.classes }, () => Array.from({ length: o.dim }, () => 2 * gaussian(random)));
  const samples: ProtocolSample[] = [];
  const rows: number[] = [];
  const sampleOfClip: number[] = [];
  for (let fold = 1; fold <= o.folds; fold++) {
    for (let c = 0; c < o.classes; c++) {
      for (let k = 0; k < o.perClassPerFold; k++) {
        const s = samples.length;
        samples.push({ label: c, fold, group: `f${fold}c${c}r${Math.floor(k / 2)}` }); // two samples per recording
        const point = centres[c].map((v) => v + 0.5 * gaussian(random));
        for (let j = 0; j < o.clipsPerSample; j++) {
          rows.push(...point.map((v) => v + o.clipNoise * gaussian(random)));
          sampleOfClip.push(s);
        }
      }
    }
  }
  const clips: ClipFeatures = { features: matrix(Float32Array.from(rows), sampleOfClip.length, o.dim), sampleOfClip };
  return { samples, clips };
}

test('synthetic problem: averaging clip scores classifies samples; per-fold and mean accuracy', () => {
  const { samples, clips } = synthetic({ classes: 4, folds: 5, perClassPerFold: 4, clipsPerSample: 6, dim: 8, clipNoise: 3, seed: 1 });
  const lines: string[] = [];
  const r = runSvmProtocol(samples, clips, 4, { cGrid: [0.01, 1], log: (l) => lines.push(l) });
  assert.equal(r.folds.length, 5);
  assert.deepEqual(r.folds.map((f) => f.fold), [1, 2, 3, 4, 5]);
  for (const f of r.folds) {
    assert.equal(f.testSamples, 16);
    assert.equal(f.trainSamples, 64);
    assert.equal(f.trainClips, 64 * 6, 'every clip of every training sample is an example');
    assert.equal(f.innerAccuracy.length, 2);
  }
  assert.ok(r.meanAccuracy >= 0.9, `sample accuracy ${r.meanAccuracy}`);
  assert.ok(r.meanClipAccuracy < r.meanAccuracy - 0.1, `clip accuracy ${r.meanClipAccuracy} well below sample accuracy ${r.meanAccuracy}`);
  assert.ok(Math.abs(r.meanAccuracy - r.folds.reduce((a, f) => a + f.accuracy, 0) / 5) < 1e-12);
  assert.equal(lines.length, 5);
  assert.match(lines[0], /^fold 1: accuracy \d+\.\d% \(clip \d+\.\d%\), C=/);
});

test('no leakage: test samples and their recordings never reach training, C is chosen without the test fold', () => {
  const { samples, clips } = synthetic({ classes: 3, folds: 4, perClassPerFold: 4, clipsPerSample: 3, dim: 5, clipNoise: 2, seed: 2 });
  const events: FitEvent[] = [];
  const r = runSvmProtocol(samples, clips, 3, { cGrid: [0.001, 0.1, 10], onFit: (e) => events.push(e) });
  assert.equal(events.filter((e) => e.stage === 'final').length, 4);
  assert.equal(events.filter((e) => e.stage === 'inner').length, 4 * 3 * 3, '4 outer folds × 3 inner folds × 3 C');
  for (const e of events) {
    const trainGroups = new Set(e.trainSamples.map((s) => samples[s].group));
    for (const s of e.trainSamples) assert.notEqual(samples[s].fold, e.outerFold, `${e.stage}: a test-fold sample in training`);
    for (const s of e.scoredSamples) assert.ok(!trainGroups.has(samples[s].group), `${e.stage}: a scored sample's recording in training`);
    if (e.stage === 'inner') {
      for (const s of e.scoredSamples) assert.notEqual(samples[s].fold, e.outerFold, 'inner validation uses the test fold');
      for (const s of e.scoredSamples) assert.equal(samples[s].fold, e.innerFold);
    } else {
      assert.ok(e.scoredSamples.every((s) => samples[s].fold === e.outerFold));
      assert.equal(e.C, r.folds.find((f) => f.fold === e.outerFold)!.chosenC);
    }
  }
  // Scrambling the test fold's features changes nothing about how C was chosen for that fold.
  const scrambled = Float32Array.from(clips.features.data);
  const random = seededRandom(99);
  for (let c = 0; c < clips.sampleOfClip.length; c++) {
    if (samples[clips.sampleOfClip[c]].fold !== 2) continue;
    for (let k = 0; k < 5; k++) scrambled[c * 5 + k] = 100 * gaussian(random);
  }
  const r2 = runSvmProtocol(samples, { ...clips, features: matrix(scrambled, clips.features.rows, 5) }, 3, { cGrid: [0.001, 0.1, 10], testFolds: [2] });
  const before = r.folds.find((f) => f.fold === 2)!;
  assert.equal(r2.folds.length, 1);
  assert.deepEqual(r2.folds[0].innerAccuracy, before.innerAccuracy);
  assert.equal(r2.folds[0].chosenC, before.chosenC);
});

test('separate test clips score test samples; bad input is rejected', () => {
  const { samples, clips } = synthetic({ classes: 2, folds: 2, perClassPerFold: 4, clipsPerSample: 2, dim: 3, clipNoise: 0.1, seed: 3 });
  const sampleOfClip = Array.from(clips.sampleOfClip);
  // Test clips whose features point to the wrong class: accuracy collapses, proving they are the ones scored.
  const swapped = Float32Array.from(clips.features.data);
  const byClass = [0, 1].map((c) => sampleOfClip.findIndex((s) => samples[s].label === c));
  for (let c = 0; c < clips.sampleOfClip.length; c++) {
    const other = byClass[1 - samples[clips.sampleOfClip[c]].label];
    for (let k = 0; k < 3; k++) swapped[c * 3 + k] = clips.features.data[other * 3 + k];
  }
  const normal = runSvmProtocol(samples, clips, 2, { cGrid: [1] });
  const wrong = runSvmProtocol(samples, clips, 2, { cGrid: [1], testClips: { features: matrix(swapped, clips.features.rows, 3), sampleOfClip: clips.sampleOfClip } });
  assert.equal(normal.meanAccuracy, 1);
  assert.equal(wrong.meanAccuracy, 0);
  assert.equal(normal.folds[0].innerAccuracy.length, 0, 'a single C needs no inner cross-validation');
  assert.throws(() => runSvmProtocol(samples, { ...clips, sampleOfClip: sampleOfClip.slice(1) }, 2), /but \d+ clip→sample entries/);
  assert.throws(() => runSvmProtocol(samples, clips, 2, { cGrid: [] }), /cGrid must list positive values/);
  assert.throws(() => runSvmProtocol(samples.map((s) => ({ ...s, label: s.label + 1 })), clips, 2), /label 2, outside 0\.\.1/);
  const lonely = [...samples, { label: 0, fold: 1, group: 'x' }];
  assert.throws(() => runSvmProtocol(lonely, clips, 2), /sample 16 has no clips/);
});
