// The headline numbers of the run: one small table at the top of the report, each row linking to its section,
// and the same rows as plain text for the terminal (`avid report`, the demo's closing table).
import { formatNumber, formatPercent, html, isFractionScale, type SafeHtml } from '../html.js';
import type { RunInputs } from '../load-run.js';
import { probeScores, retrievalSummary } from '../run-scores.js';
import { table, type Cell, type Section } from '../section.js';
import { formatWithError } from '../standard-error.js';
import { describeEvaluation, publishedFor, recordedEvaluations, unmatchedFigures } from '../published-figures.js';
import { Footnotes, publishedCell } from '../published-cell.js';
import type { EvaluationRecord } from '../run-files.js';

export interface Highlight {
  /** The section it summarises (its anchor in the page). */
  section: string;
  label: string;
  value: string;
  detail: string;
}

export function runHighlights(run: RunInputs): Highlight[] {
  const rows: Highlight[] = [];
  if (run.metrics.status === 'ok' && run.metrics.value.train.length) {
    const last = run.metrics.value.train.reduce((a, b) => (b.step >= a.step ? b : a));
    rows.push({ section: 'training', label: 'final training loss', value: formatNumber(last.loss, 4), detail: `step ${last.step}, epoch ${last.epoch}` });
  }
  if (run.probe.status === 'ok') {
    const blocks = Object.entries(run.probe.value.blocks);
    if (blocks.length) {
      const fraction = isFractionScale(blocks.flatMap(([, b]) => [b.pretrained, b.random]));
      const [name, best] = blocks.reduce((a, b) => (b[1].pretrained > a[1].pretrained ? b : a));
      rows.push({
        section: 'probe',
        label: `best linear probe (${run.probe.value.metric})`,
        value: formatPercent(best.pretrained, fraction),
        detail: `block ${name}; random init ${formatPercent(best.random, fraction)}`,
      });
    }
  }
  if (run.cma.status === 'ok') {
    const p = run.cma.value.precision;
    const fraction = isFractionScale(Object.values(p));
    rows.push({
      section: 'cma',
      label: `CMA precision@${run.cma.value.k}`,
      value: formatPercent(p.agreement, fraction),
      detail: `union ${formatPercent(p.union, fraction)}, video ${formatPercent(p.video, fraction)}, audio ${formatPercent(p.audio, fraction)}`,
    });
  }
  if (run.retrieval.status === 'ok') {
    const r = run.retrieval.value;
    const fraction = isFractionScale([r.v2a.r1, r.v2a.r5, r.v2a.r10, r.a2v.r1, r.a2v.r5, r.a2v.r10]);
    rows.push({ section: 'retrieval', label: 'video → audio R@1', value: formatPercent(r.v2a.r1, fraction), detail: `audio → video R@1 ${formatPercent(r.a2v.r1, fraction)}` });
  }
  if (run.localization.status === 'ok') {
    const s = run.localization.value.score;
    const fraction = isFractionScale([s.trained, s.random]);
    rows.push({ section: 'localization', label: 'localisation hit rate', value: formatPercent(s.trained, fraction), detail: `random init ${formatPercent(s.random, fraction)}` });
  }
  if (run.data.status === 'ok') {
    rows.push({ section: 'data', label: 'clips used / rejected', value: `${run.data.value.entries} / ${run.data.value.rejects.length}`, detail: run.data.value.manifest });
  }
  return rows;
}

/** The evaluation record describing the headline probe figure (the same score), when probe.json records one. */
function probeRecord(run: RunInputs, score: number): EvaluationRecord | null {
  if (run.probe.status !== 'ok') return null;
  return (run.probe.value.evaluations ?? []).find((e) => Math.abs(e.score - score) < 5e-4) ?? null;
}

/**
 * The run's recorded evaluations (sound protocols, fine-tuning, the probe's own records) beside the published
 * figures of the setting the config names; figures of that setting not yet measured are listed after.
 */
function papersTable(run: RunInputs, notes: Footnotes): SafeHtml | string {
  const records = recordedEvaluations(run);
  const rows: Cell[][] = records.map(({ file, record }) => [
    html`${describeEvaluation(record, record.data)} <small class="source">${file}</small>`,
    formatWithError(record.score, record.samples ?? null),
    publishedCell(publishedFor(run, record), notes),
  ]);
  const missing = unmatchedFigures(run);
  const missingNote = missing.length
    ? html`<p class="note">Published for the setting this run reproduces, not measured here yet: ${missing.map(
        ({ figure }, i) => html`${i ? '; ' : ''}${describeEvaluation(figure.evaluation)} (${(100 * figure.value).toFixed(2)}%, ${figure.source})`,
      )}.</p>`
    : '';
  if (!rows.length) return missingNote;
  return html`${table(['evaluation', 'this run', 'published (paper)'], rows, 'published-figures')}${missingNote}`;
}

