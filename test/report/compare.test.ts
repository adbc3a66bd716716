// Comparing runs: the conclusions are computed from the numbers (standard errors from the recorded sample
// sizes), the loss curves carry each run's stage change, the config table lists exactly the keys that differ,
// and bad input is refused with a message naming the directory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compareScores, proportionStandardError, renderComparison, runNames, writeComparison, writeRunJson } from '../../src/report/index.js';
import { differingKeys, flattenConfig } from '../../src/report/config-diff.js';
import { stageMarkers } from '../../src/report/stages.js';
import { parseMetrics } from '../../src/report/run-files.js';
import { writeMetrics } from './fixtures/run-dir.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const STAGED_CONFIG = (sharedNormaliser: boolean, extra: Record<string, unknown> = {}) => ({
  crossAvid: { name: 'cross-avid', train: { epochs: 1, batchSize: 8 }, objective: { sharedNormaliser } },
  cma: { name: 'cma', train: { epochs: 2, batchSize: 8 }, objective: { sharedNormaliser }, ...extra },
});

/** Two runs: B beats A clearly on conv5x (0.75 vs 0.50 over 48 videos), ties on conv2x, and has one more config key. */
function writePair(root: string): [string, string] {
  const a = path.join(root, 'shared-z');
  const b = path.join(root, 'per-term-z');
  for (const [dir, shared, conv5x, union] of [[a, true, 0.5, 0.44], [b, false, 0.75, 0.45]] as const) {
    writeMetrics(dir);
    writeRunJson(dir, 'config.json', STAGED_CONFIG(shared, shared ? {} : { note: 'per-term normaliser' }));
    writeRunJson(dir, 'results/probe.json', {
      protocol: 'linear probe',
      metric: 'video@1',
      samples: 48,
      classes: ['ball', 'drum', 'bell', 'horn'],
      blocks: { conv2x: { pretrained: shared ? 0.5 : 0.55, random: 0.4 }, conv5x: { pretrained: conv5x, random: 0.3 } },
    });
    writeRunJson(dir, 'results/retrieval.json', {
      v2a: { r1: shared ? 0.1 : 0.12, r5: 0.3, r10: 0.5, medianRank: 9 },
      a2v: { r1: 0.1, r5: 0.3, r10: 0.5, medianRank: 9 },
      queries: 48,
      examples: [],
    });
    writeRunJson(dir, 'results/cma.json', { k: 8, anchors: 100, precision: { agreement: 0.45, union, video: 0.4, audio: 0.3 }, examples: [] });
  }
  return [a, b];
}

test('standard errors of proportions and of their differences', () => {
  // One video of 48 is 2.1 points; at p = 0.5 the standard error over 48 is 7.2 points.
  assert.equal((100 / 48).toFixed(1), '2.1');
  assert.equal(proportionStandardError(0.5, 48).toFixed(4), '0.0722');
  const c = compareScores(0.5, 48, 0.75, 48);
  assert.equal(c.standardError!.toFixed(4), Math.hypot(Math.sqrt(0.25 / 48), Math.sqrt(0.1875 / 48)).toFixed(4));
  assert.equal(c.verdict, 'higher');
  assert.equal(c.errors!.toFixed(2), '2.62');
  assert.equal(compareScores(0.5, 48, 0.55, 48).verdict, 'within one standard error');
  assert.equal(compareScores(0.75, 48, 0.5, 48).verdict, 'lower');
  assert.equal(compareScores(0.5, null, 0.6, 48).verdict, 'no standard error');
  assert.throws(() => proportionStandardError(1.5, 10), /p must be a fraction in \[0, 1\], got 1.5/);
  assert.throws(() => proportionStandardError(0.5, 0), /n must be a positive integer, got 0/);
});

test('config differences: flattened dotted keys, missing keys differ, equal keys do not', () => {
  assert.deepEqual([...flattenConfig({ a: { b: 1, c: [1, 2] }, d: 'x' })], [['a.b', '1'], ['a.c', '[1,2]'], ['d', 'x']]);
  assert.deepEqual(differingKeys([{ a: { b: 1 }, same: 2 }, { a: { b: 2 }, same: 2, extra: true }, null]), [
    { key: 'a.b', values: ['1', '2', null] },
    { key: 'same', values: ['2', '2', null] },
    { key: 'extra', values: [null, 'true', null] },
  ]);
});

