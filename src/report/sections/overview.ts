// The headline numbers of the run: one small table at the top of the report, each row linking to its section,
// and the same rows as plain text for the terminal (`avid report`, the demo's closing table).
import { formatNumber, formatPercent, html, isFractionScale, type SafeHtml } from '../html.js';
import type { RunInputs } from '../load-run.js';
import { table, type Section } from '../section.js';

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

export function overviewSection(run: RunInputs): Section {
  const rows = runHighlights(run);
  const link = (id: string, text: string): SafeHtml => html`<a href="#${id}">${text}</a>`;
  const body = rows.length
    ? table(['', 'value', ''], rows.map((r) => [link(r.section, r.label), r.value, r.detail]), 'overview')
    : html`<p class="not-available">Not available for this run (no results yet: <code>avid eval-av --checkpoint &lt;run dir&gt; --labels &lt;labels.csv&gt;</code> writes the probe and retrieval results).</p>`;
  return { id: 'overview', title: 'At a glance', status: rows.length ? 'ok' : 'missing', body };
}

/** The highlights as aligned plain text, for the terminal. */
export function formatHighlights(rows: Highlight[]): string {
  const width = Math.max(0, ...rows.map((r) => r.label.length));
  const valueWidth = Math.max(0, ...rows.map((r) => r.value.length));
  return rows.map((r) => `  ${r.label.padEnd(width)}  ${r.value.padStart(valueWidth)}  ${r.detail}`).join('\n');
}
