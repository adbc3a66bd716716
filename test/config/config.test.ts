import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, parseConfig, applyOverride, ConfigError } from '../../src/config/load.js';

const configsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../configs');

test('every shipped config is valid', () => {
  for (const dir of readdirSync(configsDir)) {
    for (const file of readdirSync(path.join(configsDir, dir)).filter((f) => f.endsWith('.yaml'))) {
      const config = loadConfig(path.join(configsDir, dir, file));
      assert.ok(config.name.length > 0, file);
    }
  }
});

test('the paper settings are what PAPERS.md states', () => {
  const analysis = loadConfig(path.join(configsDir, 'avid/analysis-cross.yaml'));
  assert.equal(analysis.model.name, 'av-r2plus1d-10');
  assert.deepEqual([analysis.video.frames, analysis.video.size, analysis.train.batchSize, analysis.optim.lr, analysis.optim.weightDecay], [16, 112, 256, 1e-4, 1e-5]);
  assert.deepEqual([analysis.objective.tau, analysis.objective.negatives, analysis.objective.memoryMomentum], [0.07, 1024, 0.5]);
  const comparison = loadConfig(path.join(configsDir, 'avid/comparison-cross.yaml'));
  assert.deepEqual([comparison.model.name, comparison.video.frames, comparison.video.size, comparison.audio.hopSeconds, comparison.audio.freqBins], ['av-r2plus1d-18', 8, 224, 0.01, 257]);
});

test('config errors name the key and what is allowed', () => {
  assert.throws(() => parseConfig({ data: { source: 'x' }, objective: { variant: 'sideways' } }), (e: Error) => e instanceof ConfigError && /objective\.variant: got 'sideways', allowed: self, cross, joint/.test(e.message));
  assert.throws(() => parseConfig({ data: { source: 'x' }, train: { epoch: 3 } }), /train: unknown key\(s\) 'epoch'/);
  assert.throws(() => parseConfig({ data: { source: 'x' }, train: { batchSize: 'many' } }), /train\.batchSize: expected number, got string/);
  assert.throws(() => parseConfig({}), /data: (expected object|Required)/);
});

test('dotted overrides set nested values parsed as YAML', () => {
  const raw: Record<string, unknown> = { data: { source: 'a' } };
  applyOverride(raw, 'train.epochs=3');
  applyOverride(raw, 'objective.variant=self');
  applyOverride(raw, 'optim.betas=[0.5, 0.9]');
  const c = parseConfig(raw);
  assert.equal(c.train.epochs, 3);
  assert.equal(c.objective.variant, 'self');
  assert.deepEqual(c.optim.betas, [0.5, 0.9]);
  assert.throws(() => applyOverride(raw, 'novalue'), /must look like key\.path=value/);
});
