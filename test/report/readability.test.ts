// The report as a reader meets it, in headless Chromium at a desktop width (1400 px) and a phone width
// (390 px): no horizontal overflow, every chart titled with axis titles (and a legend when it has several
// series), no two axis or legend labels overlapping, every figure captioned; the loss curve's log-scale and
// smoothing switches work. The same for a two-run comparison.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildReport, writeComparison, writeRunJson } from '../../src/report/index.js';
import { writeFullRun, writeMetrics } from './fixtures/run-dir.js';

const CHROMIUM = process.env.AVID_CHROMIUM ?? '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is absent (apt-get install -y chromium): browser test skipped`;
const WIDTHS = [1400, 390];

async function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update'] });
}

// Runs in the page as plain JavaScript (a string: the test loader's helpers do not exist there).
const MEASURE = `(() => {
    const problems = [];
    if (document.documentElement.scrollWidth > window.innerWidth)
      problems.push(\`page is \${document.documentElement.scrollWidth} px wide in a \${window.innerWidth} px window\`);
    const visible = (el) => el.getBoundingClientRect().width > 0 && getComputedStyle(el).display !== 'none';
    document.querySelectorAll('svg.plot').forEach((svg, i) => {
      if (!visible(svg) || svg.closest('[style*="display: none"]')) return;
      const name = svg.getAttribute('aria-label') || \`plot \${i}\`;
      if (!svg.getAttribute('aria-label') || !svg.querySelector('text.plot-title')?.textContent) problems.push(\`\${name}: no title\`);
      if (svg.matches('.line-plot, .bar-chart')) {
        const labels = [...svg.querySelectorAll('text.axis-label')].map((t) => t.textContent?.trim() ?? '');
        if (labels.length !== 2 || labels.some((l) => l === '')) problems.push(\`\${name}: axis titles \${JSON.stringify(labels)}\`);
        const series = svg.matches('.line-plot') ? svg.querySelectorAll('path.series, circle.series-point').length : new Set([...svg.querySelectorAll('rect.bar')].map((r) => r.getAttribute('fill'))).size;
        if (series > 1 && svg.querySelectorAll('g.legend text.legend-text').length === 0) problems.push(\`\${name}: \${series} series and no legend\`);
      }
      const boxes = [...svg.querySelectorAll('text.tick, text.group-label, text.axis-label, text.legend-text, text.plot-title')]
        .filter((t) => (t.textContent ?? '').trim() !== '')
        .map((t) => ({ text: t.textContent, r: t.getBoundingClientRect() }));
      for (let a = 0; a < boxes.length; a++)
        for (let b = a + 1; b < boxes.length; b++) {
          const [p, q] = [boxes[a].r, boxes[b].r];
          const overlap = Math.min(p.right, q.right) - Math.max(p.left, q.left) > 1 && Math.min(p.bottom, q.bottom) - Math.max(p.top, q.top) > 1;
          if (overlap) problems.push(\`\${name}: labels '\${boxes[a].text}' and '\${boxes[b].text}' overlap\`);
        }
    });
    document.querySelectorAll('figure').forEach((figure, i) => {
      if (!(figure.querySelector('figcaption')?.textContent ?? '').trim()) problems.push(\`figure \${i} (\${figure.className}) has no caption\`);
    });
    return problems;
})()`;

/** Everything a reader would trip over, measured in the page; returns a list of problems (empty: none). */
async function readabilityProblems(page: Page): Promise<string[]> {
  return page.evaluate(MEASURE) as Promise<string[]>;
}

