// Checkpoints with odd metadata: errors name the file and the key, nothing is allocated for sizes the config
// schema refuses, nothing leaks, and no key reaches a prototype. Config overrides are checked the same way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as T from '../../src/tensor/index.js';
import { saveSafetensors } from '../../src/io/safetensors.js';
import { CHECKPOINT_FORMAT, loadCheckpoint } from '../../src/io/checkpoint.js';
import { readRunArtifact } from '../../src/train/run-artifact.js';
import { applyOverride, parseConfig } from '../../src/config/load.js';
import { createModel } from '../../src/models/index.js';
import { Adam, schedules } from '../../src/optim/index.js';
import { AvidObjective } from '../../src/ssl/avid.js';
import { Trainer } from '../../src/train/trainer.js';
import { RandomSource } from '../helpers/random-source.js';

const dir = mkdtempSync(path.join(tmpdir(), 'avid-hostile-'));
let n = 0;
function checkpoint(scalars: string | undefined): string {
  const file = path.join(dir, `c${n++}.safetensors`);
  T.tidy(() => saveSafetensors(file, { 'model.x': T.ones([2]), 'optimizer.0.0.m': T.zeros([2]) }, { format: CHECKPOINT_FORMAT, ...(scalars === undefined ? {} : { scalars }) }));
  return file;
}

test('scalars that are not a JSON object, or that hold __proto__, are errors naming the file; nothing leaks', () => {
  const live = T.memory().liveTensors;
  for (const [scalars, pattern] of [
    ['null', /metadata 'scalars' must be a JSON object, got null/],
    ['[1,2]', /must be a JSON object, got an array/],
    ['{"epoch":', /is not valid JSON/],
    ['{"config":{"__proto__":{"polluted":1}}}', /holds the key '__proto__'/],
  ] as const) {
    const file = checkpoint(scalars);
    assert.throws(() => loadCheckpoint(file), (e: Error) => e.message.includes(file) && pattern.test(e.message), scalars);
  }
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(T.memory().liveTensors, live);
});

test('resuming from a checkpoint with missing or wrong scalars names the file and the key', () => {
  const model = createModel('av-r2plus1d-10', { width: 0.125, embeddingDim: 16 });
  const objective = new AvidObjective({ numInstances: 16, dim: 16, variant: 'cross', negatives: 8 });
  const optimizer = new Adam(model.parameters(), { lr: 1e-3 });
  const trainer = new Trainer(model, objective, optimizer, new RandomSource(16, 4), { runDir: dir, seed: 0, epochs: 1, schedule: schedules.constant, checkpointEvery: 1, logEvery: 1, progress: null });
  const live = T.memory().liveTensors;
  const none = checkpoint(undefined);
  assert.throws(() => trainer.restore(none), (e: Error) => e.message.includes(none) && /scalars\.epoch is missing/.test(e.message));
  const wrong = checkpoint('{"epoch":1.5,"step":3,"stepInEpoch":0}');
  assert.throws(() => trainer.restore(wrong), /scalars\.epoch is 1\.5, expected a non-negative integer/);
  const noOptimizer = checkpoint('{"epoch":1,"step":3,"stepInEpoch":0}');
  assert.throws(() => trainer.restore(noOptimizer), /scalars\.optimizer is missing/);
  assert.equal(T.memory().liveTensors, live, 'the loaded tensors were freed');
  model.dispose();
  objective.dispose();
  optimizer.dispose();
});

test('a stored config asking for width 100 or embeddingDim 1e9 is refused by the run reader before any allocation', () => {
  const live = T.memory().liveTensors;
  const wide = checkpoint(JSON.stringify({ config: { data: { source: 'x' }, model: { name: 'av-r2plus1d-10', width: 100, embeddingDim: 128 } } }));
  assert.throws(() => readRunArtifact(wide), (e: Error) => e.message.includes(wide) && /model\.width: Number must be less than or equal to 4/.test(e.message));
  assert.throws(() => readRunArtifact(`random:${wide}`), /model\.width: Number must be less than or equal to 4/);
  const deep = checkpoint(JSON.stringify({ config: { data: { source: 'x' }, model: { name: 'av-r2plus1d-10', width: 1, embeddingDim: 1e9 } } }));
  assert.throws(() => readRunArtifact(deep), /model\.embeddingDim: Number must be less than or equal to 65536/);
  assert.equal(T.memory().liveTensors, live);
});

test('overrides: __proto__ is refused before anything is written; .inf and .nan are not numbers a config takes', () => {
  const raw: Record<string, unknown> = {};
  assert.throws(() => applyOverride(raw, '__proto__.polluted=1'), /'__proto__' is not a config key/);
  assert.throws(() => applyOverride(raw, 'optim.constructor.x=1'), /'constructor' is not a config key/);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  for (const value of ['.inf', '-.inf', '.nan']) {
    const config: Record<string, unknown> = { data: { source: 'x' } };
    applyOverride(config, `optim.lr=${value}`);
    assert.throws(() => parseConfig(config, 'test'), /optim\.lr: /, value);
  }
});
