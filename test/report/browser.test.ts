// End to end: build a report from a small complete run, open it from disk in headless Chromium, and check
// that every section rendered — plots drawn, images decoded, media playable, tables filled — with no console
// error and no failed request; then that markup in file names and labels stayed text. Saves a screenshot.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildReport, writeRunJson } from '../../src/report/index.js';
import { EVIL_CONFIG, EVIL_FILE, EVIL_LABEL, writeFullRun, writeMetrics } from './fixtures/run-dir.js';

// Debian's Chromium; AVID_CHROMIUM points elsewhere (another Chromium build, or a missing path to see the skip).
const CHROMIUM = process.env.AVID_CHROMIUM ?? '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is absent (apt-get install -y chromium): browser test skipped`;
const SECTIONS = ['overview', 'training', 'probe', 'cma', 'retrieval', 'embedding', 'localization', 'tables', 'data', 'config', 'versions'];

async function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

interface Watched {
  page: Page;
  errors: string[];
  failedRequests: string[];
  dialogs: string[];
}

async function open(browser: Browser, reportPath: string): Promise<Watched> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const watched: Watched = { page, errors: [], failedRequests: [], dialogs: [] };
  page.on('console', (message) => {
    if (message.type() === 'error') watched.errors.push(message.text());
  });
  page.on('pageerror', (error) => watched.errors.push(error.message));
  page.on('requestfailed', (request) => watched.failedRequests.push(`${request.url().slice(0, 200)}: ${request.failure()?.errorText}`));
  page.on('dialog', (dialog) => {
    watched.dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  await page.goto(pathToFileURL(reportPath).href, { waitUntil: 'load' });
  return watched;
}

test('the report of a complete run renders every section in headless Chromium', { skip, timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'avid-report-'));
  const runDir = path.join(dir, 'run');
  const browser = await launch();
  try {
    await writeFullRun(runDir);
    // A small embedding limit: thumbnails are embedded as data: URIs, the video is linked by relative path.
    const reportPath = await buildReport(runDir, { embedLimitBytes: 4096 });
    const { page, errors, failedRequests, dialogs } = await open(browser, reportPath);

    for (const id of SECTIONS) {
      assert.equal(await page.getAttribute(`section#${id}`, 'data-status'), 'ok', `section ${id} rendered`);
    }
    assert.equal(await page.locator('.not-available').count(), 0);

    // Plots are drawn: line paths with many vertices, bars, one point per embedded clip.
    const linePaths = await page.$$eval('#training svg.line-plot path.series', (paths) => paths.map((p) => (p.getAttribute('d') ?? '').split('L').length));
    assert.ok(linePaths.length >= 5, `loss (+2 terms), lr, clips/s, gradNorm: got ${linePaths.length} curves`);
    assert.ok(linePaths.every((vertices) => vertices === 36), `every curve has 36 steps: ${linePaths}`);
    assert.equal(await page.locator('#probe svg.bar-chart rect.bar').count(), 8);
    assert.equal(await page.locator('#embedding svg circle.point').count(), 60);
    // The log-scale view of the loss waits behind its switch; every shown plot has a size.
    const boxes = await page.$$eval('svg.plot:not(.view-log)', (svgs) => svgs.map((s) => s.getBoundingClientRect().width));
    assert.ok(boxes.every((w) => w > 100), 'plots have a size on screen');

    // Images decoded, media loaded (the video through a percent-encoded relative path).
    await page.waitForFunction(() => [...document.images].every((img) => img.complete), null, { timeout: 10_000 });
    const images = await page.$$eval('img', (imgs) => imgs.map((img) => ({ src: img.src.slice(0, 30), width: img.naturalWidth })));
    assert.equal(images.length, 9, 'CMA anchor + 4 neighbours, 4 heatmaps');
    for (const image of images) assert.ok(image.width > 0, `image ${image.src} loaded`);
    await page.waitForFunction(() => [...document.querySelectorAll('video, audio')].every((m) => (m as HTMLMediaElement).readyState >= 1), null, { timeout: 15_000 });
    const media = await page.$$eval('video, audio', (elements) => elements.map((m) => ({ tag: m.tagName, src: (m as HTMLMediaElement).currentSrc.slice(0, 40), duration: (m as HTMLMediaElement).duration })));
    assert.equal(media.filter((m) => m.tag === 'VIDEO').length, 1);
    assert.equal(media.filter((m) => m.tag === 'AUDIO').length, 3);
    assert.ok(media.some((m) => m.src.startsWith('file:')), 'the large video is linked, not embedded');
    for (const m of media) assert.ok(m.duration > 0.4, `${m.tag} ${m.src} has a duration`);
    const videoWidth = await page.$eval('video', (v) => (v as HTMLVideoElement).videoWidth);
    assert.equal(videoWidth, 96);

    // Every table has rows.
    const tables = await page.$$eval('section table', (ts) => ts.map((tb) => ({ section: tb.closest('section')!.id, rows: tb.querySelectorAll('tbody tr').length })));
    assert.ok(tables.length >= 10, `${tables.length} tables`);
    for (const tb of tables) assert.ok(tb.rows > 0, `a table in ${tb.section} has rows`);

    // The inline script runs (under the content security policy): a legend entry hides its class.
    const visible = () => page.locator('#embedding circle.point:not(.hidden)').count();
    assert.equal(await visible(), 60);
    await page.click('#embedding button.legend-entry >> nth=0');
    assert.equal(await visible(), 40);
    await page.click('#embedding button.legend-entry >> nth=0');
    assert.equal(await visible(), 60);

    // Markup in names and labels is text.
    assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
    assert.deepEqual(dialogs, []);
    assert.equal(await page.locator('script').count(), 1, 'only the report\'s own script');
    const text = await page.evaluate(() => document.body.innerText);
    for (const s of [EVIL_FILE, EVIL_LABEL, EVIL_CONFIG]) assert.ok(text.includes(s), `${s} shows as text`);
    assert.ok((await page.locator('#data table.rejects td', { hasText: EVIL_FILE }).count()) === 1);

    assert.deepEqual(errors, [], 'no console errors');
    assert.deepEqual(failedRequests, [], 'no failed requests');

    const screenshot = path.join(dir, 'report.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    assert.ok(existsSync(screenshot));
    t.diagnostic(`screenshot: ${screenshot}`);
  } finally {
    await browser.close();
    if (!process.env.AVID_KEEP_TEST_FILES) rmSync(dir, { recursive: true, force: true });
  }
});

