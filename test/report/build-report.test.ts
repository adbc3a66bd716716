// The report built without a browser: what it contains, how it degrades, what it refuses. (The browser test
// checks that it renders.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildReport, renderReport, writeRunJson } from '../../src/report/index.js';
import { EVIL_CONFIG, EVIL_FILE, EVIL_LABEL, writeFullRun, writeMetrics } from './fixtures/run-dir.js';
import { paint } from './fixtures/png.js';

function tempDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'avid-report-'));
}

function section(htmlText: string, id: string): string {
  const start = htmlText.indexOf(`<section id="${id}"`);
  assert.ok(start >= 0, `section ${id} present`);
  return htmlText.slice(start, htmlText.indexOf('</section>', start));
}

test('a complete run builds one self-contained file with every section', async () => {
  const dir = tempDir();
  try {
    await writeFullRun(dir);
    const output = await buildReport(dir);
    assert.equal(output, path.join(dir, 'report.html'));
    const page = readFileSync(output, 'utf8');
    const { sections, highlights } = renderReport(dir);
    assert.deepEqual(sections.filter((s) => s.status !== 'ok'), []);
    assert.deepEqual(
      highlights.map((h) => `${h.label}: ${h.value}`),
      ['final training loss: 2.6883', 'best linear probe (top-1 accuracy): 83.0%', 'CMA precision@8: 82.0%', 'video → audio R@1: 34.0%', 'localisation hit rate: 75.0%', 'clips used / rejected: 58 / 2'],
    );
    // No network: nothing refers to http(s); the policy allows no remote source.
    assert.doesNotMatch(page, /\b(src|href)="https?:/);
    assert.match(page, /Content-Security-Policy" content="default-src 'none';/);
    // With the default limit every medium is small enough to be embedded: the page travels alone.
    assert.doesNotMatch(page, /<(img|video|audio)[^>]* src="(?!data:)/);
    assert.equal((page.match(/<img /g) ?? []).length, 9);
    // The objective's terms (v2a, a2v) share the loss plot; other logged numbers (gradNorm) get their own.
    // The loss has a second, log-scale view (behind a switch): the first view of each plot counts here.
    const plots = section(page, 'training').split('<svg').slice(1).filter((svg) => !svg.includes('view-log'));
    const plotTitle = (svg: string) => svg.match(/aria-label="([^"]+)"/)![1];
    assert.deepEqual(plots.map(plotTitle), ['Loss', 'Learning rate', 'Throughput', 'gradNorm']);
    assert.deepEqual([...plots[0].matchAll(/<path class="series" d="[^"]+"[^>]*><title>([^<]+)</g)].map((m) => m[1]), ['loss', 'v2a', 'a2v']);
    assert.match(section(page, 'embedding'), /t-SNE of 16-dimensional embeddings/);
    // Accuracy by epoch: the curve with its SE band, the chance and random-init levels, and the table.
    const byEpoch = section(page, 'by-epoch');
    assert.match(byEpoch, /class="se-band"/);
    assert.equal((byEpoch.match(/class="series-point"/g) ?? []).length, 3);
    assert.match(byEpoch, /<title>chance: 10%<\/title>/);
    assert.match(byEpoch, /<title>random init: 45%<\/title>/);
    assert.match(byEpoch, /<td class="">10<\/td><td class="">66\.0%<\/td><td class="">2\.4%<\/td>/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('file names, labels and config values with markup are escaped everywhere', async () => {
  const dir = tempDir();
  try {
    await writeFullRun(dir);
    const page = renderReport(dir).html;
    assert.equal((page.match(/<script/gi) ?? []).length, 1, 'only the report\'s own script element');
    assert.equal((page.match(/<img /g) ?? []).length, 9, 'no image element from a label');
    for (const evil of [EVIL_FILE, EVIL_LABEL, EVIL_CONFIG]) assert.ok(!page.includes(evil), `${evil} does not appear unescaped`);
    assert.ok(page.includes('&lt;script&gt;window.__pwned = 1; alert(1)&lt;/script&gt;.mp4'));
    assert.ok(page.includes('&lt;img src=x onerror=&quot;window.__pwned = 2&quot;&gt;'));
    assert.ok(section(page, 'config').includes('&lt;/pre&gt;&lt;script&gt;window.__pwned = 3&lt;/script&gt;'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a run with only metrics.jsonl builds; every other section says it is not available', async () => {
  const dir = tempDir();
  try {
    writeMetrics(dir);
    const page = readFileSync(await buildReport(dir), 'utf8');
    const { sections } = renderReport(dir);
    assert.deepEqual(
      sections.filter((s) => s.status === 'ok').map((s) => s.id),
      ['overview', 'training'],
    );
    for (const id of ['probe', 'by-epoch', 'cma', 'retrieval', 'embedding', 'localization', 'tables', 'data', 'config', 'versions']) {
      assert.match(section(page, id), /data-status="missing"[\s\S]*Not available for this run \(no <code>/, id);
    }
    assert.match(section(page, 'embedding'), /no <code>results\/embedding\.json<\/code> or <code>results\/embeddings\.json<\/code>/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a bad file spoils only its own section, and says which key is wrong', () => {
  const dir = tempDir();
  try {
    writeMetrics(dir);
    mkdirSync(path.join(dir, 'results'));
    writeFileSync(path.join(dir, 'results/probe.json'), JSON.stringify({ protocol: 'p', metric: 'acc', blocks: { conv2: { pretrained: 0.5, random: '<b>x</b>' } } }));
    writeFileSync(path.join(dir, 'results/cma.json'), '{ "k": 8, ');
    writeFileSync(path.join(dir, 'metrics.jsonl'), `${readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8')}{"kind":"train","step":`);
    writeFileSync(path.join(dir, 'results/extra.json'), JSON.stringify({ not: 'a table list' }));
    const { html: page, sections } = renderReport(dir);
    const status = Object.fromEntries(sections.map((s) => [s.id, s.status]));
    assert.equal(status.probe, 'invalid');
    assert.equal(status.cma, 'invalid');
    assert.equal(status.training, 'ok');
    assert.equal(status.tables, 'missing', 'a result file in another format is listed, not an error');
    assert.match(section(page, 'probe'), /results\/probe\.json: blocks\.conv2\.random: Expected number, received string/);
    assert.match(section(page, 'cma'), /results\/cma\.json: not valid JSON/);
    assert.match(section(page, 'training'), /1 line\(s\) of metrics.jsonl skipped[\s\S]*line 40: not valid JSON \(cut off\?\)/);
    assert.match(section(page, 'tables'), /Not in the table format, so not shown: <code title="results\/extra\.json: \(top level\): Expected array, received object">results\/extra\.json<\/code>/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('media outside the run directory or missing is named, not loaded; links inside are followed', () => {
  const dir = tempDir();
  const outside = tempDir();
  try {
    writeFileSync(path.join(outside, 'secret.png'), paint(4, 4, () => [0, 0, 0]));
    symlinkSync(path.join(outside, 'secret.png'), path.join(dir, 'link.png'));
    writeMetrics(dir);
    const neighbour = (thumbnail: string) => ({ file: thumbnail, thumbnail, videoSim: 0.5, audioSim: 0.5 });
    writeRunJson(dir, 'results/cma.json', {
      k: 4,
      precision: { agreement: 0.5, union: 0.4, video: 0.3, audio: 0.2 },
      examples: [{ anchor: { file: 'a', thumbnail: `../${path.basename(outside)}/secret.png` }, positives: [neighbour('link.png'), neighbour('gone.png')], rejected: [neighbour('metrics.jsonl')] }],
    });
    const cma = section(renderReport(dir).html, 'cma');
    assert.equal((cma.match(/<img /g) ?? []).length, 1, 'a symbolic link in the run directory is followed');
    assert.match(cma, /<img src="data:image\/png;base64,[^"]+" alt="link\.png"/);
    assert.match(cma, /\.\.\/avid-report-\w+\/secret\.png<br><small>points outside the run directory/);
    assert.match(cma, /gone\.png<br><small>file not found/);
    assert.match(cma, /metrics\.jsonl<br><small>not an image the report can show/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  }
});

test('more vectors than the map takes are sampled with the seed, and the map says so', () => {
  const dir = tempDir();
  try {
    const vectors = Array.from({ length: 300 }, (_, i) => [i % 3, (i * 7) % 5]);
    writeRunJson(dir, 'results/embeddings.json', { vectors, labels: vectors.map((_, i) => `c${i % 3}`) });
    // A low limit and few iterations keep this fast; the layout itself is tested in tsne.test.ts.
    const render = (seed: number) => section(renderReport(dir, { embeddingMaxPoints: 200, tsneIterations: 5, seed }).html, 'embedding');
    const embedding = render(1);
    assert.equal((embedding.match(/<circle class="point"/g) ?? []).length, 200);
    assert.match(embedding, /on a seeded sample of 200 of the 300 clips/);
    const points = (text: string) => text.match(/<circle[^>]*>/g)!.join('');
    assert.equal(points(render(1)), points(embedding), 'the same seed draws the same map');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a wrong path gets a clear error', async () => {
  const dir = tempDir();
  try {
    await assert.rejects(buildReport(path.join(dir, 'nope')), /run directory not found: .*nope/);
    await assert.rejects(buildReport(dir), /does not look like a run directory: none of config\.json, metrics\.jsonl/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a resumed run that logged steps again shows the later values once', () => {
  const dir = tempDir();
  try {
    const line = (step: number, loss: number) => JSON.stringify({ kind: 'train', step, epoch: 0, loss, lr: 0.1, clipsPerSec: 5, time: step });
    const first = Array.from({ length: 10 }, (_, step) => line(step, 10 - step));
    const again = Array.from({ length: 5 }, (_, i) => line(5 + i, 1 + i / 10));
    writeFileSync(path.join(dir, 'metrics.jsonl'), `${[...first, ...again].join('\n')}\n`);
    const training = section(renderReport(dir).html, 'training');
    assert.match(training, /5 step\(s\) were logged twice \(a resumed run\); the later values are shown/);
    assert.match(training, /<td class="num">10<\/td><td class="num">9<\/td><td class="num">1<\/td><td class="">1\.4<\/td>/, 'steps logged, last step, epochs, final loss');
    const loss = training.match(/<path class="series" d="([^"]+)"/)![1];
    assert.equal(loss.split('L').length, 10);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('media beyond the total embedding budget are linked instead', async () => {
  const dir = tempDir();
  try {
    await writeFullRun(dir);
    // Each thumbnail is a few hundred bytes to a few KiB: a 3 KiB budget embeds the first ones only.
    const page = renderReport(dir, { embedTotalBytes: 3 * 1024 }).html;
    const sources = [...page.matchAll(/<img src="([^"]+)"/g)].map((m) => m[1]);
    assert.equal(sources.length, 9);
    const embedded = sources.filter((s) => s.startsWith('data:'));
    assert.ok(embedded.length > 0 && embedded.length < 9, `${embedded.length} of 9 embedded`);
    const bytes = embedded.reduce((sum, s) => sum + Buffer.from(s.slice(s.indexOf(',') + 1), 'base64').length, 0);
    assert.ok(bytes <= 3 * 1024, `${bytes} bytes embedded`);
    for (const s of sources.filter((u) => !u.startsWith('data:'))) assert.match(s, /^(thumbs|heatmaps)\/[\w.-]+\.(png|jpg)$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
