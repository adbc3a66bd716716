// Parity with PyTorch (Debian's python3-torch under /usr/bin/python3): the same inputs go to both, through
// safetensors files, and the outputs must agree. Both sides run on one thread.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/tensor/index.js';
import { torchCompute, pythonTorchSkipReason } from '../helpers/python.js';
import { assertClose } from '../helpers/compare.js';

const F = T.functional;
const skip = pythonTorchSkipReason() ?? false;
T.setNumThreads(1);

let seed = 100;
const randn = (shape: number[]) => T.randn(shape, { generator: new T.Generator(seed++) });

function parity(name: string, body: () => void): void {
  test(name, { skip }, () => {
    const before = T.memory().liveTensors;
    T.tidy(body);
    assert.equal(T.memory().liveTensors, before, 'no tensor leaked');
  });
}

parity('matmul (2-D, batched, broadcast) matches torch', () => {
  const inputs = { a: randn([7, 33]), b: randn([33, 5]), c: randn([3, 4, 6]), d: randn([6, 2]) };
  const theirs = torchCompute(
    `outputs['ab'] = inputs['a'] @ inputs['b']
outputs['cd'] = torch.matmul(inputs['c'], inputs['d'])`,
    inputs,
  );
  assertClose(inputs.a.matmul(inputs.b), theirs.get('ab')!, 'a @ b');
  assertClose(inputs.c.matmul(inputs.d), theirs.get('cd')!, 'c @ d (broadcast)');
});

parity('conv3d (stride, padding, bias, groups) matches torch', () => {
  const inputs = { x: randn([2, 4, 5, 9, 9]), w: randn([6, 4, 3, 3, 3]), b: randn([6]), wg: randn([4, 2, 1, 3, 3]) };
  const theirs = torchCompute(
    `import torch.nn.functional as F
outputs['y'] = F.conv3d(inputs['x'], inputs['w'], inputs['b'], stride=(1, 2, 2), padding=1)
outputs['yg'] = F.conv3d(inputs['x'], inputs['wg'], None, padding=(0, 1, 1), groups=2, dilation=(1, 2, 2))`,
    inputs,
  );
  assertClose(F.conv3d(inputs.x, inputs.w, inputs.b, { stride: [1, 2, 2], padding: 1 }), theirs.get('y')!, 'conv3d');
  assertClose(F.conv3d(inputs.x, inputs.wg, null, { padding: [0, 1, 1], groups: 2, dilation: [1, 2, 2] }), theirs.get('yg')!, 'conv3d grouped');
});

parity('batch_norm (training updates running stats; eval uses them) matches torch', () => {
  const inputs = { x: randn([4, 3, 5, 5]).mul(2).add(1), weight: randn([3]), bias: randn([3]) };
  const theirs = torchCompute(
    `import torch.nn.functional as F
rm, rv = torch.zeros(3), torch.ones(3)
outputs['train'] = F.batch_norm(inputs['x'], rm, rv, inputs['weight'], inputs['bias'], training=True, momentum=0.1, eps=1e-5)
outputs['running_mean'], outputs['running_var'] = rm, rv
outputs['eval'] = F.batch_norm(inputs['x'], rm, rv, inputs['weight'], inputs['bias'], training=False, eps=1e-5)`,
    inputs,
  );
  const runningMean = T.zeros([3]);
  const runningVar = T.ones([3]);
  const common = { weight: inputs.weight, bias: inputs.bias, runningMean, runningVar, momentum: 0.1, eps: 1e-5 };
  assertClose(F.batchNorm(inputs.x, { ...common, training: true }), theirs.get('train')!, 'training output');
  assertClose(runningMean, theirs.get('running_mean')!, 'running mean');
  assertClose(runningVar, theirs.get('running_var')!, 'running var (unbiased)');
  assertClose(F.batchNorm(inputs.x, { ...common, training: false }), theirs.get('eval')!, 'eval output');
});

parity('stft with a Hann window matches torch', () => {
  const inputs = { x: randn([2, 1000]), window: T.hannWindow(400) };
  const theirs = torchCompute(
    `s = torch.stft(inputs['x'], n_fft=512, hop_length=160, win_length=400, window=inputs['window'], center=True,
               pad_mode='reflect', normalized=False, onesided=True, return_complex=True)
outputs['re'], outputs['im'] = s.real.contiguous(), s.imag.contiguous()`,
    inputs,
  );
  const ours = F.stft(inputs.x, { nFft: 512, hopLength: 160, winLength: 400, window: inputs.window });
  assert.equal(ours.dtype, 'complex64');
  assertClose(ours.real(), theirs.get('re')!, 'stft real');
  assertClose(ours.imag(), theirs.get('im')!, 'stft imag');
});

