// The test helpers must be able to fail: a helper that never fails would make every test that uses it useless.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/tensor/index.js';
import { assertNoTensorLeak, assertSteadyTensorCount } from '../helpers/memory.js';
import { assertClose, maxDifference } from '../helpers/compare.js';

test('assertNoTensorLeak passes clean code and catches a kept tensor', () => {
  assertNoTensorLeak(() => T.ones([3]).add(1));
  let leaked: T.Tensor | undefined;
  assert.throws(() => assertNoTensorLeak(() => void (leaked = T.keep(T.ones([2]))), 'the leaky code'), /the leaky code leaked 1 tensor/);
  leaked!.dispose();
});

test('assertSteadyTensorCount catches growth across iterations', () => {
  const state = T.zeros([2]);
  assertSteadyTensorCount(() => T.tidy(() => void state.add_(1)), 5);
  const hoard: T.Tensor[] = [];
  assert.throws(() => assertSteadyTensorCount(() => void hoard.push(T.ones([1])), 3, 'a step'), /a step changed the live-tensor count by 1/);
  for (const t of [state, ...hoard]) t.dispose();
});

test('assertClose is norm-relative and catches shape, value and NaN differences', () => {
  T.tidy(() => {
    const a = T.tensor(new Float32Array([1000, 1e-3]));
    assertClose(a.add(T.tensor(new Float32Array([0.05, 0.05]))), a, 'within 1e-4 of the largest value');
    assert.throws(() => assertClose(a.add(0.5), a, 'off'), /off: max \|difference\| 5\.000e-1 exceeds/);
    assert.throws(() => assertClose(a.reshape([1, 2]), a, 'reshaped'), /reshaped: shape/);
    const nan = T.tensor(new Float32Array([NaN, 1e-3]));
    assert.equal(maxDifference(nan, a).abs, Infinity);
    assert.equal(maxDifference(nan, nan).abs, 0, 'NaN where NaN is expected matches');
  });
});
