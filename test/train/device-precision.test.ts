// Devices and mixed precision on a CPU machine: device validation (CUDA on a CPU-only build fails at once
// with what to do), in-place moves that keep tensors' identity, batches left alone on the CPU, and
// bfloat16 autocast training steps. The CUDA paths themselves need a GPU (docs/cuda.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as T from '../../src/tensor/index.js';
import { native } from '../../src/tensor/native.js';
import { createModel } from '../../src/models/index.js';
import { Adam, schedules } from '../../src/optim/index.js';
import { AvidObjective } from '../../src/ssl/avid.js';
import { Trainer } from '../../src/train/trainer.js';
import { deviceInfo, resolveDevice, moveTensors_, batchToDevice, toDevice, evaluateOnDevice, withDeviceIO } from '../../src/train/device-transfer.js';
import { withAutocast, autocastEnabled, checkPrecision } from '../../src/train/mixed-precision.js';
import { parseConfig } from '../../src/config/load.js';
import { deviceFromConfig } from '../../src/train/from-config.js';
import { RandomSource } from '../helpers/random-source.js';

const info = deviceInfo();

test('device names are validated; CUDA on a CPU-only build fails naming the libtorch and the fix', () => {
  assert.equal(resolveDevice('cpu'), 'cpu');
  assert.throws(() => resolveDevice('gpu0', { what: 'train.device' }), /train\.device: 'gpu0' is not a device \(allowed: cpu, cuda, cuda:N\)/);
  assert.ok(info.libtorch.includes('torch'), info.libtorch);
  if (info.cudaBuild) {
    if (info.cudaDevices > 0) assert.equal(resolveDevice('cuda'), 'cuda:0');
    assert.throws(() => resolveDevice('cuda:99'), /does not exist/);
    return;
  }
  for (const spec of ['cuda', 'cuda:1']) {
    assert.throws(
      () => resolveDevice(spec, { what: 'train.device' }),
      (e: Error) => e.message.includes('this avid build has no CUDA') && e.message.includes(`libtorch at ${info.libtorch} is CPU-only`) && e.message.includes('LIBTORCH='),
    );
  }
});

test('config: train.device and train.precision are checked before any work', () => {
  const config = (train: Record<string, unknown>) => parseConfig({ data: { source: 'x' }, train }, 'test');
  assert.deepEqual(deviceFromConfig(config({})), { device: 'cpu', precision: 'fp32' });
  assert.deepEqual(deviceFromConfig(config({ precision: 'bf16' })), { device: 'cpu', precision: 'bf16' });
  assert.throws(() => deviceFromConfig(config({ precision: 'fp16' })), /train\.precision: fp16 autocast needs a CUDA device/);
  assert.throws(() => config({ device: 'tpu' }), /train\.device/);
  assert.throws(() => config({ precision: 'fp8' }), /train\.precision/);
  if (!info.cudaBuild) assert.throws(() => deviceFromConfig(config({ device: 'cuda' })), /this avid build has no CUDA/);
});

test('setData moves a tensor in place: same handle, still a leaf that requires grad, optimizer still updates it', () => {
  const p = T.randn([4, 3]).requiresGrad_(true);
  const handle = p.handle;
  // A dtype change stands in for a device change on a CPU machine: the same in-place mechanism.
  const wide = p.detach().to('float64');
  native.setData(p.handle, wide.handle);
  wide.dispose();
  assert.equal(p.handle, handle);
  assert.equal(p.dtype, 'float64');
  assert.equal(p.requiresGrad, true);
  const before = p.toFloat32Array();
  const optimizer = new Adam([p], { lr: 0.1 });
  T.tidy(() => p.square().sum().backward());
  optimizer.update();
  assert.notDeepEqual(p.toFloat32Array(), before);
  optimizer.dispose();
  // Already on the device: nothing happens.
  const live = T.memory().liveTensors;
  moveTensors_([p], 'cpu');
  assert.equal(T.memory().liveTensors, live);
  p.dispose();
});

test('on the CPU, batches and tensors are not copied', () => {
  const batch = { video: T.zeros([2, 3, 4, 8, 8]), audio: T.zeros([2, 1, 20, 16]), index: T.arange(2) };
  assert.equal(batchToDevice(batch, 'cpu'), batch);
  assert.equal(toDevice(batch.video, 'cpu'), batch.video);
  Object.values(batch).forEach((t) => t.dispose());
});

