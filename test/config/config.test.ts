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
  // Table 7 of the supplement: 5e-4 (the main text writes 1e-4), 400 epochs.
  assert.deepEqual([analysis.video.frames, analysis.video.size, analysis.train.batchSize, analysis.optim.lr, analysis.optim.weightDecay, analysis.train.epochs], [16, 112, 256, 5e-4, 1e-5, 400]);
  assert.deepEqual([analysis.objective.tau, analysis.objective.negatives, analysis.objective.memoryMomentum], [0.07, 1024, 0.5]);
  // Table 7: AudioSet 5e-4 for 200 epochs, Kinetics 2e-4 for 300, for AVID and CMA alike.
  for (const [dataset, lr, epochs] of [
    ['audioset', 5e-4, 200],
    ['kinetics', 2e-4, 300],
  ] as const) {
    const comparison = loadConfig(path.join(configsDir, `avid/comparison-cross-${dataset}.yaml`));
    assert.deepEqual([comparison.model.name, comparison.video.frames, comparison.video.size, comparison.audio.hopSeconds, comparison.audio.freqBins], ['av-r2plus1d-18', 8, 224, 0.01, 257]);
    const cma = loadConfig(path.join(configsDir, `cma/comparison-${dataset}.yaml`));
    for (const c of [comparison, cma]) assert.deepEqual([c.optim.lr, c.optim.weightDecay, c.train.epochs], [lr, 1e-5, epochs], `${c.name}`);
    assert.ok(cma.init?.endsWith(`runs/avid-cross-comparison-${dataset}/checkpoints/last.safetensors`), cma.init);
    assert.equal(cma.objective.cma.negatives, 1024, 'wMPD negatives: the paper\'s 1024');
  }
  const cmaAnalysis = loadConfig(path.join(configsDir, 'cma/analysis.yaml'));
  assert.deepEqual([cmaAnalysis.optim.lr, cmaAnalysis.train.epochs, cmaAnalysis.objective.cma.negatives], [5e-4, 200, 1024]);
  // The long-form settings train with the in-batch objective, whose negatives are the batch.
  for (const file of ['cpu/long-form.yaml', 'long-form/paper.yaml']) assert.equal(loadConfig(path.join(configsDir, file)).objective.kind, 'in-batch', file);
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
