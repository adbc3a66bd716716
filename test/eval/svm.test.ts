import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  matrix,
  trainBinarySvm,
  binaryDecision,
  trainOneVsRest,
  trainOneVsRestPath,
  oneVsRestScores,
  argmaxRows,
  fitStandardizer,
  applyStandardizer,
  type FeatureMatrix,
  type SvmLoss,
} from '../../src/eval/svm.js';
import { seededRandom } from '../../src/data/rng.js';

function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

// Positives right of x = 1, negatives left of it; the closest pair of each side lies on x = 2 and x = 0, so
// the maximum-margin hyperplane is x = 1: w = (1, 0), b = −1, margin 1. Shown in the test below to hold with
// LIBLINEAR's regularised bias too (the dual variables that realise it are non-negative for any B).
const POSITIVES = [[2, 0], [2, 1], [3, -1], [4, 2], [2.5, 3]];
const NEGATIVES = [[0, 0], [0, 1], [-1, 2], [-2, -1], [-0.5, -3]];

function rotated(points: number[][], angle: number): number[][] {
  const [c, s] = [Math.cos(angle), Math.sin(angle)];
  return points.map(([x, y]) => [c * x - s * y, s * x + c * y]);
}

function problem(pos: number[][], neg: number[][]): { X: FeatureMatrix; y: number[] } {
  const rows = [...pos, ...neg];
  return { X: matrix(Float64Array.from(rows.flat()), rows.length, 2), y: [...pos.map(() => 1), ...neg.map(() => -1)] };
}

test('recovers the analytic maximum-margin hyperplane of a separable 2-D problem', () => {
  for (const angle of [0, 0.7, 2.3]) {
    const { X, y } = problem(rotated(POSITIVES, angle), rotated(NEGATIVES, angle));
    for (const biasScale of [1, 3]) {
      const m = trainBinarySvm(X, y, { C: 1000, loss: 'hinge', tolerance: 1e-8, biasScale, maxIterations: 100000 });
      assert.ok(m.converged, `converged (violation ${m.violation})`);
      const [wx, wy] = rotated([[1, 0]], angle)[0];
      assert.ok(Math.abs(m.w[0] - wx) < 1e-6 && Math.abs(m.w[1] - wy) < 1e-6, `w = (${m.w[0]}, ${m.w[1]}), expected (${wx}, ${wy})`);
      assert.ok(Math.abs(m.b + 1) < 1e-6, `b = ${m.b}, expected −1`);
      const scores = binaryDecision(m, X);
      scores.forEach((s, i) => assert.ok(Math.sign(s) === y[i], `example ${i} classified correctly`));
      // Support vectors sit exactly on the margin; the others have zero dual weight.
      for (let i = 0; i < y.length; i++) {
        if (m.alpha[i] > 1e-9) assert.ok(Math.abs(y[i] * scores[i] - 1) < 1e-6, `support vector ${i} on the margin`);
      }
      assert.deepEqual([...m.alpha].map((a) => a > 1e-9), [true, true, false, false, false, true, true, false, false, false]);
    }
  }
  // Squared hinge with large C tends to the same hard-margin solution.
  const { X, y } = problem(POSITIVES, NEGATIVES);
  const sq = trainBinarySvm(X, y, { C: 1e5, loss: 'squared-hinge', tolerance: 1e-9, maxIterations: 100000 });
  assert.ok(Math.abs(sq.w[0] - 1) < 1e-4 && Math.abs(sq.w[1]) < 1e-4 && Math.abs(sq.b + 1) < 1e-4, `squared hinge: w=${[...sq.w]}, b=${sq.b}`);
});

