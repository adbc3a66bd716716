// train.device and train.precision through pretrain(): a bf16 run on the CPU trains, logs and checkpoints;
// fp16 on the CPU and CUDA on a CPU-only build stop before any work.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as T from '../../src/tensor/index.js';
import { parseConfig } from '../../src/config/load.js';
import { pretrain } from '../../src/train/pretrain.js';
import { loadCheckpoint, disposeContents } from '../../src/io/checkpoint.js';
import { deviceInfo } from '../../src/train/device-transfer.js';
import { RandomSource } from '../helpers/random-source.js';

function config(runsDir: string, train: Record<string, unknown>) {
  return parseConfig(
    {
      name: 'precision',
      runsDir,
      data: { source: 'in-memory' },
      model: { width: 0.125, embeddingDim: 16 },
      objective: { negatives: 8 },
      train: { epochs: 1, batchSize: 4, logEvery: 1, checkpointEvery: 1000, ...train },
    },
    'test',
  );
}

test('pretrain with train.precision=bf16 on the CPU: finite losses, a checkpoint that records it, no leak', async () => {
  const runsDir = mkdtempSync(path.join(tmpdir(), 'avid-pretrain-bf16-'));
  const live = T.memory().liveTensors;
  const result = await pretrain(config(runsDir, { precision: 'bf16' }), { source: new RandomSource(16, 4), progress: null });
  assert.equal(result.status, 'completed');
  assert.equal(result.step, 4);
  assert.ok(result.losses.every(Number.isFinite));
  assert.equal(T.memory().liveTensors, live, 'everything the run built was freed');
  const contents = loadCheckpoint(result.checkpoint);
  const saved = contents.scalars.config as { train: { precision: string; device: string } };
  assert.equal(saved.train.precision, 'bf16');
  assert.equal(saved.train.device, 'cpu');
  assert.equal(contents.scalars.gradScaler, undefined, 'bf16 runs without loss scaling');
  for (const t of contents.groups.model.values()) assert.equal(t.dtype === 'int64' ? 'float32' : t.dtype, 'float32');
  disposeContents(contents);
});

test('pretrain stops before any work on fp16 without CUDA, and on CUDA in a CPU-only build', async () => {
  const runsDir = mkdtempSync(path.join(tmpdir(), 'avid-pretrain-bad-'));
  await assert.rejects(pretrain(config(runsDir, { precision: 'fp16' }), { source: new RandomSource(16, 4), progress: null }), /train\.precision: fp16 autocast needs a CUDA device/);
  if (!deviceInfo().cudaBuild) {
    await assert.rejects(pretrain(config(runsDir, { device: 'cuda' }), { source: new RandomSource(16, 4), progress: null }), /train\.device: this avid build has no CUDA/);
  }
  assert.equal(existsSync(path.join(runsDir, 'precision')), false, 'no run directory was created');
  // The CLI shorthand maps to the same key.
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync(process.execPath, ['bin/avid.mjs', 'pretrain', '--config', 'configs/cpu/cross-avid.yaml', '--precision', 'fp16', '--set', `runsDir=${runsDir}`], { encoding: 'utf8', cwd: path.resolve(import.meta.dirname, '../..') });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /train\.precision: fp16 autocast needs a CUDA device/);
});
