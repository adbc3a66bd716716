// A sound collection is taken for a public benchmark only when its content has that benchmark's shape (ESC's
// own file names, class count, clip count, balanced classes, folds 1–5): the report compares a result with a
// paper's figure only on the same benchmark.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { labelsFromEscDirectory, labelsFromEscNames } from '../../src/eval/labels.js';
import { recogniseBenchmark } from '../../src/eval/benchmark-recognition.js';

const esc10 = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/data/esc10');

/** ESC-named files: `classes` classes of `perClass` clips, spread over folds 1–5. */
function escNames(classes: number, perClass: number): string[] {
  return Array.from({ length: classes * perClass }, (_, i) => {
    const c = Math.floor(i / perClass);
    return `${String(c + 1).padStart(3, '0')}_-_Class_${c}_${1 + (i % 5)}-${10000 + i}-A.ogg`;
  });
}

test('the real ESC-10 folder is recognised as ESC-10', { skip: existsSync(esc10) ? false : `${esc10} is absent` }, () => {
  assert.equal(recogniseBenchmark(labelsFromEscDirectory(esc10), true), 'esc-10');
});

test('ESC-50\'s shape (2,000 clips, 50 balanced classes, folds 1–5) is ESC-50; anything short of it is no benchmark', () => {
  assert.equal(recogniseBenchmark(labelsFromEscNames(escNames(50, 40)), true), 'esc-50');
  assert.equal(recogniseBenchmark(labelsFromEscNames(escNames(50, 40)), false), null, 'a labels CSV of the same size is not taken for ESC');
  assert.equal(recogniseBenchmark(labelsFromEscNames(escNames(50, 40).slice(1)), true), null, 'one clip missing');
  assert.equal(recogniseBenchmark(labelsFromEscNames(escNames(49, 40)), true), null, 'a class missing');
  const unbalanced = escNames(50, 40);
  unbalanced[0] = unbalanced[0].replace(/^001_-_Class_0/, '002_-_Class_1');
  assert.equal(recogniseBenchmark(labelsFromEscNames(unbalanced), true), null, '39 and 41 clips in two classes');
  const fourFolds = escNames(50, 40).map((n) => n.replace(/_5-/, '_4-'));
  assert.equal(recogniseBenchmark(labelsFromEscNames(fourFolds), true), null, 'folds 1–4 only');
});