/**
 * The headline table: one row per model the evaluations scored (the run's own, others such as Cross-AVID,
 * random initialisation), its best probe block and retrieval R@1, each with one standard error, and chance.
 */
function headlineTable(run: RunInputs): SafeHtml | null {
  const probe = probeScores(run);
  const retrieval = retrievalSummary(run);
  if (!probe && !retrieval) {
    // No probe or retrieval: the sound protocols beside the papers still make a headline.
    const notes = new Footnotes();
    const papers = papersTable(run, notes);
    return papers ? html`<div class="headline">${papers}${notes.render()}</div>` : null;
  }
  const models: string[] = ['pretrained'];
  if (probe) for (const b of probe.blocks) for (const m of Object.keys(b.scores)) if (m !== 'pretrained' && m !== 'random' && !models.includes(m)) models.push(m);
  models.push('random');
  const pct = (p: number | null) => (p === null ? null : `${(100 * p).toFixed(1)}%`);
  const notes = new Footnotes();
  const rows: Cell[][] = models.map((m) => {
    const name = m === 'pretrained' ? probe?.pretrainedName ?? 'pretrained' : m === 'random' ? 'random init' : m;
    let best: { block: string; score: number } | null = null;
    if (probe) for (const b of probe.blocks) if (b.scores[m] !== undefined && (!best || b.scores[m] > best.score)) best = { block: b.block, score: b.scores[m] };
    const r1 = retrieval ? (m === 'pretrained' ? retrieval.v2a : m === 'random' ? retrieval.randomV2a : null) : null;
    const a2v = retrieval && m === 'pretrained' ? retrieval.a2v : null;
    // The paper's figure stands beside the run's own model only (random init and other models reproduce nothing).
    const published = m === 'pretrained' && best ? publishedCell(publishedFor(run, probeRecord(run, best.score)), notes) : null;
    return [
      name,
      best ? `${formatWithError(best.score, probe!.samples)} (${best.block})` : null,
      published,
      r1 === null ? null : formatWithError(r1, retrieval!.queries),
      a2v === null ? null : formatWithError(a2v, retrieval!.queries),
    ];
  });
  rows.push([
    'chance',
    probe?.chance ? `${pct(probe.chance)} (${probe.classes!.length} classes)` : null,
    null,
    retrieval?.chance ? `${pct(retrieval.chance)} (${retrieval.queries} queries)` : null,
    retrieval?.chance ? pct(retrieval.chance) : null,
  ]);
  const metric = probe ? `best linear probe (${probe.metric})` : 'linear probe';
  const captions = [
    probe && probe.samples !== null ? `${probe.samples} test examples: one example is ${(100 / probe.samples).toFixed(1)} points` : probe ? 'the probe\'s sample size is not recorded (no standard error)' : null,
    'a published figure (config/published.ts, from spec/PAPERS.md) is shown only where the run\'s config names the paper setting it reproduces and the evaluation is the same protocol on the same benchmark',
  ].filter((n): n is string => n !== null);
  const papers = papersTable(run, notes);
  return html`<div class="headline">${table(['model', metric, 'published (paper)', 'video → audio R@1', 'audio → video R@1'], rows, 'headline')}${papers}<p class="note">± is one standard error; ${captions.join('; ')}.</p>${notes.render()}</div>`;
}

export function overviewSection(run: RunInputs): Section {
  const rows = runHighlights(run);
  const headline = headlineTable(run);
  const link = (id: string, text: string): SafeHtml => html`<a href="#${id}">${text}</a>`;
  const body = rows.length
    ? html`${headline ?? ''}${table(['', 'value', ''], rows.map((r) => [link(r.section, r.label), r.value, r.detail]), 'overview')}`
    : html`<p class="not-available">Not available for this run (no results yet: <code>avid eval-av --checkpoint &lt;run dir&gt; --labels &lt;labels.csv&gt;</code> writes the probe and retrieval results).</p>`;
  return { id: 'overview', title: 'At a glance', status: rows.length ? 'ok' : 'missing', body };
}

/** The highlights as aligned plain text, for the terminal. */
export function formatHighlights(rows: Highlight[]): string {
  const width = Math.max(0, ...rows.map((r) => r.label.length));
  const valueWidth = Math.max(0, ...rows.map((r) => r.value.length));
  return rows.map((r) => `  ${r.label.padEnd(width)}  ${r.value.padStart(valueWidth)}  ${r.detail}`).join('\n');
}
