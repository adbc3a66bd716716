import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as T from '../../src/tensor/index.js';
import { createModel } from '../../src/models/index.js';
import { Adam, schedules } from '../../src/optim/index.js';
import { AvidObjective } from '../../src/ssl/avid.js';
import { Trainer, NonFiniteLossError } from '../../src/train/trainer.js';
import { loadCheckpoint, disposeContents } from '../../src/io/checkpoint.js';
import { RandomSource } from '../helpers/random-source.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const script = path.join(here, 'fixtures/tiny-run.ts');
const node = (args: string[]) => ['--import', 'tsx', script, ...args];

function stepLosses(runDir: string): Map<number, number> {
  const out = new Map<number, number>();
  // The file may be read while the run appends to it: only complete lines count.
  const text = readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8');
  for (const line of text.slice(0, text.lastIndexOf('\n') + 1).split('\n').filter(Boolean)) {
    const r = JSON.parse(line);
    if (r.kind === 'train') out.set(r.step, r.loss);
  }
  return out;
}

test('a run killed with SIGKILL and resumed reproduces the uninterrupted losses step for step', { timeout: 300_000 }, async () => {
  const full = mkdtempSync(path.join(tmpdir(), 'avid-full-'));
  const r = spawnSync(process.execPath, node([full, '2']), { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const reference = stepLosses(full);
  assert.equal(reference.size, 12);

  const killed = mkdtempSync(path.join(tmpdir(), 'avid-killed-'));
  const child = spawn(process.execPath, node([killed, '2']), { stdio: 'ignore' });
  // Kill it mid-epoch once step 7 is logged (the last checkpoint is then step 6, in epoch 2).
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      const metrics = path.join(killed, 'metrics.jsonl');
      if (existsSync(metrics) && stepLosses(killed).has(7)) {
        clearInterval(timer);
        child.kill('SIGKILL');
        resolve();
      }
    }, 20);
    child.on('exit', (code) => {
      clearInterval(timer);
      if (code === 0) reject(new Error('the run finished before it could be killed'));
    });
  });
  await new Promise((resolve) => child.on('close', resolve));
  const resumed = spawnSync(process.execPath, node([killed, '2', '--resume']), { encoding: 'utf8' });
  assert.equal(resumed.status, 0, resumed.stderr);
  // After resuming, the records the killed run logged past its checkpoint are dropped and those steps are
  // logged again: each step once, with the uninterrupted run's loss, and a 'resume' record marks the seam.
  const records = readFileSync(path.join(killed, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(records.filter((r) => r.kind === 'train').map((r) => r.step), [...reference.keys()]);
  const resume = records.filter((r) => r.kind === 'resume');
  assert.equal(resume.length, 1);
  assert.ok(resume[0].step <= 7 && resume[0].droppedRecords >= 1, JSON.stringify(resume[0]));
  const after = stepLosses(killed);
  assert.equal(after.size, 12);
  for (const [step, loss] of reference) assert.equal(after.get(step), loss, `step ${step}`);
});

test('a training step leaves the live-tensor count unchanged; a run logs every step and sets Z', async () => {
  T.manualSeed(1);
  const model = createModel('av-r2plus1d-10', { width: 0.125, embeddingDim: 16 });
  const objective = new AvidObjective({ numInstances: 16, dim: 16, variant: 'cross', negatives: 8 });
  const optimizer = new Adam(model.parameters(), { lr: 1e-3 });
  const runDir = mkdtempSync(path.join(tmpdir(), 'avid-leak-'));
  const trainer = new Trainer(model, objective, optimizer, new RandomSource(16, 4), { runDir, seed: 0, epochs: 3, schedule: schedules.constant, checkpointEvery: 1000, logEvery: 1, progress: null });
  const batch = await new RandomSource(16, 4).epoch(0, 0)[Symbol.asyncIterator]().next();
  const { video, audio, index } = batch.value;
  trainer.trainStep(video, audio, index);
  const before = T.memory().liveTensors;
  for (let i = 0; i < 5; i++) trainer.trainStep(video, audio, index);
  assert.equal(T.memory().liveTensors, before);
  const result = await trainer.run();
  assert.equal(result.status, 'completed');
  assert.equal(result.step, 12);
  assert.ok(result.losses.every(Number.isFinite));
  assert.ok(objective.normalisers.v2a.logZ !== null && objective.normalisers.a2v.logZ !== null);
  const metrics = readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(metrics.filter((m) => m.kind === 'train').length, 12);
  assert.equal(metrics.filter((m) => m.kind === 'epoch').length, 3);
  [video, audio, index].forEach((t) => t.dispose());
  objective.dispose();
  optimizer.dispose();
  model.dispose();
});

test('a NaN loss stops training with a message naming a checkpoint that exists and was written before it', async () => {
  const model = createModel('av-r2plus1d-10', { width: 0.125, embeddingDim: 16 });
  const objective = new AvidObjective({ numInstances: 16, dim: 16, variant: 'cross', negatives: 8 });
  const optimizer = new Adam(model.parameters(), { lr: 1e-3 });
  const runDir = mkdtempSync(path.join(tmpdir(), 'avid-nan-'));
  // Batch 2 of the epoch holds a NaN video: the loss of step 2 is NaN.
  const source = new RandomSource(16, 4);
  const poisoned = {
    numInstances: 16,
    batchesPerEpoch: () => source.batchesPerEpoch(),
    async *epoch(epoch: number, start: number) {
      let b = start;
      for await (const batch of source.epoch(epoch, start)) {
        if (b++ === 2) {
          const nan = T.fullLike(batch.video, NaN);
          batch.video.dispose();
          batch.video = nan;
        }
        yield batch;
      }
    },
  };
  const trainer = new Trainer(model, objective, optimizer, poisoned, { runDir, seed: 0, epochs: 1, schedule: schedules.constant, checkpointEvery: 1, logEvery: 1, progress: null });
  await assert.rejects(trainer.run(), (e: Error) => e instanceof NonFiniteLossError && /step 2 .*last good checkpoint is .*last\.safetensors \(step 1,/.test(e.message));
  const saved = loadCheckpoint(trainer.checkpointPath);
  assert.equal(saved.scalars.step, 1);
  disposeContents(saved);
  assert.equal(existsSync(trainer.pendingCheckpointPath), false, 'the unconfirmed checkpoint is gone');
  model.dispose();
  objective.dispose();
  optimizer.dispose();
});
