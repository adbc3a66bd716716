// What the readability fixes put in the page, checked in its markup: the headline table with standard errors
// and chance, the epoch table split from diagnostics and internals, posters and class names on retrieval
// examples, class names on CMA examples, the embedding map's modality, overlay clips and a colour bar in the
// localisation section.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { appendMetric, renderReport, writeRunJson } from '../../src/report/index.js';
import { writeFullRun } from './fixtures/run-dir.js';

function section(page: string, id: string): string {
  const start = page.indexOf(`<section id="${id}"`);
  assert.ok(start >= 0, `section ${id}`);
  return page.slice(start, page.indexOf('</section>', start));
}

const cells = (tableHtml: string) => [...tableHtml.matchAll(/<tr>(.*?)<\/tr>/g)].map((row) => [...row[1].matchAll(/<t[dh][^>]*>(.*?)<\/t[dh]>/g)].map((c) => c[1]));

test('headline, epoch tables, posters, class names, overlay clips and colour bar', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'avid-readable-'));
  try {
    await writeFullRun(dir);
    writeRunJson(dir, 'results/probe.json', {
      protocol: 'linear probe',
      metric: 'video@1',
      samples: 48,
      classes: ['ball', 'drum', 'bell', 'horn'],
      pretrainedName: 'CMA',
      blocks: { conv5x: { pretrained: 0.75, random: 0.25, 'Cross-AVID': 0.5 }, pool: { pretrained: 0.5, random: 0.3, 'Cross-AVID': 0.625 } },
    });
    const retrieval = JSON.parse(readFileSync(path.join(dir, 'results/retrieval.json'), 'utf8'));
    retrieval.queries = 48;
    retrieval.examples[0].poster = 'thumbs/class0-0.png';
    retrieval.examples[0].label = 'ball-class';
    retrieval.examples[0].matches[0].label = 'drum-class';
    writeRunJson(dir, 'results/retrieval.json', retrieval);
    const localization = JSON.parse(readFileSync(path.join(dir, 'results/localization.json'), 'utf8'));
    writeRunJson(dir, 'results/localization.json', { ...localization, colormap: 'jet', videos: [{ video: retrieval.examples[0].video, caption: 'ball-class overlay', poster: 'heatmaps/frame-0.png' }] });
    const cma = JSON.parse(readFileSync(path.join(dir, 'results/cma.json'), 'utf8'));
    cma.examples[0].anchor.label = 'anchor-class';
    cma.examples[0].rejected[0].label = 'drum-class';
    writeRunJson(dir, 'results/cma.json', cma);
    const embeddings = JSON.parse(readFileSync(path.join(dir, 'results/embeddings.json'), 'utf8'));
    writeRunJson(dir, 'results/embeddings.json', { ...embeddings, modality: 'audio' });
    appendMetric(dir, { kind: 'epoch', epoch: 2, cmaDiagnostics: 'after CMA', precision_agreement: 0.44 });
    appendMetric(dir, { kind: 'epoch', epoch: 3, loss: 2.5, liveTensors: 359, rssMB: 900 });

    const page = renderReport(dir).html;
    // Headline: each model's best probe block with one standard error, retrieval, and chance.
    const headline = cells(section(page, 'overview').match(/<table class="headline">.*?<\/table>/s)![0]);
    // The fixture's config names no paper setting: no published figure, "—" with the reason as its footnote.
    const noSetting = '<span class="no-published" title="no paper setting: the run&#39;s config names none (`reproduces`)">—<sup>1</sup></span>';
    assert.deepEqual(headline, [
      ['model', 'best linear probe (video@1)', 'published (paper)', 'video → audio R@1', 'audio → video R@1'],
      ['CMA', '75.0% ± 6.3 (conv5x)', noSetting, '34.0% ± 6.8', '31.0% ± 6.7'],
      ['Cross-AVID', '62.5% ± 7.0 (pool)', '—', '—', '—'],
      ['random init', '30.0% ± 6.6 (pool)', '—', '5.0% ± 3.1', '—'],
      ['chance', '25.0% (4 classes)', '—', '2.1% (48 queries)', '2.1%'],
    ]);
    assert.match(section(page, 'overview'), /<ol class="note published-notes"><li>no paper setting: the run&#39;s config names none \(`reproduces`\)<\/li><\/ol>/);
    // The probe chart: three models, chance line, error bars; its table has the three models.
    const probe = section(page, 'probe');
    assert.match(probe, /<text class="legend-text"[^>]*>CMA<\/text>.*<text class="legend-text"[^>]*>Cross-AVID<\/text>.*<text class="legend-text"[^>]*>random init<\/text>/s);
    assert.equal((probe.match(/<path class="error-bar"/g) ?? []).length, 6);
    assert.match(probe, /chance 25\.0%/);
    assert.match(probe, /<text class="axis-label"[^>]*>video@1 \(%\)<\/text>/);
    // Epochs apart from diagnostics; internals folded.
    const training = section(page, 'training');
    assert.deepEqual(cells(training.match(/<table class="epochs">.*?<\/table>/s)![0])[0], ['epoch', 'meanLoss', 'rejects', 'note', 'loss']);
    assert.deepEqual(cells(training.match(/<table class="diagnostics">.*?<\/table>/s)![0]), [['measure', 'after CMA (epoch 2)'], ['precision_agreement', '0.44']]);
    assert.match(training, /<details class="internals"><summary>Process internals per epoch \(liveTensors, rssMB\)<\/summary>/);
    // Retrieval: the query's poster and class names.
    const examples = section(page, 'retrieval');
    assert.match(examples, /<video controls preload="metadata" src="data:video\/mp4;base64,[^"]+" poster="data:image\/png;base64,/);
    assert.match(examples, /<div class="class-name">ball-class<\/div>/);
    assert.match(examples, /<span class="class-name">drum-class<\/span>/);
    // CMA examples name their classes (a rejected look-alike's class shows beside the anchor's).
    assert.match(section(page, 'cma'), /<figcaption><span class="class-name">anchor-class<\/span>/);
    assert.match(section(page, 'cma'), /<figcaption><span class="class-name">drum-class<\/span>/);
    // The t-SNE map says which encoder it shows.
    assert.match(section(page, 'embedding'), /aria-label="Audio embeddings, coloured by class"/);
    // Localisation: the overlay clip plays (with a poster), and a colour bar explains the heat.
    const loc = section(page, 'localization');
    assert.match(loc, /<figure class="figure overlay-video"><video [^>]*poster="data:image\/png;base64,[^>]*><\/video><figcaption>ball-class overlay<\/figcaption>/);
    assert.equal((loc.match(/<stop offset=/g) ?? []).length, 11);
    assert.match(loc, /<stop offset="0%" stop-color="rgb\(0,0,128\)"\/>/, 'jet starts dark blue');
    assert.match(loc, /<stop offset="100%" stop-color="rgb\(128,0,0\)"\/>/, 'and ends dark red');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
