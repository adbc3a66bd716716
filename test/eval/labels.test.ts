import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseLabelSet as parseLabelsCsv, readLabelSet as readLabelsCsv, parseEscName, labelsFromEscNames, labelsFromEscDirectory } from '../../src/eval/labels.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const esc10 = path.resolve(repoRoot, '../shared/data/esc10');

test('CSV labels: header in any order, dense labels, optional group', () => {
  const set = parseLabelsCsv('fold,file,label\n1,a.wav,dog\n2,b.wav,cat\n1,c.wav,dog\n', 'x.csv');
  assert.deepEqual(set.classNames, ['cat', 'dog']);
  assert.deepEqual(
    set.entries.map((e) => [e.file, e.label, e.fold, e.group, e.labelName]),
    [
      ['a.wav', 1, 1, 'a.wav', 'dog'],
      ['b.wav', 0, 2, 'b.wav', 'cat'],
      ['c.wav', 1, 1, 'c.wav', 'dog'],
    ],
  );
  const numeric = parseLabelsCsv('file,label,fold,group\n"x,1.wav",10,1,r1\ny.wav,2,2,r2\n');
  assert.deepEqual(numeric.classNames, ['2', '10'], 'integer labels sort numerically');
  assert.equal(numeric.entries[0].file, 'x,1.wav', 'quoted field with a comma');
  assert.equal(numeric.entries[0].label, 1);
  assert.equal(numeric.entries[1].group, 'r2');
});

test('CSV labels: bad rows name the file and line', () => {
  assert.throws(() => parseLabelsCsv('file,label\na,1\n', 'l.csv'), /l\.csv:1: .*'fold' is missing/);
  assert.throws(() => parseLabelsCsv('file,label,fold\na.wav,1,1\nb.wav,2,x\n', 'l.csv'), /l\.csv:3: 'fold' must be an integer, got 'x'/);
  assert.throws(() => parseLabelsCsv('file,label,fold\na.wav,1\n', 'l.csv'), /l\.csv:2: expected 3 fields/);
  assert.throws(() => parseLabelsCsv('file,label,fold\na.wav,,1\n', 'l.csv'), /l\.csv:2: empty 'label'/);
  assert.throws(() => parseLabelsCsv('file,label,fold\na.wav,1,1\na.wav,1,1\n', 'l.csv'), /l\.csv:3: file 'a\.wav' is listed twice \(first on line 2\)/);
  assert.throws(() => parseLabelsCsv('file,label,fold,group\na.wav,1,1,g\nb.wav,1,2,g\n', 'l.csv'), /group 'g' spans folds 1 \(a\.wav\) and 2 \(b\.wav\)/);
  assert.throws(() => parseLabelsCsv('\n\n', 'l.csv'), /empty labels file/);
  const dir = mkdtempSync(path.join(tmpdir(), 'avid-labels-'));
  try {
    const file = path.join(dir, 'labels.csv');
    writeFileSync(file, 'file,label,fold\nok.wav,1,1\nbad.wav,1,one\n');
    assert.throws(() => readLabelsCsv(file), (e: Error) => e.message.startsWith(`${file}:3:`));
    assert.throws(() => readLabelsCsv(path.join(dir, 'missing.csv')), /cannot read labels file .*missing\.csv/);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('ESC names: class, fold and recording group', () => {
  assert.deepEqual(parseEscName('001_-_Dog_bark_1-100032-A.ogg'), {
    classCode: '001',
    className: 'Dog bark',
    fold: 1,
    recording: '100032',
    take: 'A',
  });
  assert.equal(parseEscName('README.txt'), null);
  const set = labelsFromEscNames(['010_-_Fire_crackling_3-1-B.ogg', '002_-_Rain_5-22-A.ogg', 'SOURCE-README.txt']);
  assert.deepEqual(set.classNames, ['Rain', 'Fire crackling']);
  assert.deepEqual(set.entries.map((e) => [e.label, e.fold, e.group]), [
    [0, 5, '22'],
    [1, 3, '1'],
  ]);
  assert.throws(() => labelsFromEscNames(['dog.ogg'], 'dir'), /'dog\.ogg' does not follow the ESC naming scheme/);
});

test('ESC-10 directory: 400 clips, 10 classes, 5 folds of 80', (t) => {
  if (!existsSync(esc10)) return t.skip(`ESC-10 not found at ${esc10}`);
  const set = labelsFromEscDirectory(esc10);
  assert.equal(set.entries.length, 400);
  assert.equal(set.classNames.length, 10);
  assert.equal(set.classNames[0], 'Dog bark');
  for (let fold = 1; fold <= 5; fold++) assert.equal(set.entries.filter((e) => e.fold === fold).length, 80);
  for (let label = 0; label < 10; label++) assert.equal(set.entries.filter((e) => e.label === label).length, 40);
});

test('a split column gives each file its given train/test split; other values are an error naming the line', () => {
  const set = parseLabelsCsv('file,label,fold,group,class_name,split\na.mp4,1,1,g1,one,train\nb.mp4,2,2,g2,two,test\n', 'l.csv');
  assert.deepEqual(set.entries.map((e) => e.split), ['train', 'test']);
  assert.equal(parseLabelsCsv('file,label,fold\na.wav,1,1\n', 'l.csv').entries[0].split, undefined);
  assert.throws(() => parseLabelsCsv('file,label,fold,split\na.wav,1,1,val\n', 'l.csv'), /l\.csv:2: 'split' must be 'train' or 'test', got 'val'/);
});
