// A sweep of the Tensor API against PyTorch: each avid call beside the torch expression it must equal (values,
// shape and dtype), all computed in one Python run. It catches semantic slips (defaults such as unbiased std,
// integer dtypes kept, index dtypes, rounding) that gradient checks cannot see.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/tensor/index.js';
import { torchCompute, pythonTorchSkipReason } from '../helpers/python.js';
import { assertClose } from '../helpers/compare.js';

const F = T.functional;
const skip = pythonTorchSkipReason() ?? false;
T.setNumThreads(1);

type Inputs = Record<string, T.Tensor>;
/** [name, avid computation, torch expression over the same inputs (x, y, p, ...)] */
type Case = [string, (i: Inputs) => T.Tensor, string];

const cases: Case[] = [
  // pointwise
  ['add_alpha', (i) => i.x.add(i.y, 2), 'torch.add(x, y, alpha=2)'],
  ['add_scalar', (i) => i.x.add(1.5), 'x + 1.5'],
  ['sub_alpha', (i) => i.x.sub(i.y, 0.5), 'torch.sub(x, y, alpha=0.5)'],
  ['mul', (i) => i.x.mul(i.y), 'x * y'],
  ['div', (i) => i.x.div(i.p), 'x / p'],
  ['pow_scalar', (i) => i.p.pow(2.5), 'p ** 2.5'],
  ['pow_tensor', (i) => i.p.pow(i.y), 'p ** y'],
  ['remainder', (i) => i.x.remainder(0.7), 'torch.remainder(x, 0.7)'],
  ['fmod', (i) => i.x.fmod(0.7), 'torch.fmod(x, 0.7)'],
  ['exp', (i) => i.x.exp(), 'x.exp()'],
  ['log', (i) => i.p.log(), 'p.log()'],
  ['log1p', (i) => i.p.log1p(), 'p.log1p()'],
  ['sqrt', (i) => i.p.sqrt(), 'p.sqrt()'],
  ['rsqrt', (i) => i.p.rsqrt(), 'p.rsqrt()'],
  ['abs', (i) => i.x.abs(), 'x.abs()'],
  ['neg', (i) => i.x.neg(), '-x'],
  ['sign', (i) => i.x.sign(), 'x.sign()'],
  ['square', (i) => i.x.square(), 'x.square()'],
  ['reciprocal', (i) => i.p.reciprocal(), 'p.reciprocal()'],
  ['sin', (i) => i.x.sin(), 'x.sin()'],
  ['cos', (i) => i.x.cos(), 'x.cos()'],
  ['floor', (i) => i.x.mul(3).floor(), '(x * 3).floor()'],
  ['ceil', (i) => i.x.mul(3).ceil(), '(x * 3).ceil()'],
  ['round_half_even', (i) => i.halves.round(), 'halves.round()'],
  ['relu', (i) => i.x.relu(), 'x.relu()'],
  ['sigmoid', (i) => i.x.sigmoid(), 'x.sigmoid()'],
  ['tanh', (i) => i.x.tanh(), 'x.tanh()'],
  ['logsigmoid', (i) => i.x.logSigmoid(), 'F.logsigmoid(x)'],
  ['softplus', (i) => i.x.softplus(), 'F.softplus(x)'],
  ['clamp', (i) => i.x.clamp(-0.5, 0.5), 'x.clamp(-0.5, 0.5)'],
  ['clamp_min', (i) => i.x.clamp(0), 'x.clamp(min=0)'],
  ['clamp_max', (i) => i.x.clamp(null, 0.25), 'x.clamp(max=0.25)'],
  ['lerp', (i) => i.x.lerp(i.y, 0.3), 'torch.lerp(x, y, 0.3)'],
  ['minimum', (i) => i.x.minimum(i.y), 'torch.minimum(x, y)'],
  ['maximum', (i) => i.x.maximum(i.y), 'torch.maximum(x, y)'],
  ['eq', (i) => i.ints.eq(2), 'ints == 2'],
  ['ne', (i) => i.ints.ne(2), 'ints != 2'],
  ['lt', (i) => i.x.lt(i.y), 'x < y'],
  ['le', (i) => i.x.le(0), 'x <= 0'],
  ['gt', (i) => i.x.gt(i.y), 'x > y'],
  ['ge', (i) => i.x.ge(0.1), 'x >= 0.1'],
  ['logical_and', (i) => i.x.gt(0).logicalAnd(i.y.gt(0)), '(x > 0) & (y > 0)'],
  ['logical_or', (i) => i.x.gt(0).logicalOr(i.y.gt(0)), '(x > 0) | (y > 0)'],
  ['logical_not', (i) => i.x.gt(0).logicalNot(), '~(x > 0)'],
  ['where', (i) => T.where(i.x.gt(0), i.x, i.y), 'torch.where(x > 0, x, y)'],
  ['where_scalar', (i) => T.where(i.x.gt(0), i.x, 0), 'torch.where(x > 0, x, torch.tensor(0.0))'],
  ['int_add_keeps_int64', (i) => i.ints.add(1), 'ints + 1'],
  ['int_mul_keeps_int64', (i) => i.ints.mul(3), 'ints * 3'],
  ['int_div_is_true_division', (i) => i.ints.div(2), 'ints / 2'],
  ['isnan', (i) => i.withNan.isnan(), 'with_nan.isnan()'],
  ['isfinite', (i) => i.withNan.isfinite(), 'with_nan.isfinite()'],
  // reductions
  ['sum_all', (i) => i.x.sum(), 'x.sum()'],
  ['sum_dim', (i) => i.x.sum(1), 'x.sum(1)'],
  ['sum_dims_keepdim', (i) => i.cube.sum([0, 2], true), 'cube.sum((0, 2), keepdim=True)'],
  ['sum_int64', (i) => i.ints.sum(), 'ints.sum()'],
  ['sum_bool_counts', (i) => i.x.gt(0).sum(), '(x > 0).sum()'],
  ['sum_dtype', (i) => i.x.sum(1, false, 'float64'), 'x.sum(1, dtype=torch.float64)'],
  ['mean_dim', (i) => i.x.mean(0), 'x.mean(0)'],
  ['mean_keepdim', (i) => i.cube.mean([1, 2], true), 'cube.mean((1, 2), keepdim=True)'],
  ['prod', (i) => i.p.prod(), 'p.prod()'],
  ['cumsum', (i) => i.x.cumsum(1), 'x.cumsum(1)'],
  ['std_unbiased', (i) => i.x.std(), 'x.std()'],
  ['std_biased_dim', (i) => i.x.std(1, false), 'x.std(1, unbiased=False)'],
  ['var_dim_keepdim', (i) => i.x.var(0, true, true), 'x.var(0, unbiased=True, keepdim=True)'],
  ['norm_2', (i) => i.x.norm(), 'x.norm()'],
  ['norm_1_dim', (i) => i.x.norm(1, 1), 'x.norm(1, dim=1)'],
  ['logsumexp', (i) => i.x.logsumexp(1), 'x.logsumexp(1)'],
  ['max_all', (i) => i.x.max(), 'x.max()'],
  ['min_all', (i) => i.x.min(), 'x.min()'],
  ['max_dim_values', (i) => i.x.maxDim(1).values, 'x.max(1).values'],
  ['max_dim_indices', (i) => i.x.maxDim(1).indices, 'x.max(1).indices'],
  ['min_dim_keepdim_values', (i) => i.x.minDim(0, true).values, 'x.min(0, keepdim=True).values'],
  ['min_dim_keepdim_indices', (i) => i.x.minDim(0, true).indices, 'x.min(0, keepdim=True).indices'],
  ['amax', (i) => i.cube.amax([1, 2]), 'cube.amax((1, 2))'],
  ['amin', (i) => i.cube.amin(0, true), 'cube.amin(0, keepdim=True)'],
  ['argmax_all', (i) => i.x.argmax(), 'x.argmax()'],
  ['argmax_dim', (i) => i.x.argmax(1), 'x.argmax(1)'],
  ['argmin_keepdim', (i) => i.x.argmin(0, true), 'x.argmin(0, keepdim=True)'],
  ['all', (i) => i.p.gt(0).all(), '(p > 0).all()'],
  ['any', (i) => i.x.gt(2).any(), '(x > 2).any()'],
  ['topk_smallest_values', (i) => i.x.topk(2, 1, false).values, 'x.topk(2, 1, largest=False).values'],
  ['topk_smallest_indices', (i) => i.x.topk(2, 1, false).indices, 'x.topk(2, 1, largest=False).indices'],
  ['sort_desc_values', (i) => i.x.sort(1, true).values, 'x.sort(1, descending=True).values'],
  ['sort_desc_indices', (i) => i.x.sort(1, true).indices, 'x.sort(1, descending=True).indices'],
  ['argsort', (i) => i.x.argsort(0), 'x.argsort(0)'],
  // shapes and indexing
  ['permute', (i) => i.cube.permute([2, 0, 1]).contiguous(), 'cube.permute(2, 0, 1)'],
  ['transpose', (i) => i.cube.transpose(0, 2), 'cube.transpose(0, 2)'],
  ['flip', (i) => i.x.flip([1]), 'x.flip(1)'],
  ['roll', (i) => i.x.roll([2], [1]), 'x.roll(2, 1)'],
  ['repeat', (i) => i.x.repeat([2, 1]), 'x.repeat(2, 1)'],
  ['repeat_interleave', (i) => i.x.repeatInterleave(2, 0), 'x.repeat_interleave(2, 0)'],
  ['tril', (i) => i.x.tril(), 'x.tril()'],
  ['triu_diag', (i) => i.x.triu(1), 'x.triu(1)'],
  ['narrow', (i) => i.x.narrow(1, 1, 3), 'x.narrow(1, 1, 3)'],
  ['slice_step', (i) => i.x.slice(1, 1, 5, 2), 'x[:, 1:5:2]'],
  ['slice_negative', (i) => i.x.slice(1, -2), 'x[:, -2:]'],
  ['select', (i) => i.cube.select(1, 2), 'cube[:, 2]'],
  ['index_select', (i) => i.x.indexSelect(1, i.idx), 'x.index_select(1, idx)'],
  ['advanced_index', (i) => i.x.index([null, i.idx]), 'x[:, idx]'],
  ['gather', (i) => i.x.gather(1, i.gidx), 'x.gather(1, gidx)'],
  ['scatter_value', (i) => i.x.scatter(1, i.gidx, 9), 'x.scatter(1, gidx, 9.0)'],
  ['scatter_add', (i) => i.x.scatterAdd(1, i.gidx, i.y.narrow(1, 0, 2)), 'x.scatter_add(1, gidx, y[:, :2])'],
  ['masked_fill', (i) => i.x.maskedFill(i.x.lt(0), -1), 'x.masked_fill(x < 0, -1)'],
  ['masked_select', (i) => i.x.maskedSelect(i.x.gt(0)), 'x.masked_select(x > 0)'],
  ['nonzero', (i) => i.x.gt(0.5).nonzero(), '(x > 0.5).nonzero()'],
  ['cat', (i) => T.cat([i.x, i.y], 1), 'torch.cat([x, y], 1)'],
  ['stack', (i) => T.stack([i.x, i.y], 1), 'torch.stack([x, y], 1)'],
  ['expand', (i) => i.x.narrow(0, 0, 1).expand([4, 5]).contiguous(), 'x[:1].expand(4, 5)'],
  ['unsqueeze_squeeze', (i) => i.x.unsqueeze(1).squeeze(1), 'x'],
  ['flatten', (i) => i.cube.flatten(1), 'cube.flatten(1)'],
  ['chunk_last', (i) => i.x.chunk(2, 1)[1], 'x.chunk(2, 1)[1]'],
  ['split_last', (i) => i.x.split(2, 1)[2], 'x.split(2, 1)[2]'],
  ['unbind', (i) => i.cube.unbind(2)[1], 'cube.unbind(2)[1]'],
  // linear algebra
  ['mm', (i) => i.x.mm(i.y.T), 'x @ y.T'],
  ['bmm', (i) => i.cube.bmm(i.cube.transpose(1, 2)), 'torch.bmm(cube, cube.transpose(1, 2))'],
  ['addmm', (i) => T.addmm(i.bias3, i.x, i.y.T, 0.5, 2), 'torch.addmm(bias3, x, y.T, beta=0.5, alpha=2)'],
  ['outer', (i) => T.outer(i.x.select(0, 0), i.y.select(0, 1)), 'torch.outer(x[0], y[1])'],
  ['einsum', (i) => T.einsum('bij,bkj->bik', [i.cube, i.cube]), "torch.einsum('bij,bkj->bik', cube, cube)"],
  // creation
  ['arange_float', () => T.arange(0, 5, 0.5, { dtype: 'float32' }), 'torch.arange(0, 5, 0.5)'],
  ['arange_int', () => T.arange(3, 11, 2), 'torch.arange(3, 11, 2)'],
  ['linspace', () => T.linspace(-1, 1, 7), 'torch.linspace(-1, 1, 7)'],
  ['eye', () => T.eye(3), 'torch.eye(3)'],
  ['hann_periodic', () => T.hannWindow(8), 'torch.hann_window(8)'],
  ['hann_symmetric', () => T.hannWindow(8, false), 'torch.hann_window(8, periodic=False)'],
  ['full_int', () => T.full([2, 2], 7, { dtype: 'int64' }), 'torch.full((2, 2), 7)'],
  // nn functions beyond the parity file
  ['softmax', (i) => F.softmax(i.x, 1), 'F.softmax(x, 1)'],
  ['log_softmax', (i) => F.logSoftmax(i.x, 0), 'F.log_softmax(x, 0)'],
  ['normalize', (i) => F.normalize(i.x), 'F.normalize(x)'],
  ['nll_loss', (i) => F.nllLoss(F.logSoftmax(i.x, 1), i.target), 'F.nll_loss(F.log_softmax(x, 1), target)'],
  ['cross_entropy_smooth_weight', (i) => F.crossEntropy(i.x, i.target, { weight: i.cw, labelSmoothing: 0.2 }), 'F.cross_entropy(x, target, weight=cw, label_smoothing=0.2)'],
  ['cross_entropy_none', (i) => F.crossEntropy(i.x, i.target, { reduction: 'none' }), "F.cross_entropy(x, target, reduction='none')"],
  ['mse_sum', (i) => F.mseLoss(i.x, i.y, 'sum'), "F.mse_loss(x, y, reduction='sum')"],
  ['bce_logits', (i) => F.binaryCrossEntropyWithLogits(i.x, i.p.clamp(0, 1)), 'F.binary_cross_entropy_with_logits(x, p.clamp(0, 1))'],
  ['max_pool2d_ceil', (i) => F.maxPool2d(i.img, 3, { stride: 2, ceilMode: true }), 'F.max_pool2d(img, 3, 2, ceil_mode=True)'],
  ['max_pool3d_dilated', (i) => F.maxPool3d(i.vol, 2, { stride: 1, dilation: 2 }), 'F.max_pool3d(vol, 2, 1, dilation=2)'],
  ['avg_pool2d_padded', (i) => F.avgPool2d(i.img, 3, 2, 1), 'F.avg_pool2d(img, 3, 2, 1)'],
  ['avg_pool3d', (i) => F.avgPool3d(i.vol, [1, 2, 2]), 'F.avg_pool3d(vol, (1, 2, 2))'],
  ['adaptive_max_pool2d', (i) => F.adaptiveMaxPool2d(i.img, [2, 3]), 'F.adaptive_max_pool2d(img, (2, 3))'],
  ['adaptive_max_pool3d', (i) => F.adaptiveMaxPool3d(i.vol, 1), 'F.adaptive_max_pool3d(vol, 1)'],
  ['adaptive_avg_pool2d', (i) => F.adaptiveAvgPool2d(i.img, [3, 2]), 'F.adaptive_avg_pool2d(img, (3, 2))'],
  ['adaptive_avg_pool3d', (i) => F.adaptiveAvgPool3d(i.vol, [1, 2, 2]), 'F.adaptive_avg_pool3d(vol, (1, 2, 2))'],
  ['conv2d_grouped', (i) => F.conv2d(i.img, i.w2, null, { groups: 2, stride: [1, 2], dilation: [2, 1] }), 'F.conv2d(img, w2, None, stride=(1, 2), dilation=(2, 1), groups=2)'],
  ['linear_3d', (i) => F.linear(i.cube, i.wl, i.bl), 'F.linear(cube, wl, bl)'],
  ['interpolate_bilinear', (i) => F.interpolate(i.img, [9, 5], 'bilinear'), "F.interpolate(img, size=(9, 5), mode='bilinear', align_corners=False)"],
  ['interpolate_nearest', (i) => F.interpolate(i.img, [3, 10], 'nearest'), "F.interpolate(img, size=(3, 10), mode='nearest')"],
  ['interpolate_trilinear', (i) => F.interpolate(i.vol, [3, 5, 5], 'trilinear', true), "F.interpolate(vol, size=(3, 5, 5), mode='trilinear', align_corners=True)"],
  ['pad_reflect', (i) => F.pad(i.img, [1, 2, 2, 1], 'reflect'), "F.pad(img, (1, 2, 2, 1), mode='reflect')"],
  ['pad_replicate', (i) => F.pad(i.img, [2, 0, 1, 1], 'replicate'), "F.pad(img, (2, 0, 1, 1), mode='replicate')"],
  ['pad_circular', (i) => F.pad(i.img, [1, 1, 1, 1], 'circular'), "F.pad(img, (1, 1, 1, 1), mode='circular')"],
  ['pad_constant', (i) => F.pad(i.img, [1, 1], 'constant', -2), 'F.pad(img, (1, 1), value=-2.0)'],
  ['batch_norm_eval_no_affine', (i) => F.batchNorm(i.img, { runningMean: i.rm, runningVar: i.rv, training: false }), 'F.batch_norm(img, rm, rv, training=False)'],
];