test('a run with only metrics.jsonl opens cleanly; every other section says it is not available', { skip, timeout: 60_000 }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'avid-report-'));
  const browser = await launch();
  try {
    writeMetrics(dir);
    const { page, errors, failedRequests } = await open(browser, await buildReport(dir));
    assert.equal(await page.getAttribute('section#training', 'data-status'), 'ok');
    assert.ok((await page.locator('#training path.series').count()) >= 3);
    for (const id of SECTIONS.filter((s) => s !== 'training' && s !== 'overview')) {
      assert.equal(await page.getAttribute(`section#${id}`, 'data-status'), 'missing', id);
      assert.match(await page.innerText(`section#${id} .not-available`), /Not available for this run/);
    }
    assert.deepEqual(errors, []);
    assert.deepEqual(failedRequests, []);
  } finally {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const sharedData = path.resolve(repoRoot, '../shared/data');
const skipReal = skip || (existsSync(path.join(sharedData, 'av-clips')) ? false : `${sharedData}/av-clips is absent: real-media report test skipped`);

test('real dataset media linked into a run play in the report (H.264/AAC, Ogg Vorbis; AVI is linked)', { skip: skipReal, timeout: 60_000 }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'avid-report-'));
  const browser = await launch();
  try {
    writeMetrics(dir);
    const clips = path.join(sharedData, 'av-clips');
    const dog = readdirSync(path.join(sharedData, 'esc10')).find((f) => f.startsWith('001_'))!;
    mkdirSync(path.join(dir, 'media'));
    for (const [name, target] of [
      ['IronMan.mp4', path.join(clips, 'IronMan.mp4')],
      ['grid_speaker.mp4', path.join(clips, 'grid_speaker.mp4')],
      ['mmaction_test.avi', path.join(clips, 'mmaction_test.avi')],
      ['dog.ogg', path.join(sharedData, 'esc10', dog)],
    ]) symlinkSync(target, path.join(dir, 'media', name));
    writeRunJson(dir, 'results/retrieval.json', {
      v2a: { r1: 0.5, r5: 1, r10: 1, medianRank: 1.5 },
      a2v: { r1: 0.5, r5: 1, r10: 1, medianRank: 1.5 },
      examples: [
        { video: 'media/IronMan.mp4', matches: [{ file: 'media/grid_speaker.mp4', similarity: 0.4, correct: false }, { file: 'media/dog.ogg', similarity: 0.3, correct: false }] },
        { video: 'media/mmaction_test.avi', matches: [] },
      ],
    });
    // 200 KiB: grid_speaker (108 KiB) and the Ogg clip are embedded, IronMan (698 KiB) is linked.
    const { page, errors, failedRequests } = await open(browser, await buildReport(dir, { embedLimitBytes: 200 * 1024 }));
    await page.waitForFunction(() => [...document.querySelectorAll('video, audio')].every((m) => (m as HTMLMediaElement).readyState >= 1), null, { timeout: 20_000 });
    const media = await page.$$eval('video, audio', (elements) =>
      elements.map((m) => ({ tag: m.tagName, embedded: (m as HTMLMediaElement).currentSrc.startsWith('data:'), duration: Math.round((m as HTMLMediaElement).duration * 10) / 10 })),
    );
    assert.deepEqual(media, [
      { tag: 'VIDEO', embedded: false, duration: 8.1 },
      { tag: 'AUDIO', embedded: true, duration: 3 },
      { tag: 'AUDIO', embedded: true, duration: 5 },
    ]);
    assert.equal(await page.$eval('#retrieval video', (v) => (v as HTMLVideoElement).videoWidth), 854);
    assert.match(await page.innerText('#retrieval .media-missing'), /mmaction_test\.avi\nbrowsers cannot play this format/);
    assert.deepEqual(errors, []);
    assert.deepEqual(failedRequests, []);
  } finally {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
