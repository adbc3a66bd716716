// `renderComparison([runA, runB, ...])`: one page that sets several runs side by side — what the numbers say
// (conclusions with standard errors), the loss curves overlaid with each run's stage changes, the linear probe
// per block with chance and error bars, retrieval, and the config keys that differ. It embeds no media, so
// the page can be written anywhere (`--out`).
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { checkRunDir } from './build-report.js';
import { compareConclusions, type ComparedRun } from './compare-conclusions.js';
import { differingKeys } from './config-diff.js';
import { formatNumber, html } from './html.js';
import { loadRun, type RunInputs } from './load-run.js';
import { renderPage } from './page.js';
import { bestBlock, cmaPrecision, probeScores, retrievalSummary } from './run-scores.js';
import { describeEvaluation, publishedFor, recordedEvaluations, reproducedSettings } from './published-figures.js';
import { Footnotes, publishedCell } from './published-cell.js';
import { table, type Cell, type Section } from './section.js';
import { latestPerStep } from './sections/training.js';
import { stageMarkers } from './stages.js';
import { formatWithError, proportionStandardError } from './standard-error.js';
import { barChart } from './svg-plot.js';
import { curveFigure } from './curve-figure.js';
import { writeFileAtomic } from '../io/atomic.js';

export interface CompareOptions {
  /** Shown in the header (default "avid: N runs compared"). */
  title?: string;
}

export interface RenderedComparison {
  html: string;
  /** The run names used on the page (directory names, lengthened where two are the same). */
  runs: string[];
  conclusions: string[];
  sections: Array<{ id: string; title: string; status: Section['status'] }>;
}

/** Short distinct names: each directory's base name, with parent folders added until they differ. */
export function runNames(dirs: string[]): string[] {
  for (let depth = 1; depth <= 8; depth++) {
    const names = dirs.map((d) => d.split(path.sep).filter(Boolean).slice(-depth).join('/'));
    if (new Set(names).size === names.length) return names;
  }
  return dirs;
}

interface NamedRun {
  name: string;
  inputs: RunInputs;
}

function lossSection(runs: NamedRun[]): Section {
  const id = 'loss';
  const title = 'Loss curves';
  const withSteps = runs.map((r) => ({ ...r, records: r.inputs.metrics.status === 'ok' ? latestPerStep(r.inputs.metrics.value.train) : [] }));
  const present = withSteps.filter((r) => r.records.length > 0);
  if (present.length === 0)
    return { id, title, status: 'missing', body: html`<p class="not-available">Not available: no run has training steps in metrics.jsonl.</p>` };
  const stages = present.flatMap((r) =>
    stageMarkers(r.inputs.config.status === 'ok' ? r.inputs.config.value : null, r.records).map((m) => ({ x: m.step, label: `${r.name}: ${m.label}` })),
  );
  const plot = curveFigure(
    {
      title: 'Training loss of each run',
      xLabel: 'step',
      yLabel: 'loss',
      series: present.map((r) => ({ name: r.name, points: r.records.map((rec) => [rec.step, rec.loss] as [number, number]) })),
      stages,
    },
    `Training loss against step, one line per run${stages.length ? '; solid vertical lines mark where a run changes stage' : ''}. Losses of different objectives are not on the same scale.`,
  );
  const missing = withSteps.filter((r) => r.records.length === 0).map((r) => r.name);
  const facts = table(
    ['run', 'steps logged', 'last step', 'final loss', 'lowest loss'],
    present.map((r) => [r.name, r.records.length, r.records[r.records.length - 1].step, formatNumber(r.records[r.records.length - 1].loss, 4), formatNumber(Math.min(...r.records.map((x) => x.loss)), 4)]),
  );
  return {
    id,
    title,
    status: 'ok',
    body: html`${plot}${facts}${
      missing.length ? html`<p class="note">No training steps: ${missing.join(', ')}.</p>` : ''
    }`,
  };
}