function sweepInputs(): Inputs {
  let seed = 500;
  const g = () => ({ generator: new T.Generator(seed++) });
  return {
    x: T.randn([4, 5], g()),
    y: T.randn([4, 5], g()),
    p: T.rand([4, 5], g()).add(0.1),
    cube: T.randn([2, 3, 4], g()),
    ints: T.randint(0, 5, [3, 4], g()),
    halves: T.tensor(new Float32Array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.49, -0.51])),
    withNan: T.tensor(new Float32Array([1, NaN, Infinity, -Infinity, 0])),
    idx: T.tensor(new BigInt64Array([4n, 0n, 2n, 2n])),
    gidx: T.randint(0, 5, [4, 2], g()),
    target: T.tensor(new BigInt64Array([1n, 4n, 0n, 1n])),
    cw: T.tensor(new Float32Array([1, 2, 0.5, 1, 3])),
    bias3: T.randn([4, 4], g()),
    img: T.randn([2, 4, 7, 6], g()),
    vol: T.randn([1, 2, 4, 6, 6], g()),
    w2: T.randn([6, 2, 3, 3], g()),
    wl: T.randn([3, 4], g()),
    bl: T.randn([3], g()),
    rm: T.randn([4], g()),
    rv: T.rand([4], g()).add(0.5),
  };
}

