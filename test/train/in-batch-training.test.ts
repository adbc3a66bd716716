// The trainer with the in-batch objective and a learned temperature: the optimizer moves log τ with the
// model, the checkpoint holds it (and its optimizer state), and a restored trainer continues from it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as T from '../../src/tensor/index.js';
import { createModel } from '../../src/models/index.js';
import { schedules } from '../../src/optim/index.js';
import { parseConfig } from '../../src/config/load.js';
import { objectiveFromConfig, optimizerFromConfig } from '../../src/train/from-config.js';
import { InBatchObjective } from '../../src/ssl/in-batch-nce.js';
import { Trainer } from '../../src/train/trainer.js';
import { loadCheckpoint, disposeContents } from '../../src/io/checkpoint.js';
import { RandomSource } from '../helpers/random-source.js';

test('a learned temperature trains with the model, is checkpointed and restored', async () => {
  const config = parseConfig({ data: { source: 'x' }, model: { embeddingDim: 16 }, objective: { kind: 'in-batch', tau: 0.1, inBatch: { learnTemperature: true } }, optim: { lr: 0.01 } });
  const build = () => {
    T.manualSeed(1);
    const model = createModel('av-r2plus1d-10', { width: 0.125, embeddingDim: 16 });
    const objective = objectiveFromConfig(config, 16) as InBatchObjective;
    const optimizer = optimizerFromConfig(config, model.parameters(), objective.parameters?.() ?? []);
    return { model, objective, optimizer };
  };
  const runDir = mkdtempSync(path.join(tmpdir(), 'avid-in-batch-'));
  const first = build();
  const trainer = new Trainer(first.model, first.objective, first.optimizer, new RandomSource(16, 4), { runDir, seed: 0, epochs: 2, schedule: schedules.constant, checkpointEvery: 1000, logEvery: 1, progress: null });
  const result = await trainer.run();
  assert.equal(result.status, 'completed');
  const tau = first.objective.temperature();
  assert.ok(Math.abs(tau - 0.1) > 1e-4, `τ moved from 0.1 (now ${tau})`);

  const contents = loadCheckpoint(trainer.checkpointPath);
  try {
    const saved = contents.groups.objective?.get('in-batch.logTemperature');
    assert.ok(saved, 'the checkpoint holds log τ');
    assert.ok(Math.abs(Math.exp(saved.item()) - tau) < 1e-7);
    assert.ok(contents.groups.optimizer?.has('1.0.exp_avg'), 'and its optimizer state (the second group)');
  } finally {
    disposeContents(contents);
  }

  const second = build();
  const restored = new Trainer(second.model, second.objective, second.optimizer, new RandomSource(16, 4), { runDir, seed: 0, epochs: 2, schedule: schedules.constant, checkpointEvery: 1000, logEvery: 1, progress: null });
  restored.restore(trainer.checkpointPath);
  assert.ok(Math.abs(second.objective.temperature() - tau) < 1e-7);
  T.tidy(() => assert.equal(second.optimizer.stateDict().tensors.get('1.0.exp_avg')!.item(), first.optimizer.stateDict().tensors.get('1.0.exp_avg')!.item()));
  for (const parts of [first, second]) {
    parts.objective.dispose();
    parts.optimizer.dispose();
    parts.model.dispose();
  }
});
