// The localisation frames carry the sounding object's ground-truth box (results/localization.json's optional
// frames[].box, in frame fractions): the report draws it over the frame and says what it is; a box outside
// the frame is refused, naming the key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { renderReport, writeRunJson } from '../../src/report/index.js';
import { paint } from './fixtures/png.js';

function section(page: string, id: string): string {
  const start = page.indexOf(`<section id="${id}"`);
  assert.ok(start >= 0, `section ${id}`);
  return page.slice(start, page.indexOf('</section>', start));
}

function withRun(body: (dir: string) => void): void {
  const dir = mkdtempSync(path.join(tmpdir(), 'avid-gradcam-box-'));
  try {
    mkdirSync(path.join(dir, 'frames'));
    const frame = paint(32, 24, (x, y) => [8 * x, 10 * y, 120]);
    writeFileSync(path.join(dir, 'frames/a.png'), frame);
    writeFileSync(path.join(dir, 'frames/b.png'), frame);
    body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a frame with a ground-truth box gets it drawn over the image; one without gets none', () => {
  withRun((dir) => {
    writeRunJson(dir, 'results/localization.json', {
      score: { trained: 0.5, random: 0.25 },
      colormap: 'jet',
      frames: [
        { image: 'frames/a.png', boxHit: true, caption: 'red-circle, frame 0', box: [0.25, 0.1, 0.5, 0.3] },
        { image: 'frames/b.png', boxHit: false, caption: 'no ground truth' },
      ],
    });
    const localization = section(renderReport(dir).html, 'localization');
    const figures = [...localization.matchAll(/<figure class="thumb [^"]*">(.*?)<\/figure>/gs)].map((m) => m[1]);
    assert.equal(figures.length, 2);
    assert.match(figures[0], /<div class="frame-with-box"><img [^>]*><svg class="gt-box" viewBox="0 0 100 100" preserveAspectRatio="none"/);
    const rects = [...figures[0].matchAll(/<rect class="gt-box-line" x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"\/>/g)].map((m) => m.slice(1).map(Number));
    assert.deepEqual(rects, [[25, 10, 50, 30]], 'the box in percent of the frame');
    assert.doesNotMatch(figures[1], /gt-box/);
    assert.match(localization, /the sounding object's ground-truth box/, 'the box is explained beside the frames');
    assert.match(localization, /<svg class="colour-bar"/, 'with the colour bar of the heat');
  });
});

test('a frame whose object is outside the evaluation crop is marked not scored, with no box', () => {
  withRun((dir) => {
    writeRunJson(dir, 'results/localization.json', {
      score: { trained: 1, random: 0.25 },
      frames: [
        { image: 'frames/a.png', boxHit: true, box: [0.25, 0.1, 0.5, 0.3] },
        { image: 'frames/b.png', boxHit: false, boxOutsideCrop: true },
      ],
    });
    const localization = section(renderReport(dir).html, 'localization');
    const figures = [...localization.matchAll(/<figure class="thumb ([^"]*)">(.*?)<\/figure>/gs)].map((m) => [m[1], m[2]]);
    assert.deepEqual(figures.map(([cls]) => cls), ['hit', 'unscored']);
    assert.doesNotMatch(figures[1][1], /gt-box|✗ miss/);
    assert.match(figures[1][1], /not scored.*the sounding object is outside the evaluation crop/s);
    assert.match(localization, /1 of 1 scored frames shown below are hits \(1 not scored: the sounding object is outside the central crop/);
  });
});

test('without boxes the frames are drawn as before, with no key', () => {
  withRun((dir) => {
    writeRunJson(dir, 'results/localization.json', { score: { trained: 0.5, random: 0.25 }, frames: [{ image: 'frames/a.png', boxHit: true }] });
    const localization = section(renderReport(dir).html, 'localization');
    assert.doesNotMatch(localization, /gt-box|ground-truth box/);
  });
});

test('a box outside the frame is refused, naming the key', () => {
  for (const [box, message] of [
    [[0.8, 0.1, 0.5, 0.3], /frames\.0\.box: must be \[x, y, w, h\] as fractions of the frame/],
    [[0.1, 0.1, -0.2, 0.3], /frames\.0\.box: must be \[x, y, w, h\]/],
    [[0.1, 0.1, 0.2], /frames\.0\.box/],
  ] as const) {
    withRun((dir) => {
      mkdirSync(path.join(dir, 'results'));
      writeFileSync(path.join(dir, 'results/localization.json'), JSON.stringify({ score: { trained: 0.5, random: 0.25 }, frames: [{ image: 'frames/a.png', boxHit: true, box }] }));
      const { html: page, sections } = renderReport(dir);
      assert.equal(sections.find((s) => s.id === 'localization')!.status, 'invalid', JSON.stringify(box));
      assert.match(section(page, 'localization'), message);
    });
  }
});
