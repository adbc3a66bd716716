// Creation functions refuse shapes that are not non-negative integers instead of truncating them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/tensor/index.js';

test('zeros([NaN]), zeros([1.7]), ones([-1]) and tensor(data, [2.5]) are errors naming the dimension', () => {
  const live = T.memory().liveTensors;
  assert.throws(() => T.zeros([NaN]), /zeros: shape\[0\] is NaN; dimensions must be non-negative integers/);
  assert.throws(() => T.zeros([2, 1.7]), /zeros: shape\[1\] is 1\.7/);
  assert.throws(() => T.ones([-1]), /ones: shape\[0\] is -1/);
  assert.throws(() => T.full([Infinity], 1), /full: shape\[0\] is Infinity/);
  assert.throws(() => T.randn([3, NaN]), /randn: shape\[1\] is NaN/);
  assert.throws(() => T.tensor(new Float32Array(5), [2.5, 2]), /tensor: shape\[0\] is 2\.5/);
  assert.equal(T.memory().liveTensors, live);
  T.tidy(() => assert.deepEqual(T.zeros([0, 3]).shape, [0, 3]));
});