test('evaluation on a device: the wrapper sends inputs and returns CPU outputs, tensors or records, leaking nothing', () => {
  T.manualSeed(2);
  const model = createModel('av-r2plus1d-10', { width: 0.125, embeddingDim: 16 });
  model.eval();
  assert.equal(evaluateOnDevice(model, 'cpu', ['embedAudio']), model, 'on the CPU: the module itself');
  // The wrapping itself, exercised with the CPU as the 'device'.
  const wrapped = withDeviceIO(model, 'cpu', ['embedAudio']);
  const encoder = model.audio_model as unknown as { forwardBlocks(x: T.Tensor): Record<string, T.Tensor> };
  const wrappedEncoder = withDeviceIO(encoder, 'cpu', ['forwardBlocks']);
  const audio = T.randn([2, 1, 20, 16]);
  const live = T.memory().liveTensors;
  const direct = T.noGrad(() => model.embedAudio(audio));
  const through = T.noGrad(() => wrapped.embedAudio(audio));
  assert.deepEqual(through.toFloat32Array(), direct.toFloat32Array());
  const blocks = T.noGrad(() => wrappedEncoder.forwardBlocks(audio));
  const reference = T.noGrad(() => encoder.forwardBlocks(audio));
  assert.deepEqual(Object.keys(blocks), Object.keys(reference));
  for (const k of Object.keys(blocks)) assert.deepEqual(blocks[k].toFloat32Array(), reference[k].toFloat32Array(), k);
  assert.equal(wrapped.numParameters(), model.numParameters(), 'other members pass through');
  [direct, through, ...Object.values(blocks), ...Object.values(reference)].forEach((t) => t.dispose());
  assert.equal(T.memory().liveTensors, live);
  audio.dispose();
  model.dispose();
});

test('autocast regions: bfloat16 matmuls inside, float32 after, nesting restored', () => {
  const a = T.randn([4, 5]);
  const b = T.randn([5, 6]);
  assert.equal(autocastEnabled('cpu'), false);
  const inner = withAutocast('cpu', 'bf16', () => {
    assert.equal(autocastEnabled('cpu'), true);
    const nested = withAutocast('cpu', 'bf16', () => T.tidy(() => a.matmul(b).dtype));
    assert.equal(autocastEnabled('cpu'), true, 'still inside the outer region');
    return [nested, T.tidy(() => a.matmul(b).dtype)];
  });
  assert.deepEqual(inner, ['bfloat16', 'bfloat16']);
  assert.equal(autocastEnabled('cpu'), false);
  assert.equal(T.tidy(() => a.matmul(b).dtype), 'float32');
  // An error inside still closes the region.
  assert.throws(() => withAutocast('cpu', 'bf16', () => { throw new Error('boom'); }), /boom/);
  assert.equal(autocastEnabled('cpu'), false);
  assert.equal(withAutocast('cpu', 'fp32', () => autocastEnabled('cpu')), false);
  assert.throws(() => checkPrecision('fp16', 'cpu'), /bfloat16 only/);
  a.dispose();
  b.dispose();
});

test('bf16 autocast training steps on the CPU: finite losses close to fp32, float32 parameters, no tensor leak', async () => {
  // Clips large enough that the last stages' batch norm normalises more than a handful of values (with 1×1×1
  // maps and 4 clips it would amplify bfloat16's rounding without bound).
  const source = () => new RandomSource(16, 8, 0, [3, 8, 32, 32], [1, 40, 32]);
  const { value: batch } = await source().epoch(0, 0)[Symbol.asyncIterator]().next();
  const runDir = mkdtempSync(path.join(tmpdir(), 'avid-bf16-'));
  const build = (precision: 'fp32' | 'bf16') => {
    T.manualSeed(5);
    const model = createModel('av-r2plus1d-10', { width: 0.125, embeddingDim: 16 });
    const objective = new AvidObjective({ numInstances: 16, dim: 16, variant: 'cross', negatives: 8 });
    const optimizer = new Adam(model.parameters(), { lr: 1e-3 });
    const trainer = new Trainer(model, objective, optimizer, source(), { runDir, seed: 0, epochs: 1, schedule: schedules.constant, checkpointEvery: 1000, logEvery: 1, progress: null, precision });
    return { model, objective, optimizer, trainer };
  };
  const full = build('fp32');
  const half = build('bf16');
  assert.equal(half.trainer.gradScaler, null, 'bfloat16 needs no loss scaling');
  const start = half.model.parameters().map((p) => p.toFloat32Array());
  const step = () => [full.trainer.trainStep(batch.video, batch.audio, batch.index).loss, half.trainer.trainStep(batch.video, batch.audio, batch.index).loss];
  const losses = [step()];
  const live = T.memory().liveTensors;
  for (let i = 0; i < 3; i++) losses.push(step());
  assert.equal(T.memory().liveTensors, live, 'no tensor leaked');
  assert.equal(autocastEnabled('cpu'), false, 'the region is closed after the step');
  // Same parameters and batch: the first bf16 loss is within bfloat16's rounding of fp32's (measured 0.4%);
  // the runs then drift apart as the rounding reaches the parameters (measured up to 8% by step 4).
  assert.ok(Math.abs(losses[0][0] - losses[0][1]) < 0.02 * losses[0][0], `first step: bf16 loss ${losses[0][1]} vs fp32 ${losses[0][0]}`);
  for (const [a, b] of losses) {
    assert.ok(Number.isFinite(b));
    assert.ok(Math.abs(a - b) < 0.15 * Math.abs(a), `bf16 loss ${b} vs fp32 ${a}`);
  }
  for (const p of half.model.parameters()) assert.equal(p.dtype, 'float32');
  assert.ok(half.objective.videoBank.bank.dtype === 'float32');
  const moved = half.model.parameters().some((p, i) => p.toFloat32Array().some((v, j) => v !== start[i][j]));
  assert.ok(moved, 'the optimizer updated the parameters');
  for (const part of [full, half]) [part.model, part.objective, part.optimizer].forEach((x) => x.dispose());
  [batch.video, batch.audio, batch.index].forEach((t) => t.dispose());
});