function randomProblem(n: number, d: number, seed: number): { X: FeatureMatrix; y: number[] } {
  const random = seededRandom(seed);
  const direction = Array.from({ length: d }, () => gaussian(random));
  const data = new Float64Array(n * d);
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < d; k++) {
      data[i * d + k] = gaussian(random);
      s += data[i * d + k] * direction[k];
    }
    y.push(s + 2 * gaussian(random) > 0.3 ? 1 : -1); // label noise: not separable, many bounded α
  }
  return { X: matrix(data, n, d), y };
}

/** Primal and dual objectives, and the KKT residuals, recomputed from scratch from α. */
function certificate(X: FeatureMatrix, y: number[], alpha: Float64Array, C: number, loss: SvmLoss, B: number) {
  const { rows: n, cols: d, data } = X;
  const w = new Float64Array(d + 1);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < d; k++) w[k] += alpha[i] * y[i] * data[i * d + k];
    w[d] += alpha[i] * y[i] * B;
  }
  const diag = loss === 'hinge' ? 0 : 0.5 / C;
  const upper = loss === 'hinge' ? C : Infinity;
  let wNorm = 0;
  for (const v of w) wNorm += v * v;
  let primalLoss = 0;
  let alphaSum = 0;
  let alphaSq = 0;
  let pgMax = -Infinity;
  let pgMin = Infinity;
  for (let i = 0; i < n; i++) {
    let m = w[d] * B;
    for (let k = 0; k < d; k++) m += w[k] * data[i * d + k];
    m *= y[i];
    const slack = Math.max(0, 1 - m);
    primalLoss += loss === 'hinge' ? slack : slack * slack;
    alphaSum += alpha[i];
    alphaSq += alpha[i] * alpha[i];
    assert.ok(alpha[i] >= 0 && alpha[i] <= upper, `α[${i}] = ${alpha[i]} within [0, ${upper}]`);
    const G = m - 1 + diag * alpha[i];
    const pg = alpha[i] === 0 ? Math.min(G, 0) : alpha[i] === upper ? Math.max(G, 0) : G;
    pgMax = Math.max(pgMax, pg);
    pgMin = Math.min(pgMin, pg);
  }
  return { w, primal: 0.5 * wNorm + C * primalLoss, dual: alphaSum - 0.5 * wNorm - 0.5 * diag * alphaSq, violation: pgMax - pgMin };
}

test('KKT conditions and zero duality gap on a random non-separable problem', () => {
  const { X, y } = randomProblem(300, 12, 3);
  for (const loss of ['hinge', 'squared-hinge'] as const) {
    for (const C of [0.01, 1, 10]) {
      const tolerance = 1e-6;
      const m = trainBinarySvm(X, y, { C, loss, tolerance, maxIterations: 100000, seed: 5, biasScale: 2 });
      assert.ok(m.converged, `${loss} C=${C} converged in ${m.iterations} passes`);
      const cert = certificate(X, y, m.alpha, C, loss, 2);
      // w is exactly Σ αᵢ yᵢ x̃ᵢ (the solver's incremental updates did not drift).
      for (let k = 0; k < 12; k++) assert.ok(Math.abs(cert.w[k] - m.w[k]) < 1e-8, `w[${k}] consistent with α`);
      assert.ok(Math.abs(cert.w[12] * 2 - m.b) < 1e-8, 'bias consistent with α (b = B·w_bias)');
      assert.ok(cert.violation <= tolerance * 1.0001, `${loss} C=${C}: projected gradient spread ${cert.violation}`);
      const gap = (cert.primal - cert.dual) / Math.abs(cert.primal);
      assert.ok(gap >= -1e-9 && gap < 1e-4, `${loss} C=${C}: relative duality gap ${gap}`);
      if (loss === 'hinge' && C >= 1) assert.ok([...m.alpha].some((a) => a === C), 'some α at the upper bound (noisy labels)');
      // Shrinking is a speed-up only: the same optimum without it.
      const plain = trainBinarySvm(X, y, { C, loss, tolerance, maxIterations: 100000, seed: 9, shrinking: false, biasScale: 2 });
      const worst = Math.max(...[...m.w].map((v, k) => Math.abs(v - plain.w[k])), Math.abs(m.b - plain.b));
      assert.ok(worst < 1e-3 * Math.max(1, ...[...m.w].map(Math.abs)), `${loss} C=${C}: shrinking changes w by ${worst}`);
    }
  }
});

