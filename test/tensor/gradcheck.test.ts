// Finite-difference gradient checks (float64) of the neural-network functions autograd differentiates for us.
// Tiny shapes: each check evaluates the function twice per input element.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/tensor/index.js';
import { assertGradcheck, gradcheck } from '../helpers/gradcheck.js';

const F = T.functional;
// Tiny ops run fastest on one thread, and the checks do not compete with other work for the cores.
T.setNumThreads(1);
let seed = 1;
/** A float64 leaf with standard normal values that requires grad. */
function input(shape: number[]): T.Tensor {
  return T.randn(shape, { dtype: 'float64', generator: new T.Generator(seed++) }).requiresGrad_(true);
}

/** Runs `body` in a tidy scope and checks that it leaves no tensor behind. */
function checked(name: string, body: () => void): void {
  test(name, () => {
    const before = T.memory().liveTensors;
    T.tidy(body);
    assert.equal(T.memory().liveTensors, before, 'no tensor leaked');
  });
}

checked('the checker itself catches a wrong gradient', () => {
  // x · stopgrad(x) has true derivative 2x but autograd sees x: a gradcheck that passed this would be useless.
  const result = gradcheck((x) => x.mul(x.detach()), [input([5])]);
  assert.equal(result.ok, false);
  assert.equal(result.failures.length, 5);
  assert.match(result.failures[0], /input 0 \[0\]: analytic .*, numeric /);
  assert.throws(() => assertGradcheck('wrong', (x) => x.mul(x.detach()), [input([2])]), /gradcheck wrong failed/);
  assert.throws(() => gradcheck((x) => x.mul(2), [T.ones([2]).requiresGrad_(true)]), /float32; finite differences need float64/);
});

checked('conv2d: stride, padding, bias; dilation and groups', () => {
  assertGradcheck('conv2d', (x, w, b) => F.conv2d(x, w, b, { stride: 2, padding: 1 }), [input([2, 3, 5, 5]), input([4, 3, 3, 3]), input([4])]);
  assertGradcheck('conv2d grouped dilated', (x, w) => F.conv2d(x, w, null, { dilation: 2, groups: 2, padding: [1, 0] }), [input([1, 4, 6, 6]), input([4, 2, 2, 2])]);
});

checked('conv3d: stride and padding', () => {
  assertGradcheck('conv3d', (x, w, b) => F.conv3d(x, w, b, { stride: [1, 2, 2], padding: 1 }), [input([1, 2, 4, 5, 5]), input([3, 2, 3, 3, 3]), input([3])]);
  // R(2+1)D factorises 3-D convolutions into (1,k,k) spatial and (k,1,1) temporal ones
  assertGradcheck('conv3d (1,3,3)', (x, w) => F.conv3d(x, w, null, { padding: [0, 1, 1] }), [input([2, 2, 3, 4, 4]), input([2, 2, 1, 3, 3])]);
  assertGradcheck('conv3d (3,1,1)', (x, w) => F.conv3d(x, w, null, { stride: [2, 1, 1], padding: [1, 0, 0] }), [input([1, 2, 5, 3, 3]), input([3, 2, 3, 1, 1])]);
});

checked('batchNorm in training mode with weight and bias (2-D and 3-D inputs)', () => {
  const runningMean = T.zeros([3], { dtype: 'float64' });
  const runningVar = T.ones([3], { dtype: 'float64' });
  const bn = (x: T.Tensor, weight: T.Tensor, bias: T.Tensor) => F.batchNorm(x, { weight, bias, runningMean, runningVar, training: true });
  assertGradcheck('batchNorm2d', bn, [input([4, 3, 2, 2]), input([3]), input([3])]);
  assertGradcheck('batchNorm3d', bn, [input([2, 3, 2, 2, 2]), input([3]), input([3])]);
  assertGradcheck('batchNorm1d', (x, weight, bias) => F.batchNorm(x, { weight, bias, training: true }), [input([6, 3]), input([3]), input([3])]);
  // the running statistics moved (they are updated in place in training mode)
  assert.notDeepEqual(runningMean.toArray(), [0, 0, 0]);
});

checked('batchNorm in eval mode uses the running statistics', () => {
  const runningMean = T.tensor(new Float64Array([0.5, -1, 2]), [3]);
  const runningVar = T.tensor(new Float64Array([0.25, 2, 1.5]), [3]);
  assertGradcheck('batchNorm eval', (x, weight, bias) => F.batchNorm(x, { weight, bias, runningMean, runningVar, training: false }), [input([2, 3, 2, 2]), input([3]), input([3])]);
});

checked('linear', () => {
  assertGradcheck('linear', (x, w, b) => F.linear(x, w, b), [input([3, 5]), input([4, 5]), input([4])]);
  assertGradcheck('linear 3-D input, no bias', (x, w) => F.linear(x, w), [input([2, 3, 5]), input([4, 5])]);
});

checked('maxPool2d and maxPool3d', () => {
  assertGradcheck('maxPool2d', (x) => F.maxPool2d(x, 2), [input([2, 2, 6, 6])]);
  assertGradcheck('maxPool2d overlapping, padded', (x) => F.maxPool2d(x, 3, { stride: 2, padding: 1 }), [input([1, 2, 5, 5])]);
  assertGradcheck('maxPool3d', (x) => F.maxPool3d(x, [1, 2, 2]), [input([1, 2, 3, 4, 4])]);
  assertGradcheck('maxPool3d overlapping', (x) => F.maxPool3d(x, 3, { stride: 2, padding: 1 }), [input([1, 1, 4, 4, 4])]);
});

