import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/tensor/index.js';

test('creation, read back, dtype and shape', () => {
  const t = T.tensor(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]);
  assert.deepEqual(t.shape, [2, 3]);
  assert.equal(t.dtype, 'float32');
  assert.deepEqual(t.add(1).toArray(), [2, 3, 4, 5, 6, 7]);
  assert.deepEqual(T.arange(4).toArray(), [0, 1, 2, 3]);
  assert.equal(T.arange(4).dtype, 'int64');
  assert.equal(T.arange(4).add(1).dtype, 'int64', 'integral scalars keep integer dtype');
  assert.deepEqual(T.zeros([2], { dtype: 'int32' }).data(), new Int32Array([0, 0]));
});

test('native errors become JavaScript errors with the short message', () => {
  const a = T.zeros([2, 2]);
  assert.throws(() => a.matmul(T.zeros([3, 3])), /cannot be multiplied/);
  assert.throws(() => T.zeros([2], { dtype: 'float8' as never }), /unknown dtype 'float8'/);
});

test('a disposed tensor cannot be used', () => {
  const a = T.ones([3]);
  a.dispose();
  assert.throws(() => a.add(1), /disposed/);
  a.dispose(); // idempotent
});

test('tidy disposes intermediates and keeps results', () => {
  const before = T.memory().liveTensors;
  const kept = T.tidy(() => {
    const x = T.ones([4]);
    const y = x.mul(2);
    return { y, list: [y.add(1)] };
  });
  assert.equal(T.memory().liveTensors, before + 2);
  assert.deepEqual(kept.y.toArray(), [2, 2, 2, 2]);
  kept.y.dispose();
  kept.list[0].dispose();
  assert.equal(T.memory().liveTensors, before);
});

test('tidy disposes on error', () => {
  const before = T.memory().liveTensors;
  assert.throws(() =>
    T.tidy(() => {
      T.ones([4]);
      throw new Error('boom');
    }),
  );
  assert.equal(T.memory().liveTensors, before);
});

test('noGrad restores the previous mode even when its function throws', () => {
  assert.equal(T.isGradEnabled(), true);
  assert.throws(() =>
    T.noGrad(() => {
      assert.equal(T.isGradEnabled(), false);
      throw new Error('x');
    }),
  );
  assert.equal(T.isGradEnabled(), true);
});

test('seeded generators repeat', () => {
  const a = T.rand([5], { generator: new T.Generator(7) }).toArray();
  const b = T.rand([5], { generator: new T.Generator(7) }).toArray();
  const c = T.rand([5], { generator: new T.Generator(8) }).toArray();
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  const g = new T.Generator(3);
  const state = g.getState();
  const first = T.randn([4], { generator: g }).toArray();
  g.setState(state);
  assert.deepEqual(T.randn([4], { generator: g }).toArray(), first);
});

test('threads default to the machine cores and can be set', () => {
  const n = T.getNumThreads();
  assert.ok(n >= 1);
  T.setNumThreads(1);
  assert.equal(T.getNumThreads(), 1);
  T.setNumThreads(n);
});
