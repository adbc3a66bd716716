// Leak checks: the project's memory rule is that every tensor is disposed or created inside a tidy scope.
import assert from 'node:assert/strict';
import * as T from '../../src/tensor/index.js';

/**
 * Runs `fn` inside a tidy scope and asserts that the live-tensor count afterwards equals the count before
 * (tensors `fn` returns are disposed by the scope too, so only leaks through `keep` or globals remain).
 */
export function assertNoTensorLeak<R>(fn: () => R, what = 'the code under test'): R {
  const before = T.memory().liveTensors;
  const result = T.tidy(() => {
    const value = fn();
    return value instanceof T.Tensor ? undefined : value;
  });
  const after = T.memory().liveTensors;
  assert.equal(after, before, `${what} leaked ${after - before} tensor(s)`);
  return result as R;
}

/** Asserts that `fn`, run `times` times, leaves the live-tensor count where the first run left it. */
export function assertSteadyTensorCount(fn: (iteration: number) => void, times: number, what = 'each iteration'): void {
  fn(0);
  const baseline = T.memory().liveTensors;
  for (let i = 1; i < times; i++) {
    fn(i);
    const now = T.memory().liveTensors;
    assert.equal(now, baseline, `${what} changed the live-tensor count by ${now - baseline} (iteration ${i})`);
  }
}
