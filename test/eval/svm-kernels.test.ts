// The SVM's row kernels: WebAssembly SIMD (float32 features) against the TypeScript loops, on row lengths
// that exercise the eight-wide body and the one-by-one tail, and a one-vs-rest fit through each.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rowKernels } from '../../src/eval/svm-kernels.js';
import { matrix, trainOneVsRest, oneVsRestScores } from '../../src/eval/svm.js';
import { seededRandom } from '../../src/data/rng.js';

test('float32 rows run in WebAssembly SIMD, float64 rows in TypeScript', () => {
  assert.equal(rowKernels(new Float32Array(16), 2, 8).kind, 'wasm-simd');
  assert.equal(rowKernels(new Float64Array(16), 2, 8).kind, 'typescript');
  assert.equal(rowKernels(new Float32Array(16), 2, 8, 'typescript').kind, 'typescript');
});

test('dot and addScaled agree with the TypeScript loops (tails of 0 to 7 features included)', () => {
  const random = seededRandom(3);
  for (const cols of [1, 7, 8, 9, 15, 16, 515, 2048]) {
    const rows = 12;
    const data = Float32Array.from({ length: rows * cols }, () => random() - 0.5);
    const simd = rowKernels(data, rows, cols);
    const plain = rowKernels(data, rows, cols, 'typescript');
    for (let i = 0; i < rows; i++) {
      const step = random() * 2 - 1;
      simd.addScaled(i, step);
      plain.addScaled(i, step);
    }
    // w += s·x is the same arithmetic in both (one product and one sum per feature): bit for bit.
    assert.deepEqual([...simd.w], [...plain.w], `addScaled, ${cols} features`);
    for (let i = 0; i < rows; i++) {
      const [a, b] = [simd.dot(i), plain.dot(i)];
      // The partial sums are grouped differently: equal up to rounding.
      assert.ok(Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b)), `dot row ${i}, ${cols} features: ${a} vs ${b}`);
      assert.notEqual(a, 0);
    }
    simd.reset();
    assert.ok(simd.w.every((v) => v === 0), 'reset zeroes w');
  }
});

test('a one-vs-rest fit on float32 features gives the same model through either kernel', () => {
  const random = seededRandom(11);
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const [n, d, K] = [300, 37, 4];
  const centres = Array.from({ length: K }, () => Array.from({ length: d }, gaussian));
  const labels = Array.from({ length: n }, (_, i) => i % K);
  const data = Float32Array.from({ length: n * d }, (_, j) => centres[labels[Math.floor(j / d)]][j % d] * 0.5 + gaussian());
  const X32 = matrix(data, n, d);
  const X64 = matrix(Float64Array.from(data), n, d); // the same values, through the TypeScript kernels
  const options = { C: 0.1, tolerance: 1e-6, maxIterations: 100000 };
  const simd = trainOneVsRest(X32, labels, K, options);
  const plain = trainOneVsRest(X64, labels, K, options);
  assert.ok(simd.diagnostics.every((g) => g.converged) && plain.diagnostics.every((g) => g.converged));
  const [a, b] = [oneVsRestScores(simd, X32), oneVsRestScores(plain, X64)];
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  assert.ok(worst < 1e-4, `decision values differ by ${worst}`);
});
