import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as T from '../../src/tensor/index.js';
import { createModel } from '../../src/models/index.js';
import { Adam, schedules } from '../../src/optim/index.js';
import { Trainer } from '../../src/train/trainer.js';
import { risingStreak, risingLossWarning } from '../../src/train/loss-trend.js';
import type { Objective, EmbeddedBatch, ObjectiveOutput } from '../../src/ssl/objective.js';
import { RandomSource } from '../helpers/random-source.js';

test('the rising streak counts the consecutive rises that end at the last epoch', () => {
  assert.equal(risingStreak([]), 0);
  assert.equal(risingStreak([3]), 0);
  assert.equal(risingStreak([3, 2, 1]), 0);
  assert.equal(risingStreak([1, 2, 3]), 2);
  assert.equal(risingStreak([5, 1, 2, 3, 4]), 3);
  assert.equal(risingStreak([1, 2, 2, 3]), 1, 'an equal epoch breaks the streak');
});

test('the warning comes once per climb, when the streak reaches the window, and never with window 0', () => {
  const climb = [10, 9, 11, 12, 13, 14, 15];
  const warned = climb.map((_, i) => risingLossWarning(climb.slice(0, i + 1), 3, 20) !== null);
  assert.deepEqual(warned, [false, false, false, false, true, false, false]);
  const message = risingLossWarning(climb.slice(0, 5), 3, 20)!;
  assert.match(message, /last 3 epochs \(epoch 21 → 24: 9\.000 → 13\.00\)/);
  assert.match(message, /warnRisingLossEpochs/);
  // A fall ends the climb; a new climb of the window's length warns again.
  assert.notEqual(risingLossWarning([1, 2, 3, 4, 0, 1, 2, 3], 3), null);
  assert.equal(risingLossWarning([1, 2, 3, 4, 5], 0), null);
});

/** An objective whose loss is a fixed function of the epoch (plus a term that gives the model gradients). */
class ScriptedLoss implements Objective {
  readonly name = 'scripted';
  private epoch = 0;
  constructor(private readonly perEpoch: (epoch: number) => number) {}
  beforeEpoch(epoch: number): void {
    this.epoch = epoch;
  }
  loss(batch: EmbeddedBatch): ObjectiveOutput {
    return T.tidy(() => ({ loss: batch.video.mul(batch.audio).sum(1).mean().mul(0).add(this.perEpoch(this.epoch)), terms: {} }));
  }
  afterStep(): void {}
  state() {
    return { tensors: new Map<string, T.Tensor>(), scalars: {} };
  }
  loadState(): void {}
  dispose(): void {}
}

async function runWith(perEpoch: (epoch: number) => number, window?: number): Promise<{ kind: string; epoch: number; message?: string }[]> {
  const model = createModel('av-r2plus1d-10', { width: 0.125, embeddingDim: 16 });
  const optimizer = new Adam(model.parameters(), { lr: 1e-4 });
  const runDir = mkdtempSync(path.join(tmpdir(), 'avid-trend-'));
  const trainer = new Trainer(model, new ScriptedLoss(perEpoch), optimizer, new RandomSource(8, 4), { runDir, seed: 0, epochs: 6, schedule: schedules.constant, checkpointEvery: 1000, logEvery: 100, progress: null, warnRisingLossEpochs: window });
  await trainer.run();
  optimizer.dispose();
  model.dispose();
  return readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
}

test('the trainer logs a rising-loss warning after a whole window of climbing epochs, and none for a falling loss', async () => {
  const climbing = await runWith((epoch) => 10 + epoch, 4);
  const warnings = climbing.filter((r) => r.kind === 'warning');
  assert.equal(warnings.length, 1);
  assert.equal(warnings[0].epoch, 4, 'epochs 0..4 rose four times');
  assert.match(warnings[0].message!, /epoch 0 → 4: 10\.00 → 14\.00/);
  const falling = await runWith((epoch) => 10 - epoch);
  assert.equal(falling.filter((r) => r.kind === 'warning').length, 0);
  const off = await runWith((epoch) => 10 + epoch, 0);
  assert.equal(off.filter((r) => r.kind === 'warning').length, 0);
});
