// A model whose build fails part-way frees what it had built: its parameters live outside any scope, so
// without this they would stay allocated (gigabytes, for the sizes that make a build fail) until a garbage
// collection that nothing prompts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/tensor/index.js';
import { createModel } from '../../src/models/index.js';
import { buildModule, Module } from '../../src/nn/index.js';

test('a build that fails after its encoders were made frees their parameters', () => {
  const before = T.memory();
  // The encoders (about 3.5 M parameters at width 0.25) are built, then the head's 512 × 1e12 weight cannot be.
  assert.throws(() => createModel('av-r2plus1d-10', { width: 0.25, embeddingDim: 1e12 }));
  const after = T.memory();
  assert.equal(after.liveTensors, before.liveTensors, 'tensors left behind by the failed build');
  assert.equal(after.bytes, before.bytes, 'bytes left behind by the failed build');
});

test('a successful build keeps its parameters; nested builds free the inner part when the outer fails', () => {
  class Holder extends Module {
    constructor(size: number, fail: boolean) {
      super();
      this.registerParameter('weight', T.zeros([size]));
      this.registerBuffer('count', T.zeros([1]));
      if (fail) throw new Error('failing on purpose');
    }
  }
  const before = T.memory().liveTensors;
  const ok = buildModule(() => new Holder(4, false));
  assert.equal(T.memory().liveTensors, before + 2);
  assert.equal(ok.parameters()[0].shape[0], 4);
  ok.dispose();
  assert.throws(
    () =>
      buildModule(() => {
        buildModule(() => new Holder(8, false)); // finished, then the outer build fails
        return new Holder(8, true);
      }),
    /failing on purpose/,
  );
  assert.equal(T.memory().liveTensors, before, 'the inner build\'s tensors were freed with the outer failure');
});