test('the iteration cap is reported, not hidden', () => {
  const { X, y } = randomProblem(200, 8, 1);
  const m = trainBinarySvm(X, y, { C: 100, tolerance: 1e-9, maxIterations: 2 });
  assert.equal(m.iterations, 2);
  assert.equal(m.converged, false);
  assert.ok(m.violation > 1e-9);
});

test('one-vs-rest separates Gaussian blobs; bad input is rejected', () => {
  const random = seededRandom(11);
  const centres = [[5, 0, 0], [0, 5, 0], [0, 0, 5], [-5, -5, -5]];
  const rows: number[] = [];
  const labels: number[] = [];
  for (let i = 0; i < 120; i++) {
    const c = i % 4;
    rows.push(...centres[c].map((v) => v + gaussian(random)));
    labels.push(c);
  }
  const X = matrix(Float32Array.from(rows), 120, 3);
  const model = trainOneVsRest(X, labels, 4, { C: 1, tolerance: 1e-3, maxIterations: 20000 });
  assert.ok(model.diagnostics.every((d) => d.converged && d.violation <= 1e-3));
  const predicted = argmaxRows(oneVsRestScores(model, X), 4);
  assert.deepEqual([...predicted], labels);
  assert.throws(() => trainOneVsRest(X, labels.map((l) => l + 1), 4, { C: 1 }), /label 4 at 3 is outside 0\.\.3/);
  assert.throws(() => trainBinarySvm(X, labels, { C: 1 }), /must be \+1 or −1/);
  assert.throws(() => trainBinarySvm(X, labels, { C: 0 }), /C must be a positive number/);
  assert.throws(() => matrix(new Float32Array(5), 2, 3), /5 values do not make 2×3/);
});

test('standardizer fits on the given rows only', () => {
  const X = matrix(Float32Array.from([1, 5, 3, 5, 100, 5]), 3, 2);
  const s = fitStandardizer(X, [0, 1]);
  assert.deepEqual([...s.mean], [2, 5]);
  assert.deepEqual([...s.scale], [1, 1], 'std 1 for column 0; constant column 1 gets divisor 1');
  const out = applyStandardizer(s, X);
  assert.deepEqual([...out.data], [-1, 0, 1, 0, 98, 0]);
  assert.deepEqual([...applyStandardizer(s, X, [2]).data], [98, 0]);
  assert.deepEqual([...fitStandardizer(X, [0, 1], 1).scale], [2, 1]);
});

test('a warm-started regularisation path reaches the same optima as cold starts', () => {
  const { X } = randomProblem(240, 6, 8);
  const labels = Array.from({ length: 240 }, (_, i) => (X.data[i * 6] > 0.5 ? 2 : X.data[i * 6 + 1] > 0 ? 1 : 0));
  const Cs = [10, 0.01, 1];
  const path = trainOneVsRestPath(X, labels, 3, Cs, { tolerance: 1e-6, maxIterations: 100000 });
  Cs.forEach((C, k) => {
    const cold = trainOneVsRest(X, labels, 3, { C, tolerance: 1e-6, maxIterations: 100000 });
    assert.ok(path[k].diagnostics.every((d) => d.converged), `C=${C} converged`);
    const scale = Math.max(1, ...[...cold.weights].map(Math.abs));
    const worst = Math.max(...[...cold.weights].map((v, i) => Math.abs(v - path[k].weights[i])), ...[...cold.biases].map((v, i) => Math.abs(v - path[k].biases[i])));
    assert.ok(worst < 1e-3 * scale, `C=${C}: path and cold start differ by ${worst}`);
  });
});