test('the Tensor API agrees with PyTorch op by op (values, shapes, dtypes)', { skip }, () => {
  const before = T.memory().liveTensors;
  T.tidy(() => {
    const inputs = sweepInputs();
    const pythonNames: Record<string, string> = { withNan: 'with_nan' };
    const bind = Object.keys(inputs)
      .map((k) => `${pythonNames[k] ?? k} = inputs['${k}']`)
      .join('\n');
    const code = `import torch.nn.functional as F\n${bind}\n${cases.map(([name, , expr]) => `outputs['${name}'] = (${expr}).contiguous()`).join('\n')}`;
    const theirs = torchCompute(code, inputs);
    const failures: string[] = [];
    for (const [name, ours] of cases) {
      try {
        const got = T.tidy(() => ours(inputs).contiguous());
        const want = theirs.get(name)!;
        assert.equal(got.dtype, want.dtype, `${name}: dtype`);
        if (got.dtype === 'float32' || got.dtype === 'float64') assertClose(got, want, name, { rtol: 1e-5, atol: 1e-6 });
        else {
          assert.deepEqual(got.shape, want.shape, `${name}: shape`);
          assert.deepEqual(got.toArray(), want.toArray(), `${name}: values`);
        }
      } catch (error) {
        const message = (error as Error).message.split('\n')[0];
        failures.push(message.startsWith(`${name}:`) ? message : `${name}: ${message}`);
      }
    }
    assert.deepEqual(failures, [], `ops that disagree with PyTorch:\n  ${failures.join('\n  ')}`);
  });
  assert.equal(T.memory().liveTensors, before, 'no tensor leaked');
});

