import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/tensor/index.js';
import { minePositives, positivePrecision, type AgreementKind } from '../../src/ssl/cma-mining.js';
import { sampleOutside } from '../../src/ssl/negatives.js';
import { CmaObjective } from '../../src/ssl/cma.js';

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
