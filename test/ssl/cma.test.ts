import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/tensor/index.js';
import { minePositives, positivePrecision, type AgreementKind } from '../../src/ssl/cma-mining.js';
import { sampleOutside } from '../../src/ssl/negatives.js';
import { CmaObjective } from '../../src/ssl/cma.js';
import { diagnoseBanks, diagnosticsMetric, positiveBreakdown } from '../../src/demo/cma-diagnostics.js';
import { MetricRecordSchema } from '../../src/report/index.js';

function bruteForce(v: number[][], a: number[][], k: number, kind: AgreementKind): number[][] {
  const dot = (x: number[], y: number[]) => x.reduce((s, xi, i) => s + xi * y[i], 0);
  return v.map((_, i) => {
    const scores = v.map((_, j) => {
      const sv = dot(v[i], v[j]);
      const sa = dot(a[i], a[j]);
      const s = kind === 'agreement' ? Math.min(sv, sa) : kind === 'union' ? Math.max(sv, sa) : kind === 'video' ? sv : sa;
      return { j, s: j === i ? -Infinity : s };
    });
    return scores.sort((x, y) => y.s - x.s).slice(0, k).map((x) => x.j);
  });
}

const rows = (t: T.Tensor) => {
  const [n, d] = t.shape;
  const flat = t.toArray();
  return Array.from({ length: n }, (_, i) => flat.slice(i * d, (i + 1) * d));
};

test('blocked mining equals a brute-force computation for every agreement kind', () => {
  T.manualSeed(5);
  const v = T.functional.normalize(T.randn([37, 6]).to('float64'));
  const a = T.functional.normalize(T.randn([37, 6]).to('float64'));
  for (const kind of ['agreement', 'union', 'video', 'audio'] as const) {
    const mined = minePositives(v, a, { k: 5, kind, blockSize: 8 });
    const flat = mined.toArray();
    const expected = bruteForce(rows(v), rows(a), 5, kind);
    expected.forEach((row, i) => assert.deepEqual(flat.slice(i * 5, i * 5 + 5), row, `${kind} row ${i}`));
    mined.dispose();
  }
});

test('negatives drawn outside the positives never overlap them nor the anchor, and cover the rest uniformly', () => {
  const forbidden = T.tensor(BigInt64Array.from([4n, 0n, 7n, 2n]), [1, 4]);
  const draws = sampleOutside(forbidden, 10, 6000, new T.Generator(2)).toArray();
  const counts = new Map<number, number>();
  for (const d of draws) counts.set(d, (counts.get(d) ?? 0) + 1);
  assert.deepEqual([...counts.keys()].sort((x, y) => x - y), [1, 3, 5, 6, 8, 9]);
  for (const c of counts.values()) assert.ok(Math.abs(c - 1000) < 5 * Math.sqrt(1000), `count ${c}`);
});

test('precision@K counts positives that share the anchor label', () => {
  const positives = T.tensor(BigInt64Array.from([1n, 2n, 0n, 3n, 0n, 1n, 2n, 0n]), [4, 2]);
  assert.equal(positivePrecision(positives, [0, 0, 1, 1]), (1 + 1 + 0 + 1) / 8);
});

test('the CMA objective mines, trains wMPD without touching the anchor, and leaks nothing', () => {
  T.manualSeed(7);
  const objective = new CmaObjective({ numInstances: 30, dim: 8, negatives: 10, positives: 3, candidates: 5, wmpdNegatives: 12, lambda: 1, agreement: 'agreement', remineEveryEpochs: 2 });
  objective.beforeEpoch(0);
  const positives = objective.positives!.toArray();
  for (let i = 0; i < 30; i++) assert.ok(!positives.slice(i * 5, i * 5 + 5).includes(i));
  const ctx = { seed: 0, epoch: 0, step: 0, gather: (t: T.Tensor) => t.alias() };
  const video = T.functional.normalize(T.randn([6, 8])).requiresGrad_();
  const audio = T.functional.normalize(T.randn([6, 8])).requiresGrad_();
  const index = T.arange(6);
  const before = T.memory().liveTensors;
  const out = objective.loss({ video, audio, index }, ctx);
  assert.deepEqual(Object.keys(out.terms), ['v2a', 'a2v', 'wmpd_v', 'wmpd_a']);
  out.loss.backward();
  out.loss.dispose();
  objective.afterStep({ video, audio, index }, ctx);
  assert.equal(T.memory().liveTensors, before);
  // Re-mined only every 2 epochs.
  const first = objective.positives;
  objective.beforeEpoch(1);
  assert.equal(objective.positives, first);
  objective.beforeEpoch(2);
  assert.notEqual(objective.positives, first);
  objective.dispose();
});

