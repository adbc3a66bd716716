// The headline shows a paper's published figure beside the run's own only where the run's config names the
// paper setting it reproduces (`reproduces`) and the result was measured the same way (protocol, benchmark,
// block); otherwise "—" with the reason in a tooltip and a footnote. Unknown setting ids are config errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { renderComparison, renderReport, writeRunJson } from '../../src/report/index.js';
import { parseConfig, ConfigError } from '../../src/config/load.js';
import { PAPER_SETTINGS } from '../../src/config/published.js';
import type { EvaluationRecord } from '../../src/report/run-files.js';

const ESC50_SVM: EvaluationRecord = { protocol: 'audio-svm', benchmark: 'esc-50', data: 'ESC-50', block: 'conv5x', score: 0.7, samples: 2000 };
const ESC10_SVM: EvaluationRecord = { ...ESC50_SVM, benchmark: 'esc-10', data: 'esc10', samples: 400 };

function overview(page: string): string {
  const start = page.indexOf('<section id="overview"');
  assert.ok(start >= 0, 'the overview section');
  return page.slice(start, page.indexOf('</section>', start));
}

const cells = (tableHtml: string) => [...tableHtml.matchAll(/<tr>(.*?)<\/tr>/g)].map((row) => [...row[1].matchAll(/<t[dh][^>]*>(.*?)<\/t[dh]>/g)].map((c) => c[1]));

