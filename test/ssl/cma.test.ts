import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/tensor/index.js';
import { minePositives, positivePrecision, type AgreementKind, type ScoreNormalisation } from '../../src/ssl/cma-mining.js';
import { sampleOutside } from '../../src/ssl/negatives.js';
import { CmaObjective } from '../../src/ssl/cma.js';
import { positiveBreakdown, topKOverlap, similarityCorrelation } from '../../src/ssl/cma-measures.js';
import { diagnoseBanks } from '../../src/eval/cma-diagnostics.js';
import { diagnosticsMetric } from '../../src/report/cma-diagnostics-metric.js';
import { MetricRecordSchema } from '../../src/report/index.js';

/** Every pair's score by hand: each modality's row normalised over the other instances, then combined. */
function bruteScores(v: number[][], a: number[][], kind: AgreementKind, normalisation: ScoreNormalisation = 'none'): number[][] {
  const dot = (x: number[], y: number[]) => x.reduce((s, xi, i) => s + xi * y[i], 0);
  const n = v.length;
  const normalise = (row: number[], i: number): number[] => {
    const others = row.filter((_, j) => j !== i);
    if (normalisation === 'zscore') {
      const mean = others.reduce((s, x) => s + x, 0) / others.length;
      const std = Math.sqrt(others.reduce((s, x) => s + (x - mean) ** 2, 0) / others.length);
      return row.map((x) => (x - mean) / std);
    }
    // Rank percentile among the others: how many of them score lower, over N − 2.
    if (normalisation === 'rank') return row.map((x) => others.filter((y) => y < x).length / (n - 2));
    return row;
  };
  return v.map((_, i) => {
    const sv = normalise(v.map((_, j) => dot(v[i], v[j])), i);
    const sa = normalise(a.map((_, j) => dot(a[i], a[j])), i);
    return sv.map((x, j) => (j === i ? -Infinity : kind === 'agreement' ? Math.min(x, sa[j]) : kind === 'union' ? Math.max(x, sa[j]) : kind === 'video' ? x : sa[j]));
  });
}