function probeSection(scores: ComparedRun[]): Section {
  const id = 'probe';
  const title = 'Linear probe per block';
  const present = scores.map((s, i) => ({ ...s, index: i })).filter((s) => s.probe !== null);
  if (present.length === 0)
    return { id, title, status: 'missing', body: html`<p class="not-available">Not available: no run has results/probe.json.</p>` };
  const blocks: string[] = [];
  for (const s of present) for (const b of s.probe!.blocks) if (!blocks.includes(b.block)) blocks.push(b.block);
  const value = (s: ComparedRun, block: string) => s.probe!.blocks.find((b) => b.block === block)?.scores.pretrained ?? null;
  const chances = [...new Set(present.map((s) => s.probe!.chance).filter((c): c is number => c !== null))];
  const chart = barChart({
    title: `${present[0].probe!.metric} per block`,
    xLabel: 'block',
    yLabel: `${present[0].probe!.metric} (%)`,
    seriesNames: present.map((s) => s.name),
    groups: blocks.map((block) => ({ label: block, values: present.map((s) => 100 * (value(s, block) ?? Number.NaN)) })),
    errors: blocks.map((block) =>
      present.map((s) => {
        const v = value(s, block);
        return v === null || s.probe!.samples === null ? null : 100 * proportionStandardError(v, s.probe!.samples);
      }),
    ),
    references: chances.map((c) => ({ value: 100 * c, label: `chance ${(100 * c).toFixed(1)}%` })),
    yMax: 100,
    format: (v) => `${v.toFixed(1)}%`,
  });
  const rows: Cell[][] = blocks.map((block) => [block, ...present.map((s) => {
    const v = value(s, block);
    return v === null ? null : formatWithError(v, s.probe!.samples);
  })]);
  rows.push(['random init (best block)', ...present.map((s) => {
    const best = bestBlock(s.probe!);
    return best ? formatWithError(best.random, s.probe!.samples) : null;
  })]);
  const missing = scores.filter((s) => s.probe === null).map((s) => s.name);
  const samples = present.map((s) => (s.probe!.samples === null ? `${s.name}: not recorded` : `${s.name}: ${s.probe!.samples}`)).join('; ');
  return {
    id,
    title,
    status: 'ok',
    body: html`<figure class="chart"><div class="plots">${chart}</div><figcaption>Each run's pretrained model per block; whiskers are one standard error (test examples — ${samples})${chances.length ? '; the dashed line is chance' : ''}.</figcaption></figure>
<div class="table-scroll">${table(['block', ...present.map((s) => s.name)], rows)}</div>${missing.length ? html`<p class="note">No results/probe.json: ${missing.join(', ')}.</p>` : ''}`,
  };
}

function retrievalSection(scores: ComparedRun[]): Section {
  const id = 'retrieval';
  const title = 'Cross-modal retrieval';
  const present = scores.filter((s) => s.retrieval !== null);
  if (present.length === 0)
    return { id, title, status: 'missing', body: html`<p class="not-available">Not available: no run has results/retrieval.json.</p>` };
  const rows = present.map((s) => {
    const r = s.retrieval!;
    return [s.name, formatWithError(r.v2a, r.queries), formatWithError(r.a2v, r.queries), r.randomV2a === null ? null : formatWithError(r.randomV2a, r.queries), r.chance === null ? null : `${(100 * r.chance).toFixed(1)}%`, r.queries];
  });
  return { id, title, status: 'ok', body: html`<div class="table-scroll">${table(['run', 'video → audio R@1', 'audio → video R@1', 'random init v→a R@1', 'chance R@1', 'queries'], rows)}</div><p class="note">± is one standard error.</p>` };
}

/**
 * Each run's recorded evaluations (what they measure: protocol, benchmark, block) beside the published figure
 * of the paper setting its config names, where the evaluation is the same; otherwise "—" and why.
 */
function papersSection(runs: NamedRun[]): Section {
  const id = 'papers';
  const title = 'Beside the published figures';
  const notes = new Footnotes();
  const rows: Cell[][] = runs.flatMap((r) =>
    recordedEvaluations(r.inputs).map(({ record }) => [r.name, describeEvaluation(record, record.data), formatWithError(record.score, record.samples ?? null), publishedCell(publishedFor(r.inputs, record), notes)]),
  );
  const settings = runs.map((r) => {
    const named = reproducedSettings(r.inputs).settings.map((s) => s.id);
    return `${r.name}: ${named.length ? named.join(', ') : 'none'}`;
  });
  if (rows.length === 0)
    return { id, title, status: 'missing', body: html`<p class="not-available">Not available: no run records what its results measure (protocol, benchmark), as <code>avid eval svm</code> and <code>avid eval probe</code> do. Paper settings named: ${settings.join('; ')}.</p>` };
  return {
    id,
    title,
    status: 'ok',
    body: html`<div class="table-scroll">${table(['run', 'evaluation', 'this run', 'published (paper)'], rows, 'published-figures')}</div><p class="note">Paper settings the runs' configs name (<code>reproduces</code>): ${settings.join('; ')}. ± is one standard error.</p>${notes.render()}`,
  };
}

