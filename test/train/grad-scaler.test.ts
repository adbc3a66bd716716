// Dynamic loss scaling (GradScaler semantics) on the CPU: unscale-and-check, skipped steps, backoff,
// growth, its state in checkpoints, and a trainer step under it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as T from '../../src/tensor/index.js';
import { createModel } from '../../src/models/index.js';
import { Adam, schedules } from '../../src/optim/index.js';
import { AvidObjective } from '../../src/ssl/avid.js';
import { Trainer } from '../../src/train/trainer.js';
import { GradScaler } from '../../src/train/grad-scaler.js';
import { RandomSource } from '../helpers/random-source.js';

function leafWithGrad(values: number[], grad: number[]): T.Tensor {
  const p = T.tensor(Float32Array.from(values), [values.length]).requiresGrad_(true);
  const g = T.tensor(Float32Array.from(grad), [grad.length]);
  p.setGrad(g);
  g.dispose();
  return p;
}

test('unscale divides every gradient by the scale and reports inf/NaN', () => {
  const scaler = new GradScaler({ initScale: 8 });
  const a = leafWithGrad([1, 2], [8, -16]);
  const b = leafWithGrad([3], [4]);
  assert.equal(scaler.unscale([a, b]), false);
  assert.deepEqual(a.grad!.toArray(), [1, -2]);
  assert.deepEqual(b.grad!.toArray(), [0.5]);
  const c = leafWithGrad([1, 1], [1, Infinity]);
  assert.equal(scaler.unscale([a, c]), true);
  const d = leafWithGrad([1], [NaN]);
  assert.equal(scaler.unscale([d]), true);
  // A parameter without a gradient is skipped.
  const e = T.tensor(Float32Array.from([1]), [1]).requiresGrad_(true);
  assert.equal(scaler.unscale([e]), false);
  [a, b, c, d, e].forEach((t) => t.dispose());
});

test('an inf gradient skips the step and halves the scale; good steps grow it after the interval', () => {
  const scaler = new GradScaler({ initScale: 1024, growthInterval: 3 });
  const p = leafWithGrad([1], [Infinity]);
  let ran = 0;
  assert.equal(
    scaler.step([p], () => ran++),
    false,
  );
  assert.equal(ran, 0);
  assert.equal(scaler.scale, 512);
  assert.equal(scaler.skippedSteps, 1);
  for (let i = 0; i < 3; i++) {
    const g = T.tensor(Float32Array.from([512]), [1]);
    p.setGrad(g);
    g.dispose();
    assert.equal(
      scaler.step([p], () => ran++),
      true,
    );
  }
  assert.equal(ran, 3);
  assert.equal(scaler.scale, 1024, 'grew ×2 after growthInterval good steps');
  assert.equal(scaler.growthTracker, 0);
  // A bad step resets the count of good ones.
  scaler.update(false);
  scaler.update(true);
  assert.equal(scaler.growthTracker, 0);
  assert.equal(scaler.scale, 512);
  const copy = new GradScaler();
  copy.loadState(JSON.parse(JSON.stringify(scaler.state())));
  assert.deepEqual(copy.state(), scaler.state());
  p.dispose();
  assert.throws(() => new GradScaler({ backoffFactor: 2 }), /backoffFactor/);
});

function tinyRun(scaler: GradScaler | null, runDir: string) {
  T.manualSeed(3);
  const model = createModel('av-r2plus1d-10', { width: 0.125, embeddingDim: 16 });
  const objective = new AvidObjective({ numInstances: 16, dim: 16, variant: 'cross', negatives: 8 });
  const optimizer = new Adam(model.parameters(), { lr: 1e-3 });
  const trainer = new Trainer(model, objective, optimizer, new RandomSource(16, 4), { runDir, seed: 0, epochs: 1, schedule: schedules.constant, checkpointEvery: 1000, logEvery: 1, progress: null, gradScaler: scaler });
  return { model, objective, optimizer, trainer, dispose: () => [model, objective, optimizer].forEach((x) => x.dispose()) };
}

test('a trainer under loss scaling: an overflowing scale skips the step, a power-of-two scale trains as unscaled', async () => {
  const { value: batch } = await new RandomSource(16, 4).epoch(0, 0)[Symbol.asyncIterator]().next();
  const dir = mkdtempSync(path.join(tmpdir(), 'avid-scaler-'));

  // 2^140 overflows float32 when it multiplies the loss: the gradients are inf/NaN, so the step is skipped.
  const overflow = tinyRun(new GradScaler({ initScale: 2 ** 140 }), dir);
  const before = overflow.model.parameters().map((p) => p.toFloat32Array());
  overflow.trainer.trainStep(batch.video, batch.audio, batch.index);
  const after = overflow.model.parameters().map((p) => p.toFloat32Array());
  assert.deepEqual(after, before, 'parameters unchanged by a skipped step');
  assert.equal(overflow.optimizer.step, 0);
  assert.equal(overflow.trainer.gradScaler!.scale, 2 ** 139);
  assert.equal(overflow.trainer.gradScaler!.skippedSteps, 1);
  // The scale travels in checkpoints.
  overflow.trainer.saveCheckpoint();
  const restored = tinyRun(new GradScaler(), dir);
  restored.trainer.restore(overflow.trainer.checkpointPath);
  assert.equal(restored.trainer.gradScaler!.scale, 2 ** 139);
  assert.equal(restored.trainer.gradScaler!.skippedSteps, 1);
  overflow.dispose();
  restored.dispose();

  // Multiplying by a power of two is exact in float32, so a scaled run takes the same steps as an unscaled one.
  const plain = tinyRun(null, dir);
  const scaled = tinyRun(new GradScaler({ initScale: 2 ** 12 }), dir);
  const live = T.memory().liveTensors;
  for (let i = 0; i < 3; i++) {
    const a = plain.trainer.trainStep(batch.video, batch.audio, batch.index);
    const b = scaled.trainer.trainStep(batch.video, batch.audio, batch.index);
    assert.ok(Math.abs(a.loss - b.loss) <= 1e-5 * Math.abs(a.loss), `step ${i}: ${a.loss} vs ${b.loss}`);
  }
  assert.equal(T.memory().liveTensors, live, 'no tensor leaked by scaled steps');
  assert.equal(scaled.optimizer.step, 3);
  const pa = plain.model.parameters().map((p) => p.toFloat32Array());
  const pb = scaled.model.parameters().map((p) => p.toFloat32Array());
  let worst = 0;
  pa.forEach((x, i) => x.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - pb[i][j])))));
  assert.ok(worst < 1e-5, `parameters differ by ${worst}`);
  plain.dispose();
  scaled.dispose();
  [batch.video, batch.audio, batch.index].forEach((t) => t.dispose());
});