test('stage markers fall on the first step of each later stage of a staged config', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'avid-compare-'));
  try {
    writeMetrics(dir); // 3 epochs of 12 steps
    const records = parseMetrics(readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8')).train;
    assert.deepEqual(stageMarkers(STAGED_CONFIG(true), records), [{ step: 12, label: 'cross-avid → cma' }]);
    assert.deepEqual(stageMarkers({ train: { epochs: 3 } }, records), [], 'a plain config has one stage');
    assert.deepEqual(stageMarkers(null, records), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('two runs compared: conclusions from the numbers, stage markers, probe with chance and error bars, config diff', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'avid-compare-'));
  try {
    const [a, b] = writePair(root);
    const out = path.join(root, 'out', 'compare.html');
    const written = writeComparison([a, b], out);
    assert.equal(written.path, out);
    assert.deepEqual(written.runs, ['shared-z', 'per-term-z']);
    assert.deepEqual(written.sections.map((s) => `${s.id}:${s.status}`), ['conclusions:ok', 'loss:ok', 'probe:ok', 'retrieval:ok', 'papers:missing', 'config:ok']);
    const c = written.conclusions;
    assert.ok(c.includes('Linear probe (video@1), best block conv5x: per-term-z 75.0% against shared-z 50.0%: +25.0 pts, 2.6 standard errors — higher.'), c.join('\n'));
    assert.ok(c.includes('Over the 2 shared block(s), per-term-z is higher than shared-z by more than one standard error on 1, lower on 0, and within one standard error on 1.'));
    assert.ok(c.includes('Retrieval video → audio R@1: per-term-z 12.0% against shared-z 10.0%: +2.0 pts, 0.3 standard errors — within one standard error.'));
    // 0.45 vs 0.44 over 100 anchors × 8: within one standard error; 0.45 vs 0.45: the same.
    assert.ok(c.includes('shared-z: CMA precision@8, agreement 45.0% against union 44.0%: within one standard error — mining adds nothing here.'));
    assert.ok(c.includes('per-term-z: CMA precision@8, agreement 45.0% against union 45.0%: within one standard error — mining adds nothing here.'));
    assert.ok(c.some((line) => line.startsWith('per-term-z: best probe block conv5x at 75.0% against 30.0% from random initialisation: +45.0 pts')));

    const page = readFileSync(out, 'utf8');
    const section = (id: string) => page.slice(page.indexOf(`<section id="${id}"`), page.indexOf('</section>', page.indexOf(`<section id="${id}"`)));
    // Both runs' loss curves, each with its stage change at step 12, in the linear view and the log view.
    const [linear, log] = section('loss').split('<svg').slice(1);
    assert.match(linear, /view-linear/);
    assert.match(log, /view-log/);
    for (const view of [linear, log]) {
      assert.equal((view.match(/<path class="series"/g) ?? []).length, 2);
      assert.equal((view.match(/<path class="smoothed"/g) ?? []).length, 2);
      assert.deepEqual([...view.matchAll(/<text class="stage-label"[^>]*>([^<]+)</g)].map((m) => m[1]), ['shared-z: cross-avid → cma', 'per-term-z: cross-avid → cma']);
    }
    assert.match(log, /loss \(log scale\)/);
    // Probe: 2 blocks × 2 runs, each bar with its whisker; chance at 1/4.
    const probe = section('probe');
    assert.equal((probe.match(/<rect class="bar"/g) ?? []).length, 4);
    assert.equal((probe.match(/<path class="error-bar"/g) ?? []).length, 4);
    assert.match(probe, /<text class="reference-label"[^>]*>chance 25\.0%</);
    assert.match(probe, /<td class="">75\.0% ± 6\.3<\/td>/);
    // Config: the normaliser (in both stages) and the extra key differ; epochs and batch size do not.
    const keys = [...section('config').matchAll(/<tr><td class="">([^<]+)<\/td>/g)].map((m) => m[1]);
    assert.deepEqual(keys, ['crossAvid.objective.sharedNormaliser', 'cma.objective.sharedNormaliser', 'cma.note']);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a comparison says what it cannot compare, and refuses bad run lists', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'avid-compare-'));
  try {
    const [a] = writePair(root);
    const bare = path.join(root, 'nested', 'shared-z');
    writeMetrics(bare);
    const { conclusions, runs, sections } = renderComparison([a, bare]);
    assert.deepEqual(runs, [path.basename(root) + '/shared-z', 'nested/shared-z'], 'same base names are told apart by their parents');
    assert.ok(conclusions.includes('Linear probe: not compared (nested/shared-z has no results/probe.json).'));
    assert.equal(sections.find((s) => s.id === 'probe')!.status, 'ok');
    assert.throws(() => renderComparison([a]), /a comparison needs at least two run directories, got 1/);
    assert.throws(() => renderComparison([a, `${a}/`]), /run directory listed twice: .*shared-z/);
    assert.throws(() => renderComparison([a, path.join(root, 'nope')]), /run directory not found: .*nope/);
    assert.deepEqual(runNames(['/x/a/run', '/y/b/run', '/z/c']), ['a/run', 'b/run', 'z/c'], 'one depth for all names');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('`avid report runA runB --out` writes the comparison; several runs without --out are refused', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'avid-compare-cli-'));
  try {
    const [a, b] = writePair(root);
    const cli = (...args: string[]) => spawnSync(process.execPath, [path.join(repoRoot, 'bin/avid.mjs'), 'report', ...args], { encoding: 'utf8', timeout: 60_000 });
    const refused = cli(a, b);
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, /comparing 2 runs needs --out <file\.html>/);
    const one = cli(a, '--out', path.join(root, 'x.html'));
    assert.equal(one.status, 2);
    assert.match(one.stderr, /--out is for comparing several runs/);
    const out = path.join(root, 'compare.html');
    const built = cli(a, b, '--out', out);
    assert.equal(built.status, 0, built.stderr);
    assert.match(built.stdout, /best block conv5x: per-term-z 75\.0% against shared-z 50\.0%/);
    assert.match(built.stdout, new RegExp(`comparison of shared-z, per-term-z written: ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
    assert.ok(existsSync(out));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