test('the report and a comparison read well at 1400 px and 390 px; the loss switches work', { skip, timeout: 180_000 }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'avid-readable-'));
  const browser = await launch();
  try {
    const full = path.join(dir, 'full');
    await writeFullRun(full);
    writeRunJson(full, 'results/probe.json', {
      protocol: 'linear probe on frozen features',
      metric: 'top-1 accuracy',
      samples: 48,
      classes: ['ball', 'drum', 'bell'],
      pretrainedName: 'CMA',
      blocks: Object.fromEntries(['video conv2x', 'video conv3x', 'video conv4x', 'video conv5x', 'video pool', 'audio conv2x', 'audio conv3x', 'audio conv4x', 'audio conv5x', 'audio pool'].map((b, i) => [b, { pretrained: 0.4 + i * 0.04, random: 0.35, 'Cross-AVID': 0.38 + i * 0.03 }])),
      // The per-class table (three models) and the confusion matrix must fit at 390 px too.
      confusion: ['pretrained', 'Cross-AVID', 'random'].map((model) => ({ model, block: 'video conv5x', counts: [[14, 1, 1], [2, 12, 2], [3, 3, 10]] })),
    });
    // A run reproducing a paper setting with a matching ESC-50 SVM result: the published figure, its source and
    // the footnoted "—" cells must fit at 390 px too.
    writeRunJson(full, 'config.json', { name: 'fixture', reproduces: ['avid-comparison-cross-audioset'] });
    writeRunJson(full, 'results/svm.json', [
      {
        title: 'SVM sound classification on ESC-50',
        columns: ['block', 'fold', 'accuracy %'],
        rows: [['conv5x', 'mean', 71.5]],
        evaluation: { protocol: 'audio-svm', benchmark: 'esc-50', data: 'ESC-50-master', block: 'conv5x', score: 0.715, samples: 2000 },
      },
    ]);
    const second = path.join(dir, 'second');
    writeMetrics(second);
    writeRunJson(second, 'results/probe.json', { protocol: 'linear probe', metric: 'top-1 accuracy', samples: 48, classes: ['ball', 'drum', 'bell'], blocks: { 'video conv5x': { pretrained: 0.5, random: 0.3 } } });
    const pages = { report: await buildReport(full), comparison: writeComparison([full, second], path.join(dir, 'compare.html')).path };
    for (const [what, file] of Object.entries(pages)) {
      for (const width of WIDTHS) {
        const page = await browser.newPage({ viewport: { width, height: 900 } });
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(e.message));
        page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
        await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
        assert.deepEqual(await readabilityProblems(page), [], `${what} at ${width} px`);
        if (what === 'report') {
          const published = page.locator('#overview table.published-figures .published');
          assert.equal(await published.count(), 1, 'the ESC-50 SVM result has its published figure beside it');
          assert.match(await published.innerText(), /^89\.20%\s+AVID-CMA downstream protocols, Cross-AVID \(AudioSet\), ESC-50 SVM/);
          assert.ok((await published.boundingBox())!.width > 0);
          // The ground-truth box lies over its frame where the results put it (fractions of the shown image).
          // writeFullRun's boxes: frame i's box starts 4 i pixels further right in the 112 × 84 frame.
          const boxes = [0, 1, 2, 3].map((i) => [(20 + i * 4) / 112, 18 / 84, 30 / 112, 30 / 84]);
          const misplaced = await page.$$eval('#localization .frame-with-box', (frames, boxes) =>
            frames.flatMap((f, i) => {
              const img = f.querySelector('img')!.getBoundingClientRect();
              const line = f.querySelector('rect.gt-box-line')!.getBoundingClientRect();
              const box = boxes[i];
              const expected = [img.left + box[0] * img.width, img.top + box[1] * img.height, box[2] * img.width, box[3] * img.height];
              const got = [line.left, line.top, line.width, line.height];
              return img.width > 0 && got.every((v, k) => Math.abs(v - expected[k]) <= 2) ? [] : [`frame ${i}: box at ${got.map(Math.round)} px, expected ${expected.map(Math.round)}`];
            }),
            boxes,
          );
          assert.equal(await page.locator('#localization .frame-with-box').count(), 4, 'four frames with a box');
          assert.deepEqual(misplaced, [], `${what} at ${width} px: ground-truth boxes`);
        }
        // Switch the loss curve to log scale and smoothing, and check what shows.
        const figure = page.locator('figure.curves').first();
        const shown = (selector: string) => figure.locator(selector).evaluateAll((els) => els.filter((e) => getComputedStyle(e).display !== 'none').length);
        assert.equal(await shown('svg.view-log'), 0);
        assert.equal(await shown('path.smoothed'), 0);
        await figure.locator('input[data-toggle="log"]').check();
        await figure.locator('input[data-toggle="smooth"]').check();
        assert.equal(await shown('svg.view-linear'), 0);
        assert.equal(await shown('svg.view-log'), 1);
        assert.ok((await shown('svg.view-log path.smoothed')) >= 2);
        assert.deepEqual(await readabilityProblems(page), [], `${what} at ${width} px, log scale`);
        assert.deepEqual(errors, []);
        await page.close();
      }
    }
  } finally {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
