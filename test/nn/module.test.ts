import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/tensor/index.js';
import * as nn from '../../src/nn/index.js';
import { Adam } from '../../src/optim/index.js';

class SmallNet extends nn.Module {
  conv1 = this.registerModule('conv1', new nn.Sequential(new nn.Conv2d(1, 4, 3, { padding: 1 }), new nn.BatchNorm2d(4), new nn.ReLU()));
  fc = this.registerModule('fc', new nn.Linear(4, 3));
  forward(x: T.Tensor): T.Tensor {
    return T.tidy(() => {
      const h = this.conv1.forward(x);
      return this.fc.forward(T.functional.adaptiveMaxPool2d(h, 1).flatten(1));
    });
  }
}

test('state dict keys follow PyTorch order and naming', () => {
  const net = new SmallNet();
  assert.deepEqual(
    [...net.stateDict().keys()],
    [
      'conv1.0.weight',
      'conv1.0.bias',
      'conv1.1.weight',
      'conv1.1.bias',
      'conv1.1.running_mean',
      'conv1.1.running_var',
      'conv1.1.num_batches_tracked',
      'fc.weight',
      'fc.bias',
    ],
  );
  assert.equal(net.stateDict().get('conv1.1.num_batches_tracked')!.dtype, 'int64');
  assert.deepEqual(net.stateDict().get('conv1.1.num_batches_tracked')!.shape, []);
  assert.equal(net.parameters().length, 6);
  net.dispose();
});

test('loadStateDict copies values and reports every mismatch', () => {
  const a = new SmallNet();
  const b = new SmallNet();
  b.loadStateDict(a.stateDict());
  assert.deepEqual(b.fc.weight.toArray(), a.fc.weight.toArray());
  const bad = new Map(a.stateDict());
  bad.delete('fc.bias');
  bad.set('extra.weight', T.zeros([1]));
  bad.set('fc.weight', T.zeros([2, 2]));
  assert.throws(() => b.loadStateDict(bad), (e: Error) => /missing keys: fc\.bias/.test(e.message) && /unexpected keys: extra\.weight/.test(e.message) && /fc\.weight: checkpoint \[2, 2\] vs module \[3, 4\]/.test(e.message));
  a.dispose();
  b.dispose();
});

test('batch norm tracks batches in training and freezes statistics in eval', () => {
  const bn = new nn.BatchNorm2d(2);
  const x = T.randn([4, 2, 3, 3]).mul(3).add(5);
  T.tidy(() => bn.forward(x));
  assert.equal(bn.numBatchesTracked.item(), 1);
  const mean = bn.runningMean.toArray();
  assert.ok(mean.every((m) => m > 0.2), 'running mean moved towards the data');
  bn.eval();
  T.tidy(() => bn.forward(x));
  assert.equal(bn.numBatchesTracked.item(), 1);
  assert.deepEqual(bn.runningMean.toArray(), mean);
});

test('50 training steps leave the live-tensor count unchanged', () => {
  T.manualSeed(0);
  const net = new SmallNet();
  const optimizer = new Adam(net.parameters(), { lr: 1e-2 });
  const x = T.randn([8, 1, 6, 6]);
  const y = T.randint(0, 3, [8]);
  const step = () =>
    T.tidy(() => {
      optimizer.zeroGrad();
      const loss = T.functional.crossEntropy(net.forward(x), y);
      loss.backward();
      optimizer.update();
      return loss.item();
    });
  const first = step();
  const before = T.memory().liveTensors;
  let last = first;
  for (let i = 0; i < 50; i++) last = step();
  assert.equal(T.memory().liveTensors, before);
  assert.ok(last < first, `loss fell (${first} -> ${last})`);
  optimizer.dispose();
  net.dispose();
});