parity('logsumexp and topk match torch', () => {
  const inputs = { x: randn([5, 40]).mul(30) };
  const theirs = torchCompute(
    `outputs['lse1'] = torch.logsumexp(inputs['x'], dim=1)
outputs['lse01'] = torch.logsumexp(inputs['x'], dim=(0, 1), keepdim=True)
v, i = torch.topk(inputs['x'], 7, dim=1)
outputs['values'], outputs['indices'] = v, i
v, i = torch.topk(inputs['x'], 3, dim=0, largest=False)
outputs['small_values'], outputs['small_indices'] = v, i`,
    inputs,
  );
  assertClose(inputs.x.logsumexp(1), theirs.get('lse1')!, 'logsumexp dim 1');
  assertClose(inputs.x.logsumexp([0, 1], true), theirs.get('lse01')!, 'logsumexp all, keepdim');
  const top = inputs.x.topk(7, 1);
  assertClose(top.values, theirs.get('values')!, 'topk values');
  assert.equal(top.indices.dtype, 'int64');
  assert.deepEqual(top.indices.toArray(), theirs.get('indices')!.toArray(), 'topk indices');
  const bottom = inputs.x.topk(3, 0, false);
  assertClose(bottom.values, theirs.get('small_values')!, 'topk smallest values');
  assert.deepEqual(bottom.indices.toArray(), theirs.get('small_indices')!.toArray(), 'topk smallest indices');
});

parity('a small conv net: forward and backward match torch (output, loss, every gradient, running stats)', () => {
  // conv2d → batchNorm (train) → relu → maxPool2d → linear → crossEntropy; the same weights on both sides.
  const inputs = {
    x: randn([4, 3, 8, 8]),
    target: T.tensor(new BigInt64Array([0n, 4n, 2n, 4n]), [4]),
    'conv.weight': randn([6, 3, 3, 3]).mul(0.3),
    'conv.bias': randn([6]).mul(0.1),
    'bn.weight': randn([6]).mul(0.2).add(1),
    'bn.bias': randn([6]).mul(0.1),
    'fc.weight': randn([5, 96]).mul(0.1),
    'fc.bias': randn([5]).mul(0.1),
  };
  const theirs = torchCompute(
    `import torch.nn.functional as F
p = {k: v.clone().requires_grad_() for k, v in inputs.items() if '.' in k}
x = inputs['x'].clone().requires_grad_()
rm, rv = torch.zeros(6), torch.ones(6)
h = F.conv2d(x, p['conv.weight'], p['conv.bias'], padding=1)
h = F.batch_norm(h, rm, rv, p['bn.weight'], p['bn.bias'], training=True)
h = F.max_pool2d(F.relu(h), 2)
logits = F.linear(h.flatten(1), p['fc.weight'], p['fc.bias'])
loss = F.cross_entropy(logits, inputs['target'])
loss.backward()
outputs['logits'], outputs['loss'] = logits.detach(), loss.detach()
outputs['grad.x'] = x.grad
for k, v in p.items():
    outputs['grad.' + k] = v.grad
outputs['bn.running_mean'], outputs['bn.running_var'] = rm, rv`,
    inputs,
  );

  const params = Object.fromEntries(
    Object.entries(inputs)
      .filter(([k]) => k.includes('.'))
      .map(([k, v]) => [k, v.detach().requiresGrad_(true)]),
  );
  const x = inputs.x.detach().requiresGrad_(true);
  const runningMean = T.zeros([6]);
  const runningVar = T.ones([6]);
  let h = F.conv2d(x, params['conv.weight'], params['conv.bias'], { padding: 1 });
  h = F.batchNorm(h, { weight: params['bn.weight'], bias: params['bn.bias'], runningMean, runningVar, training: true });
  h = F.maxPool2d(h.relu(), 2);
  const logits = F.linear(h.flatten(1), params['fc.weight'], params['fc.bias']);
  const loss = F.crossEntropy(logits, inputs.target);
  loss.backward();

  assertClose(logits, theirs.get('logits')!, 'logits');
  assertClose(loss, theirs.get('loss')!, 'loss');
  assertClose(x.grad!, theirs.get('grad.x')!, 'grad of the input');
  for (const [name, p] of Object.entries(params)) assertClose(p.grad!, theirs.get(`grad.${name}`)!, `grad of ${name}`);
  assertClose(runningMean, theirs.get('bn.running_mean')!, 'running mean');
  assertClose(runningVar, theirs.get('bn.running_var')!, 'running var');
  // every parameter got a gradient from Python too: nothing was silently left out of the comparison
  assert.equal([...theirs.keys()].filter((k) => k.startsWith('grad.')).length, Object.keys(params).length + 1);
});
