// No checkpoint holds diverged or non-finite state: with optim.lr=1e30 and a checkpoint every step, the
// checkpoint the error names exists, was written before the update that diverged, holds finite weights and
// resumes (with a learning rate changed on resume, which is applied and recorded).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as T from '../../src/tensor/index.js';
import { parseConfig } from '../../src/config/load.js';
import { pretrain } from '../../src/train/pretrain.js';
import { loadCheckpoint, disposeContents } from '../../src/io/checkpoint.js';
import { createModel } from '../../src/models/index.js';
import { Adam, schedules } from '../../src/optim/index.js';
import { AvidObjective } from '../../src/ssl/avid.js';
import { Trainer, NonFiniteStateError } from '../../src/train/trainer.js';
import { RandomSource } from '../helpers/random-source.js';

function config(runsDir: string, optim: Record<string, unknown>) {
  return parseConfig(
    {
      name: 'diverging',
      runsDir,
      data: { source: 'in-memory' },
      model: { width: 0.125, embeddingDim: 16 },
      objective: { negatives: 8 },
      optim,
      train: { epochs: 2, batchSize: 4, logEvery: 1, checkpointEvery: 1 },
    },
    'test',
  );
}

test('optim.lr=1e30: the named checkpoint predates the diverging update, is finite, and resumes with a lower lr', async () => {
  const runsDir = mkdtempSync(path.join(tmpdir(), 'avid-diverge-'));
  const live = T.memory().liveTensors;
  let message = '';
  await assert.rejects(pretrain(config(runsDir, { lr: 1e30 }), { source: new RandomSource(16, 4), progress: null }), (e: Error) => {
    message = e.message;
    return /loss is (NaN|-?Infinity) at epoch 0, step (\d+)/.test(e.message);
  });
  assert.equal(T.memory().liveTensors, live, 'the failed run freed its tensors');
  const failedStep = Number(/step (\d+)/.exec(message)![1]);
  const named = /last good checkpoint is (\S+\.safetensors)/.exec(message)?.[1];
  assert.ok(named, message);
  assert.ok(existsSync(named), `${named} exists`);
  const saved = loadCheckpoint(named);
  try {
    const step = saved.scalars.step as number;
    assert.equal(step, failedStep - 1, 'written before the update that made the failing weights');
    for (const [group, tensors] of Object.entries(saved.groups)) {
      for (const [key, t] of tensors) {
        if (t.dtype !== 'float32') continue;
        const largest = T.tidy(() => t.abs().max().item());
        assert.ok(Number.isFinite(largest) && largest < 1e6, `${group}.${key}: largest magnitude ${largest}`);
      }
    }
  } finally {
    disposeContents(saved);
  }

  // Resumed with a sane learning rate: applied (not the restored 1e30) and recorded in metrics.jsonl.
  const runDir = path.join(runsDir, 'diverging');
  const resumed = await pretrain(config(runsDir, { lr: 1e-4 }), { resumeDir: runDir, source: new RandomSource(16, 4), progress: null });
  assert.equal(resumed.status, 'completed');
  assert.ok(resumed.losses.length > 0 && resumed.losses.every(Number.isFinite), `losses ${resumed.losses}`);
  const records = readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const resume = records.find((r) => r.kind === 'resume');
  assert.deepEqual(resume.overrides, { 'optim.lr': { from: 1e30, to: 1e-4 } });
  assert.ok(records.filter((r) => r.kind === 'train').every((r) => r.lr <= 1e-4), 'the new learning rate is in force');
  assert.equal(JSON.parse(readFileSync(path.join(runDir, 'config.json'), 'utf8')).optim.lr, 1e-4);
});

test('a checkpoint with a non-finite parameter or memory bank is refused and not written', () => {
  const model = createModel('av-r2plus1d-10', { width: 0.125, embeddingDim: 16 });
  const objective = new AvidObjective({ numInstances: 16, dim: 16, variant: 'cross', negatives: 8 });
  const optimizer = new Adam(model.parameters(), { lr: 1e-3 });
  const runDir = mkdtempSync(path.join(tmpdir(), 'avid-nonfinite-'));
  const trainer = new Trainer(model, objective, optimizer, new RandomSource(16, 4), { runDir, seed: 0, epochs: 1, schedule: schedules.constant, checkpointEvery: 1, logEvery: 1, progress: null });
  const [name, weight] = [...model.namedParameters()][3];
  T.noGrad(() => weight.fill_(Infinity));
  assert.throws(() => trainer.saveCheckpoint(), (e: Error) => e instanceof NonFiniteStateError && e.message.includes(`model.${name} holds non-finite values`) && /No checkpoint was written/.test(e.message));
  assert.equal(existsSync(trainer.checkpointPath), false);
  T.noGrad(() => weight.fill_(0.01));
  const banks = objective.state().tensors;
  const bank = [...banks.values()].find((t) => t.dtype === 'float32')!;
  T.noGrad(() => bank.fill_(NaN));
  assert.throws(() => trainer.saveCheckpoint(), /objective\..* holds non-finite values/);
  assert.equal(existsSync(trainer.checkpointPath), false);
  model.dispose();
  objective.dispose();
  optimizer.dispose();
});
