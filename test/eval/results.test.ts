import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { formatTable, percent, writeResultsJson } from '../../src/eval/results.js';

test('aligned table: numbers right, text left, missing cells marked', () => {
  const table = formatTable(['fold', 'accuracy', 'note'], [
    [1, 72.5, 'ok'],
    [10, 8.125, null],
    [2, undefined, 'long note'],
  ]);
  assert.equal(
    table,
    ['fold  accuracy  note', '----  --------  ---------', '   1     72.50  ok', '  10      8.13  –', '   2         –  long note'].join('\n'),
  );
  assert.equal(percent(0.72456), 72.5);
});

test('results JSON is written atomically with typed arrays as lists', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'avid-results-'));
  try {
    const file = path.join(dir, 'sub', 'results.json');
    writeResultsJson(file, { protocol: 'svm', ranks: Int32Array.from([3, 1]), mean: 0.5 });
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { protocol: 'svm', ranks: [3, 1], mean: 0.5 });
  } finally {
    rmSync(dir, { recursive: true });
  }
});
