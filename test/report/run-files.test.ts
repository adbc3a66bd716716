import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  CmaResultsSchema,
  EmbeddingVectorsSchema,
  ProbeResultsSchema,
  RUN_FILES,
  ResultTablesSchema,
  appendMetric,
  parseMetrics,
  parseRunJson,
  writeRunJson,
} from '../../src/report/run-files.js';

function withTempDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(path.join(tmpdir(), 'avid-run-files-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a bad run file is rejected with the file, the key and what is wrong', () => {
  const probe = JSON.stringify({ protocol: 'p', metric: 'acc', blocks: { conv2: { pretrained: 0.5, random: 'high' } } });
  assert.throws(() => parseRunJson(RUN_FILES.probe, probe, ProbeResultsSchema), /^Error: results\/probe\.json: blocks\.conv2\.random: Expected number, received string$/);
  assert.throws(() => parseRunJson(RUN_FILES.probe, '{"protocol": ', ProbeResultsSchema), /results\/probe\.json: not valid JSON/);
  const cma = { k: 8, precision: { agreement: 1, union: 1, video: 1, audio: 1 }, examples: [{ anchor: { file: 'a', thumbnail: '/etc/passwd' }, positives: [], rejected: [] }] };
  assert.throws(() => parseRunJson(RUN_FILES.cma, JSON.stringify(cma), CmaResultsSchema), /examples\.0\.anchor\.thumbnail: must be a path relative to the run directory/);
  assert.throws(
    () => parseRunJson('results/svm.json', JSON.stringify([{ title: 't', columns: ['a', 'b'], rows: [[1]] }]), ResultTablesSchema),
    /rows\.0: has 1 cells for 2 columns/,
  );
  assert.throws(
    () => parseRunJson(RUN_FILES.embeddings, JSON.stringify({ vectors: [[1, 2], [3]], labels: ['a'] }), EmbeddingVectorsSchema),
    /labels: has 1 labels for 2 vectors; vectors\.1: has length 1, expected 2/,
  );
});

test('metrics.jsonl keeps every good line and says which lines it skipped', () => {
  const good = { kind: 'train', step: 0, epoch: 0, loss: 5, lr: 0.1, clipsPerSec: 10, time: 1, lossV2A: 2.5 };
  const text = [
    JSON.stringify(good),
    JSON.stringify({ ...good, step: 1, loss: 'NaN' }),
    JSON.stringify({ kind: 'epoch', epoch: 0, meanLoss: 5, note: 'x' }),
    JSON.stringify({ kind: 'eval', epoch: 0 }),
    '',
    '{"kind":"train","st',
  ].join('\n');
  const parsed = parseMetrics(text);
  assert.equal(parsed.train.length, 1);
  assert.equal(parsed.train[0].lossV2A, 2.5);
  assert.equal(parsed.epochs.length, 1);
  assert.equal(parsed.problems.length, 3);
  assert.match(parsed.problems[0], /^metrics\.jsonl line 2: loss: Expected number, received string$/);
  assert.match(parsed.problems[1], /line 4: kind: Invalid discriminator value/);
  assert.match(parsed.problems[2], /line 6: not valid JSON \(cut off\?\)/);
});

test('writers validate before writing', () => {
  withTempDir((dir) => {
    appendMetric(dir, { kind: 'train', step: 0, epoch: 0, loss: 1, lr: 0.1, clipsPerSec: 3, time: 0.5 });
    appendMetric(dir, { kind: 'epoch', epoch: 0, meanLoss: 1 });
    assert.throws(() => appendMetric(dir, { kind: 'train', step: -1, epoch: 0, loss: 1, lr: 0.1, clipsPerSec: 3, time: 0 }), /metrics\.jsonl: step: Number must be greater than or equal to 0/);
    assert.throws(() => appendMetric(dir, { kind: 'train', step: 1, epoch: 0, loss: Infinity, lr: 0.1, clipsPerSec: 3, time: 0 }), /loss: Number must be finite/);
    assert.equal(parseMetrics(readFileSync(path.join(dir, RUN_FILES.metrics), 'utf8')).train.length, 1);

    writeRunJson(dir, 'results/probe.json', { protocol: 'p', metric: 'acc', blocks: { conv1: { pretrained: 0.5, random: 0.4 } } });
    assert.equal(JSON.parse(readFileSync(path.join(dir, 'results/probe.json'), 'utf8')).blocks.conv1.random, 0.4);
    // @ts-expect-error: the type rejects it too
    assert.throws(() => writeRunJson(dir, 'versions.json', { avid: '0.1.0' }), /versions\.json: node: Required/);
  });
});