function bruteForce(v: number[][], a: number[][], k: number, kind: AgreementKind, normalisation: ScoreNormalisation = 'none'): number[][] {
  return bruteScores(v, a, kind, normalisation).map((row) => row.map((s, j) => ({ j, s })).sort((x, y) => y.s - x.s).slice(0, k).map((x) => x.j));
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

test('blocked normalised mining (z-scores, rank percentiles) equals a brute-force computation', () => {
  T.manualSeed(6);
  const v = T.functional.normalize(T.randn([41, 5]).to('float64'));
  const a = T.functional.normalize(T.randn([41, 7]).to('float64').mul(0.3).add(0.2));
  const before = T.memory().liveTensors;
  for (const normalisation of ['zscore', 'rank'] as const) {
    for (const kind of ['agreement', 'union', 'video', 'audio'] as const) {
      const mined = minePositives(v, a, { k: 6, kind, blockSize: 9, normalisation });
      const flat = mined.toArray();
      mined.dispose();
      const scores = bruteScores(rows(v), rows(a), kind, normalisation);
      const expected = bruteForce(rows(v), rows(a), 6, kind, normalisation);
      expected.forEach((row, i) => {
        const got = flat.slice(i * 6, i * 6 + 6);
        assert.ok(!got.includes(i), `${normalisation} ${kind} row ${i} mined the anchor itself`);
        // Rank percentiles tie (min of two ranks): compare the scores picked, which ties cannot change.
        if (normalisation === 'rank') assert.deepEqual(got.map((j) => scores[i][j]), row.map((j) => scores[i][j]), `${normalisation} ${kind} row ${i}`);
        else assert.deepEqual(got, row, `${normalisation} ${kind} row ${i}`);
      });
    }
  }
  assert.equal(T.memory().liveTensors, before);
  // The rank table must not just be any tie-consistent choice: on these banks it differs from raw min.
  const raw = minePositives(v, a, { k: 6, kind: 'agreement' });
  const ranked = minePositives(v, a, { k: 6, kind: 'agreement', normalisation: 'rank' });
  assert.notDeepEqual(raw.toArray(), ranked.toArray());
  raw.dispose();
  ranked.dispose();
  v.dispose();
  a.dispose();
});

test('banks on different similarity scales: raw min follows the lower bank alone, normalised agreement needs both', () => {
  // Four classes in twin pairs: video tells {0,1} from {2,3} (look-alikes), audio {0,2} from {1,3}. The video
  // bank is collapsed (every row near one direction: cosines 0.9-1), the audio bank spread (cosines 0-1), so
  // min(v·v, a·a) is nearly always the audio cosine and agreement mines like audio alone.
  const perClass = 12;
  const labels = Array.from({ length: 4 * perClass }, (_, i) => i % 4);
  const g = new T.Generator(11);
  const bank = (group: (l: number) => number, common: number, noise: number) =>
    T.tidy(() => {
      const codes = labels.map((l) => Array.from({ length: 8 }, (_, d) => (d === group(l) ? 1 : 0) + (d === 7 ? common : 0)));
      return T.functional.normalize(T.tensor(Float32Array.from(codes.flat()), [labels.length, 8]).add(T.randn([labels.length, 8], { generator: g }).mul(noise)), 2, 1);
    });
  const video = bank((l) => (l < 2 ? 0 : 1), 3, 0.15);
  const audio = bank((l) => (l % 2 === 0 ? 2 : 3), 0, 0.3);
  const precision = (kind: AgreementKind, normalisation?: ScoreNormalisation) => {
    const mined = minePositives(video, audio, { k: 6, kind, normalisation, blockSize: 16 });
    const p = positivePrecision(mined, labels);
    mined.dispose();
    return p;
  };
  const raw = precision('agreement');
  const audioOnly = precision('audio');
  assert.ok(raw < 0.7 && Math.abs(raw - audioOnly) < 0.1, `raw agreement ${raw}, audio only ${audioOnly}`);
  assert.ok(precision('video') < 0.7, `video ${precision('video')}`);
  for (const normalisation of ['zscore', 'rank'] as const) {
    const p = precision('agreement', normalisation);
    assert.ok(p > 0.9, `${normalisation} agreement ${p} (raw ${raw})`);
  }
  video.dispose();
  audio.dispose();
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
  const d = diagnoseBanks(banks, samples, { k: 4, twinOf: { 0: 1, 1: 0, 2: 3, 3: 2 }, normalisations: ['none', 'zscore'] });
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
  // Only the asked-for normalisation, beside the raw kinds; on banks of one scale it agrees about as well as raw min.
  assert.deepEqual(Object.keys(d.normalised), ['zscore']);
  assert.ok(d.normalised.zscore!.agreement.precision > 0.85, `zscore agreement ${d.normalised.zscore!.agreement.precision}`);
  assert.equal(record.precision_agreement_zscore, Math.round(1e4 * d.normalised.zscore!.agreement.precision) / 1e4);
  assert.equal(record.precision_union_zscore, Math.round(1e4 * d.normalised.zscore!.union.precision) / 1e4);
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

test('bank agreement: top-K overlap and similarity correlation tell identical banks from independent ones', () => {
  const before = T.memory().liveTensors;
  const a = T.tensor(BigInt64Array.from([1n, 2n, 0n, 3n, 0n, 1n]), [3, 2]);
  const b = T.tensor(BigInt64Array.from([2n, 5n, 4n, 5n, 1n, 0n]), [3, 2]);
  assert.equal(topKOverlap(a, b), 3 / 6);
  assert.throws(() => T.tidy(() => topKOverlap(a, b.narrow(0, 0, 2))), /topKOverlap: positive sets of shape \[3,2\] and \[2,2\]/);
  a.dispose();
  b.dispose();
  const g = new T.Generator(5);
  const unit = () => T.tidy(() => T.functional.normalize(T.randn([40, 16], { generator: g }), 2, 1));
  const x = unit();
  const y = unit();
  const same = similarityCorrelation({ video: x, audio: x });
  const independent = similarityCorrelation({ video: x, audio: y });
  assert.ok(Math.abs(same - 1) < 1e-4, `identical banks correlate ${same}`);
  assert.ok(Math.abs(independent) < 0.15, `independent banks correlate ${independent}`);
  x.dispose();
  y.dispose();
  assert.equal(T.memory().liveTensors, before);
});
