// setCallerThreads: the intra-op thread count of this thread's operations, switched without rebuilding
// libtorch's thread pools (the loader switches to 1 around every batch it assembles).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/tensor/index.js';

test('setCallerThreads sets what getNumThreads reads, results do not depend on it, and bad counts are refused', () => {
  const before = T.getNumThreads();
  try {
    const x = T.rand([300, 300]);
    T.setCallerThreads(1);
    assert.equal(T.getNumThreads(), 1);
    const one = T.tidy(() => x.matmul(x).sum().item());
    T.setCallerThreads(3);
    assert.equal(T.getNumThreads(), 3);
    const three = T.tidy(() => x.matmul(x).sum().item());
    assert.ok(Math.abs(one - three) <= 1e-3 * Math.abs(one), `${one} vs ${three}`);
    x.dispose();
    assert.throws(() => T.setCallerThreads(0), /setCallerThreads: expected a positive integer, got 0/);
    assert.throws(() => T.setCallerThreads(1.5), /expected a positive integer, got 1.5/);
  } finally {
    T.setCallerThreads(before);
  }
  assert.equal(T.getNumThreads(), before);
});
