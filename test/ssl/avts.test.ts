import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/tensor/index.js';
import { avtsLoss, hardShareAt, syncPairAccuracy, AvtsObjective } from '../../src/ssl/avts.js';

test('AVTS contrastive loss: d² for in-sync pairs, max(0, η − d)² for negatives', () => {
  const v = T.tensor(new Float32Array([1, 0, 0, 1]), [2, 2]);
  const pos = T.tensor(new Float32Array([0.6, 0.8, 0, 1]), [2, 2]);
  const neg = T.tensor(new Float32Array([-1, 0, 0.6, 0.8]), [2, 2]);
  const { loss, positive, negative } = avtsLoss(v, pos, neg, 0.99);
  const dPos = [Math.hypot(0.4, 0.8), 0];
  const dNeg = [2, Math.hypot(0.6, 0.2)];
  const expectedPos = (dPos[0] ** 2 + dPos[1] ** 2) / 2;
  const expectedNeg = (Math.max(0, 0.99 - dNeg[0]) ** 2 + Math.max(0, 0.99 - dNeg[1]) ** 2) / 2;
  assert.ok(Math.abs(positive.item() - expectedPos) < 1e-6);
  assert.ok(Math.abs(negative.item() - expectedNeg) < 1e-6);
  assert.ok(Math.abs(loss.item() - expectedPos - expectedNeg) < 1e-6);
  assert.equal(syncPairAccuracy(v, pos, neg), 1);
});

test('the curriculum uses easy negatives only, then the configured share of hard ones', () => {
  const o = { margin: 0.99, hardNegativeShare: 0.25, curriculumEpochs: 3 };
  assert.deepEqual([0, 1, 2, 3, 10].map((e) => hardShareAt(o, e)), [0, 0, 0, 0.25, 0.25]);
});

test('the AVTS objective needs negative audio and reports pair accuracy', () => {
  const objective = new AvtsObjective({ margin: 0.99, hardNegativeShare: 0.5, curriculumEpochs: 1 });
  const ctx = { seed: 0, epoch: 0, step: 0, gather: (t: T.Tensor) => t };
  const video = T.functional.normalize(T.randn([4, 8])).requiresGrad_();
  const audio = T.functional.normalize(T.randn([4, 8]));
  assert.throws(() => objective.loss({ video, audio, index: T.arange(4) }, ctx), /negative audio/);
  const out = objective.loss({ video, audio, index: T.arange(4), audioNegative: T.functional.normalize(T.randn([4, 8])) }, ctx);
  assert.deepEqual(Object.keys(out.terms), ['sync_pos', 'sync_neg', 'pair_acc']);
  out.loss.backward();
  assert.ok(video.grad !== null);
});