test('seeded random numbers are PyTorch\'s (global seed and explicit generators)', { skip }, () => {
  T.tidy(() => {
    const theirs = torchCompute(`torch.manual_seed(7)
outputs['rand'] = torch.rand(5)
outputs['randn'] = torch.randn(2, 3)
outputs['randint'] = torch.randint(0, 10, (6,))
outputs['randperm'] = torch.randperm(8)
g = torch.Generator().manual_seed(11)
outputs['gen_randn'] = torch.randn(4, generator=g)
outputs['gen_rand'] = torch.rand(3, generator=g)`);
    T.manualSeed(7);
    const ours = new Map<string, T.Tensor>([
      ['rand', T.rand([5])],
      ['randn', T.randn([2, 3])],
      ['randint', T.randint(0, 10, [6])],
      ['randperm', T.randperm(8)],
    ]);
    const generator = new T.Generator(11);
    ours.set('gen_randn', T.randn([4], { generator }));
    ours.set('gen_rand', T.rand([3], { generator }));
    for (const [name, t] of ours) {
      const want = theirs.get(name)!;
      assert.equal(t.dtype, want.dtype, `${name}: dtype`);
      assert.deepEqual(t.toArray(), want.toArray(), `${name}: the same numbers as torch`);
    }
  });
});