checked('adaptiveMaxPool2d and adaptiveMaxPool3d (incl. global pooling)', () => {
  assertGradcheck('adaptiveMaxPool2d', (x) => F.adaptiveMaxPool2d(x, [2, 3]), [input([1, 2, 5, 7])]);
  assertGradcheck('adaptiveMaxPool3d', (x) => F.adaptiveMaxPool3d(x, [2, 2, 3]), [input([1, 2, 4, 5, 6])]);
  assertGradcheck('global adaptiveMaxPool3d', (x) => F.adaptiveMaxPool3d(x, 1), [input([2, 3, 2, 3, 3])]);
});

checked('avgPool1d/2d/3d and adaptiveAvgPool', () => {
  assertGradcheck('avgPool1d', (x) => F.avgPool1d(x, 3, 2, 1), [input([2, 2, 7])]);
  assertGradcheck('avgPool2d', (x) => F.avgPool2d(x, 3, 2, 1), [input([1, 2, 5, 5])]);
  assertGradcheck('avgPool3d', (x) => F.avgPool3d(x, 2), [input([1, 2, 4, 4, 4])]);
  assertGradcheck('adaptiveAvgPool2d', (x) => F.adaptiveAvgPool2d(x, [2, 3]), [input([1, 2, 5, 7])]);
});

checked('normalize (L2 along features, and along another dim)', () => {
  assertGradcheck('normalize dim 1', (x) => F.normalize(x), [input([4, 6])]);
  assertGradcheck('normalize dim 0', (x) => F.normalize(x, 2, 0), [input([3, 4])]);
  assertGradcheck('normalize p=1', (x) => F.normalize(x, 1, 1), [input([3, 4])]);
});

checked('logSoftmax and softmax', () => {
  assertGradcheck('logSoftmax', (x) => F.logSoftmax(x, 1), [input([3, 7])]);
  assertGradcheck('logSoftmax dim 0', (x) => F.logSoftmax(x, 0), [input([4, 2, 3])]);
  assertGradcheck('softmax', (x) => F.softmax(x, -1), [input([3, 5])]);
});

checked('crossEntropy (mean, sum, class weights, label smoothing)', () => {
  const target = T.tensor(new BigInt64Array([0n, 3n, 1n, 3n, 2n]), [5]);
  const weight = T.tensor(new Float64Array([0.5, 1, 2, 1.5]), [4]);
  assertGradcheck('crossEntropy', (logits) => F.crossEntropy(logits, target), [input([5, 4])]);
  assertGradcheck('crossEntropy sum', (logits) => F.crossEntropy(logits, target, { reduction: 'sum' }), [input([5, 4])]);
  assertGradcheck('crossEntropy weighted', (logits) => F.crossEntropy(logits, target, { weight }), [input([5, 4])]);
  assertGradcheck('crossEntropy smoothed', (logits) => F.crossEntropy(logits, target, { labelSmoothing: 0.1 }), [input([5, 4])]);
});

checked('a small conv net end to end (conv → bn → relu → maxpool → linear → crossEntropy)', () => {
  const target = T.tensor(new BigInt64Array([1n, 0n]), [2]);
  const net = (x: T.Tensor, w1: T.Tensor, g: T.Tensor, b: T.Tensor, w2: T.Tensor, b2: T.Tensor) => {
    const h = F.maxPool2d(F.batchNorm(F.conv2d(x, w1, null, { padding: 1 }), { weight: g, bias: b, training: true }).relu(), 2);
    return F.crossEntropy(F.linear(h.flatten(1), w2, b2), target);
  };
  assertGradcheck('conv net', net, [input([2, 1, 4, 4]), input([2, 1, 3, 3]), input([2]), input([2]), input([2, 8]), input([2])]);
});

checked('interpolate and pad', () => {
  assertGradcheck('interpolate trilinear', (x) => F.interpolate(x, [3, 4, 5], 'trilinear'), [input([1, 2, 2, 3, 3])]);
  assertGradcheck('interpolate bilinear (align corners)', (x) => F.interpolate(x, [5, 4], 'bilinear', true), [input([1, 1, 3, 3])]);
  assertGradcheck('pad reflect', (x) => F.pad(x, [1, 2, 2, 1], 'reflect'), [input([1, 2, 4, 4])]);
  assertGradcheck('pad constant', (x) => F.pad(x, [1, 1, 0, 2], 'constant', 0.5), [input([1, 2, 3, 3])]);
});

checked('losses and linear algebra used by the objectives (mse, bce with logits, matmul, bmm, einsum, logsumexp)', () => {
  const target = T.rand([3, 4], { dtype: 'float64', generator: new T.Generator(7) });
  assertGradcheck('mseLoss', (a, b) => F.mseLoss(a, b), [input([3, 4]), input([3, 4])]);
  assertGradcheck('bceWithLogits', (x) => F.binaryCrossEntropyWithLogits(x, target), [input([3, 4])]);
  assertGradcheck('matmul', (a, b) => a.matmul(b), [input([3, 4]), input([4, 2])]);
  assertGradcheck('bmm', (a, b) => a.bmm(b), [input([2, 3, 4]), input([2, 4, 2])]);
  assertGradcheck('einsum', (a, b) => T.einsum('bik,bjk->bij', [a, b]), [input([2, 3, 4]), input([2, 2, 4])]);
  assertGradcheck('logsumexp', (x) => x.logsumexp(1), [input([3, 5])]);
});
