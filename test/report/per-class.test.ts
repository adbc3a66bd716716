// Per-class accuracy and the confusion matrix of the probes: results/probe.json's optional confusion counts
// (older runs without them still load), checked against the file's samples, classes and blocks, and drawn
// in the probe section with class names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { renderReport, writeRunJson } from '../../src/report/index.js';
import { perClassAccuracy } from '../../src/report/per-class.js';

function section(page: string, id: string): string {
  const start = page.indexOf(`<section id="${id}"`);
  assert.ok(start >= 0, `section ${id}`);
  return page.slice(start, page.indexOf('</section>', start));
}

const cells = (tableHtml: string) => [...tableHtml.matchAll(/<tr>(.*?)<\/tr>/g)].map((row) => [...row[1].matchAll(/<t[dh][^>]*>(.*?)<\/t[dh]>/g)].map((c) => c[1].replace(/<[^>]+>/g, '')));

const classes = ['red-circle', 'blue-square', 'green-triangle'];
// 9 test videos: the run's model gets 3/3, 2/3 (one blue-square taken for red-circle), 1/3 → 6/9 = 0.667.
const ownCounts = [
  [3, 0, 0],
  [1, 2, 0],
  [0, 2, 1],
];
const randomCounts = [
  [1, 1, 1],
  [1, 1, 1],
  [2, 1, 0],
];
const probe = {
  protocol: 'linear probe',
  metric: 'video@1',
  samples: 9,
  classes,
  pretrainedName: 'CMA',
  blocks: { 'video conv5x': { pretrained: 6 / 9, random: 2 / 9 } },
  confusion: [
    { model: 'pretrained', block: 'video conv5x', counts: ownCounts },
    { model: 'random', block: 'video conv5x', counts: randomCounts },
  ],
};

function withRun(body: (dir: string) => void): void {
  const dir = mkdtempSync(path.join(tmpdir(), 'avid-per-class-'));
  try {
    body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('per-class accuracy: the diagonal over each row', () => {
  assert.deepEqual(perClassAccuracy(ownCounts), [
    { correct: 3, total: 3 },
    { correct: 2, total: 3 },
    { correct: 1, total: 3 },
  ]);
});

test('the probe section draws per-class accuracy and the confusion matrix with class names', () => {
  withRun((dir) => {
    writeRunJson(dir, 'results/probe.json', probe);
    const page = section(renderReport(dir).html, 'probe');
    const perClass = cells(page.match(/<table class="per-class">.*?<\/table>/s)![0]);
    assert.deepEqual(perClass, [
      ['class', 'CMA, video conv5x', 'random init, video conv5x'],
      ['red-circle', '3 / 3 (100%)', '1 / 3 (33%)'],
      ['blue-square', '2 / 3 (67%)', '1 / 3 (33%)'],
      ['green-triangle', '1 / 3 (33%)', '0 / 3 (0%)'],
    ]);
    assert.match(page, /Confusion matrix: CMA, video conv5x/);
    const matrix = cells(page.match(/<table class="confusion">.*?<\/table>/s)![0]);
    assert.deepEqual(matrix, [
      ['true ↓ / predicted →', 'red-circle', 'blue-square', 'green-triangle'],
      ['red-circle', '3', '0', '0'],
      ['blue-square', '1', '2', '0'],
      ['green-triangle', '0', '2', '1'],
    ]);
  });
});

test('a run without confusion counts still loads, and says the per-class view is missing', () => {
  withRun((dir) => {
    const { confusion: _omitted, ...older } = probe;
    writeRunJson(dir, 'results/probe.json', older);
    const { html: page, sections } = renderReport(dir);
    assert.equal(sections.find((s) => s.id === 'probe')!.status, 'ok');
    assert.match(section(page, 'probe'), /No per-class accuracy: results\/probe\.json records no confusion counts/);
  });
});

test('confusion counts that disagree with the file are rejected, naming the key (the page shows the message HTML-escaped)', () => {
  const cases: Array<[unknown, RegExp]> = [
    [{ model: 'pretrained', block: 'video conv5x', counts: [[3, 0], [1, 2], [0, 2, 1]] }, /confusion\.0\.counts\.0: row 0 has 2 counts, expected 3/],
    [{ model: 'pretrained', block: 'video conv5x', counts: [[3, 0, 0], [1, 2, 0], [0, 2, 0]] }, /confusion\.0\.counts: counts sum to 8, but samples is 9/],
    [{ model: 'pretrained', block: 'video conv5x', counts: [[5, 4], [0, 0]] }, /confusion\.0\.counts: 2 × 2 counts but 3 classes/],
    [{ model: 'pretrained', block: 'audio conv5x', counts: ownCounts }, /confusion\.0\.block: block &quot;audio conv5x&quot; is not one of blocks&#39; keys/],
    [{ model: 'Cross-AVID', block: 'video conv5x', counts: ownCounts }, /confusion\.0\.model: model &quot;Cross-AVID&quot; has no score in block &quot;video conv5x&quot;/],
    [{ model: 'pretrained', block: 'video conv5x', counts: [[3, 0, 0], [1, 2, 0], [0, 2, 1.5]] }, /confusion\.0\.counts\.2\.2: Expected integer/],
  ];
  for (const [entry, message] of cases) {
    withRun((dir) => {
      mkdirSync(path.join(dir, 'results'));
      writeFileSync(path.join(dir, 'results/probe.json'), JSON.stringify({ ...probe, confusion: [entry] }));
      const { html: page, sections } = renderReport(dir);
      assert.equal(sections.find((s) => s.id === 'probe')!.status, 'invalid', String(message));
      assert.match(section(page, 'probe'), message);
    });
  }
});