function configSection(runs: NamedRun[]): Section {
  const id = 'config';
  const title = 'Config keys that differ';
  const configs = runs.map((r) => (r.inputs.config.status === 'ok' ? r.inputs.config.value : null));
  const differences = differingKeys(configs);
  const without = runs.filter((_, i) => configs[i] === null).map((r) => r.name);
  const note = without.length ? html`<p class="note">No readable config.json: ${without.join(', ')} (every key counts as differing).</p>` : '';
  if (differences.length === 0) return { id, title, status: 'ok', body: html`<p>The runs' configs are identical.</p>${note}` };
  return {
    id,
    title,
    status: 'ok',
    body: html`<p>${differences.length} key(s) differ; a dash marks a key the run's config does not have.</p><div class="table-scroll">${table(
      ['key', ...runs.map((r) => r.name)],
      differences.map((d) => [d.key, ...d.values]),
      'config-diff',
    )}</div>${note}`,
  };
}

/** Renders the comparison of `runDirs` (two or more run directories) to a string. */
export function renderComparison(runDirs: string[], options: CompareOptions = {}): RenderedComparison {
  if (runDirs.length < 2) throw new Error(`a comparison needs at least two run directories, got ${runDirs.length}`);
  const dirs = runDirs.map((d) => path.resolve(d));
  const twice = dirs.find((d, i) => dirs.indexOf(d) !== i);
  if (twice) throw new Error(`run directory listed twice: ${twice}`);
  dirs.forEach(checkRunDir);
  const names = runNames(dirs);
  const runs: NamedRun[] = dirs.map((d, i) => ({ name: names[i], inputs: loadRun(d) }));
  const scores: ComparedRun[] = runs.map((r) => ({ name: r.name, probe: probeScores(r.inputs), retrieval: retrievalSummary(r.inputs), cma: cmaPrecision(r.inputs) }));
  const conclusions = compareConclusions(scores);
  const runTable = table(
    ['run', 'directory', 'best probe block', 'video → audio R@1'],
    scores.map((s, i) => {
      const best = s.probe ? bestBlock(s.probe) : null;
      return [s.name, dirs[i], best ? `${best.block}: ${formatWithError(best.score, s.probe!.samples)}` : null, s.retrieval ? formatWithError(s.retrieval.v2a, s.retrieval.queries) : null];
    }),
    'runs',
  );
  const sections: Section[] = [
    {
      id: 'conclusions',
      title: 'What the numbers say',
      status: 'ok',
      body: html`<div class="table-scroll">${runTable}</div><p class="note">The first run, ${names[0]}, is the baseline. ± is one standard error; a difference counts only beyond one standard error of the difference.</p><ul class="conclusions">${conclusions.map((c) => html`<li>${c}</li>`)}</ul>`,
    },
    lossSection(runs),
    probeSection(scores),
    retrievalSection(scores),
    papersSection(runs),
    configSection(runs),
  ];
  const page = renderPage({
    title: options.title ?? `avid: ${runs.length} runs compared`,
    subtitle: `${names.join(' · ')} · generated ${new Date().toISOString().replace('T', ' ').slice(0, 19)} UTC`,
    sections,
    nonce: randomBytes(16).toString('base64'),
  });
  return { html: page, runs: names, conclusions, sections: sections.map(({ id, title, status }) => ({ id, title, status })) };
}

/** Writes the comparison of `runDirs` to `out`; returns its path and the conclusions. */
export function writeComparison(runDirs: string[], out: string, options: CompareOptions = {}): Omit<RenderedComparison, 'html'> & { path: string } {
  const { html: page, ...rest } = renderComparison(runDirs, options);
  const output = path.resolve(out);
  writeFileAtomic(output, page);
  return { path: output, ...rest };
}