/** A run directory with a config naming `reproduces` (or none), an SVM result table and a probe. */
function withRun(reproduces: string[] | undefined, svm: EvaluationRecord | null, body: (page: string) => void, probeEvaluations?: EvaluationRecord[]): void {
  const dir = mkdtempSync(path.join(tmpdir(), 'avid-published-'));
  try {
    writeRunJson(dir, 'config.json', { name: 'paper-run', objective: { kind: 'avid', variant: 'cross' }, ...(reproduces ? { reproduces } : {}) });
    writeRunJson(dir, 'results/probe.json', {
      protocol: 'linear probe per block',
      metric: 'video@1',
      samples: 100,
      classes: ['a', 'b', 'c', 'd'],
      blocks: { conv4x: { pretrained: 0.3, random: 0.1 }, conv5x: { pretrained: 0.35, random: 0.12 } },
      ...(probeEvaluations ? { evaluations: probeEvaluations } : {}),
    });
    writeRunJson(dir, 'results/svm.json', [
      { title: 'SVM sound classification on ESC-50', columns: ['block', 'fold', 'accuracy %'], rows: [['conv5x', 'mean', 70]], ...(svm ? { evaluation: svm } : {}) },
    ]);
    body(renderReport(dir).html);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function papersRows(page: string): string[][] {
  const t = overview(page).match(/<table class="published-figures">.*?<\/table>/s);
  assert.ok(t, 'the table of evaluations beside the papers');
  return cells(t[0]);
}

test('a config naming a setting and a matching ESC-50 SVM result: the published figure and its source', () => {
  withRun(['avid-comparison-cross-audioset'], ESC50_SVM, (page) => {
    const rows = papersRows(page);
    assert.equal(rows.length, 2);
    assert.match(rows[1][0], /^one-vs-rest linear SVM on frozen audio features, ESC-50, conv5x <small class="source">results\/svm\.json<\/small>$/);
    assert.equal(rows[1][1], '70.0% ± 1.0');
    assert.match(rows[1][2], /^<span class="published" title="Morgado, Vasconcelos &amp; Misra, Audio-Visual Instance Discrimination with Cross-Modal Agreement \(CVPR 2021\), §6 comparison[^"]*pre-trained on AudioSet, 1\.8M videos[^"]*">89\.20% <small class="source">AVID-CMA downstream protocols, Cross-AVID \(AudioSet\), ESC-50 SVM, mean of 5 folds<\/small><\/span>$/);
    // The setting's other figure (DCASE) was not measured: said so, with its value.
    assert.match(overview(page), /not measured here yet: one-vs-rest linear SVM on frozen audio features, DCASE2014, conv5x \(96\.00%/);
  });
});

test('the same setting with an ESC-10 result shows no published figure, and says why', () => {
  withRun(['avid-comparison-cross-audioset'], ESC10_SVM, (page) => {
    const rows = papersRows(page);
    assert.match(rows[1][2], /^<span class="no-published" title="different evaluation: this is one-vs-rest linear SVM on frozen audio features, ESC-10, conv5x; the paper setting \(avid-comparison-cross-audioset\) publishes [^"]*ESC-50[^"]*">—<sup>\d<\/sup><\/span>$/);
    assert.doesNotMatch(overview(page), /89\.20%<\/span>|class="published"/);
    assert.match(overview(page), /<ol class="note published-notes">.*<li>different evaluation: this is one-vs-rest linear SVM on frozen audio features, ESC-10/s);
  });
});

test('an ESC-50 SVM result of a run whose config names no setting gets none', () => {
  withRun(undefined, ESC50_SVM, (page) => {
    const rows = papersRows(page);
    assert.match(rows[1][2], /title="no paper setting: the run&#39;s config names none \(`reproduces`\)">—/);
    assert.doesNotMatch(overview(page), /class="published"/);
  });
});

test('a block other than the paper\'s (conv4x for the SVM\'s conv5x) is a different evaluation', () => {
  withRun(['avid-comparison-cross-audioset'], { ...ESC50_SVM, block: 'conv4x' }, (page) => {
    assert.match(papersRows(page)[1][2], /title="different evaluation: this is one-vs-rest linear SVM on frozen audio features, ESC-50, conv4x;/);
  });
});

test('the headline probe gets the Kinetics figure only when its record says Kinetics-400, video probe, best block', () => {
  const headline = (page: string) => cells(overview(page).match(/<table class="headline">.*?<\/table>/s)![0]);
  // No record of what the probe measured (a synthetic-world probe, as eval-av and the demo write today).
  withRun(['avid-analysis-cross'], null, (page) => {
    const rows = headline(page);
    assert.deepEqual(rows[0], ['model', 'best linear probe (video@1)', 'published (paper)', 'video → audio R@1', 'audio → video R@1']);
    assert.equal(rows[1][1], '35.0% ± 4.8 (conv5x)');
    assert.match(rows[1][2], /class="no-published" title="different evaluation: what this figure measures \(protocol, benchmark\) is not recorded in its results file">—<sup>1<\/sup>/);
    assert.equal(rows[2][2], '—', 'random init: nothing beside it');
  });
  const kinetics: EvaluationRecord = { protocol: 'video-linear-probe', benchmark: 'kinetics-400', data: 'kinetics', block: 'best', score: 0.35, samples: 100 };
  withRun(['avid-analysis-cross'], null, (page) => {
    assert.match(headline(page)[1][2], /^<span class="published" title="[^"]*Cross-AVID, pre-trained on AudioSet, 100K videos[^"]*">39\.95% <small class="source">AVID-CMA §3, Cross-AVID, Kinetics linear probe, best block<\/small><\/span>$/);
  }, [kinetics]);
  // The same record in a run reproducing Self-AVID gets Self-AVID's figure, not Cross-AVID's.
  withRun(['avid-analysis-self'], null, (page) => assert.match(headline(page)[1][2], />32\.08% /), [kinetics]);
  // A synthetic-world probe with a record is a different evaluation.
  withRun(['avid-analysis-cross'], null, (page) => assert.match(headline(page)[1][2], /title="different evaluation: this is linear probe on frozen video features, world \(not a recognised benchmark\), best block;/), [{ ...kinetics, benchmark: null, data: 'world' }]);
});

test('config.json naming an unknown setting: no published figure, and the reason names the known ids', () => {
  withRun(['avid-cross'], ESC50_SVM, (page) => {
    assert.match(papersRows(page)[1][2], /title="config\.json: &#39;reproduces&#39; names unknown paper setting\(s\) &#39;avid-cross&#39; \(known: avid-analysis-self, avid-analysis-cross,/);
  });
});

test('an unknown setting id in a config is an error naming the key and the known ids', () => {
  assert.throws(
    () => parseConfig({ data: { source: 'x' }, reproduces: ['avid-analysis-cross', 'avid-cross'] }, 'paper.yaml'),
    (e: Error) => e instanceof ConfigError && /invalid config paper\.yaml:\n {2}reproduces\.1: got 'avid-cross', allowed: avid-analysis-self, avid-analysis-cross, .*long-form-movies-k16-wvideo/.test(e.message),
  );
  assert.deepEqual(parseConfig({ data: { source: 'x' }, reproduces: ['cma-analysis'] }).reproduces, ['cma-analysis']);
  assert.equal(parseConfig({ data: { source: 'x' } }).reproduces, undefined, 'optional');
});

test('the registry: unique ids, fractions, every figure\'s setting named in its id', () => {
  const ids = PAPER_SETTINGS.flatMap((s) => [s.id, ...s.figures.map((f) => f.id)]);
  assert.equal(new Set(ids).size, ids.length);
  for (const s of PAPER_SETTINGS) {
    assert.ok(s.figures.length > 0, `${s.id} has a published figure`);
    for (const f of s.figures) {
      assert.ok(f.id.startsWith(`${s.id}/`), f.id);
      assert.ok(f.value > 0 && f.value < 1, `${f.id}: a fraction`);
    }
  }
  // Spot checks against spec/PAPERS.md.
  const value = (id: string) => PAPER_SETTINGS.flatMap((s) => s.figures).find((f) => f.id === id)?.value;
  assert.equal(value('avid-analysis-cross/kinetics-probe'), 0.3995);
  assert.equal(value('cma-analysis/kinetics-probe'), 0.4111);
  assert.equal(value('avid-comparison-cross-audioset/esc50-svm'), 0.892);
  assert.equal(value('avts-audioset-1.8m/esc50-svm'), 0.806);
});

test('the comparison page sets each run\'s recorded evaluations beside its own setting\'s published figures', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'avid-published-compare-'));
  try {
    const runs = [
      ['paper', ['avid-comparison-cross-audioset'], ESC50_SVM],
      ['small', undefined, ESC10_SVM],
    ] as const;
    for (const [name, reproduces, record] of runs) {
      const run = path.join(dir, name);
      writeRunJson(run, 'config.json', { name, ...(reproduces ? { reproduces: [...reproduces] } : {}) });
      writeRunJson(run, 'results/svm.json', [{ title: 'SVM', columns: ['block'], rows: [['conv5x']], evaluation: record }]);
    }
    const { html: page, sections } = renderComparison(runs.map(([name]) => path.join(dir, name)));
    assert.equal(sections.find((s) => s.id === 'papers')!.status, 'ok');
    const start = page.indexOf('<section id="papers"');
    const rows = cells(page.slice(start, page.indexOf('</section>', start)).match(/<table class="published-figures">.*?<\/table>/s)![0]);
    assert.deepEqual(rows.map((r) => [r[0], r[1], r[2]]), [
      ['run', 'evaluation', 'this run'],
      ['paper', 'one-vs-rest linear SVM on frozen audio features, ESC-50, conv5x', '70.0% ± 1.0'],
      ['small', 'one-vs-rest linear SVM on frozen audio features, ESC-10, conv5x', '70.0% ± 2.3'],
    ]);
    assert.match(rows[1][3], /^<span class="published" [^>]*>89\.20% /);
    assert.match(rows[2][3], /title="no paper setting: the run&#39;s config names none/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