// Banks of a tiny world of 4 classes in 2 look-alike pairs (0,1), (2,3) and 2 sound-alike pairs (0,2), (1,3):
// the video bank knows only the look, the audio bank only the sound, so each modality confuses one twin.
function twinBanks(perClass: number, seed: number): { banks: { video: T.Tensor; audio: T.Tensor }; labels: number[] } {
  const labels = Array.from({ length: 4 * perClass }, (_, i) => i % 4);
  const g = new T.Generator(seed);
  const code = (which: (l: number) => number) =>
    T.tidy(() => {
      const rows = labels.map((l) => Array.from({ length: 8 }, (_, d) => (d === which(l) ? 3 : 0)));
      return T.functional.normalize(T.tensor(Float32Array.from(rows.flat()), [labels.length, 8]).add(T.randn([labels.length, 8], { generator: g })), 2, 1);
    });
  return { banks: { video: code((l) => (l < 2 ? 0 : 1)), audio: code((l) => (l % 2 === 0 ? 2 : 3)) }, labels };
}

test('diagnostics: agreement rejects the twins each modality confuses, and the memory probe needs both banks', () => {
  const { banks, labels } = twinBanks(20, 3);
  const before = T.memory().liveTensors;
  const samples = labels.map((label, i) => ({ label, fold: (i % 5) + 1, group: `g${i}` }));
  const d = diagnoseBanks(banks, samples, { k: 4, twinOf: { 0: 1, 1: 0, 2: 3, 3: 2 } });
  assert.equal(T.memory().liveTensors, before);
  assert.equal(d.n, 80);
  // Video-only expansion draws from the look-alike twin (the given twin), audio-only from the sound-alike one.
  assert.ok(d.positives.agreement.precision > 0.9, `agreement ${d.positives.agreement.precision}`);
  for (const kind of ['video', 'audio', 'union'] as const) assert.ok(d.positives[kind].precision < 0.75, `${kind} ${d.positives[kind].precision}`);
  assert.ok(d.positives.video.twin > 0.3 && d.positives.audio.twin < 0.05, JSON.stringify(d.positives.video));
  assert.ok(d.separation.video.twin > d.separation.video.other && d.separation.audio.twin < d.separation.audio.other);
  const p = d.probe!;
  assert.ok(p.video < 0.7 && p.audio < 0.7 && p.both > 0.9, JSON.stringify(p));
  // One flat epoch record that the run's metrics schema accepts.
  const record = diagnosticsMetric(3, d, 'test');
  assert.equal(MetricRecordSchema.safeParse(record).success, true);
  assert.equal(record.precision_agreement, Math.round(1e4 * d.positives.agreement.precision) / 1e4);
  assert.equal(record.memoryProbe_both, Math.round(1e4 * p.both) / 1e4);
  banks.video.dispose();
  banks.audio.dispose();
});

test('positive breakdown by hand: own class, twin class, other classes, per class; unlabelled anchors skipped', () => {
  // labels: 0 0 1 1 2 -1 ; twins 0↔1.
  const positives = T.tensor(BigInt64Array.from([1n, 2n, 0n, 4n, 3n, 0n, 2n, 4n, 0n, 1n, 0n, 1n]), [6, 2]);
  const b = positiveBreakdown(positives, [0, 0, 1, 1, 2, -1], { 0: 1, 1: 0 });
  // anchor0: 1 same, 1 twin; anchor1: 1 same, 1 other; anchor2: 1 twin, 1 same; anchor3: 1 same, 1 other; anchor4: 2 other.
  assert.equal(b.precision, 4 / 10);
  // Per-anchor precisions 0.5 0.5 0.5 0.5 0: sample std 0.2236, over √5 anchors.
  assert.ok(Math.abs(b.stdErr - Math.sqrt(0.05) / Math.sqrt(5)) < 1e-12, String(b.stdErr));
  assert.equal(b.twin, 2 / 10);
  assert.ok(Math.abs(b.other - 4 / 10) < 1e-12);
  assert.deepEqual(b.perClass, { '0': 0.5, '1': 0.5, '2': 0 });
  positives.dispose();
});
