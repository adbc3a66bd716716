// The headline numbers of the run in one small table, each linking to its section.
import { formatNumber, formatPercent, html, isFractionScale, type SafeHtml } from '../html.js';
import type { RunInputs } from '../load-run.js';
import { table, type Section } from '../section.js';

export function overviewSection(run: RunInputs): Section {
  const rows: Array<[SafeHtml, string, string]> = [];
  const link = (id: string, text: string) => html`<a href="#${id}">${text}</a>`;
  if (run.metrics.status === 'ok' && run.metrics.value.train.length) {
    const train = run.metrics.value.train;
    const last = train.reduce((a, b) => (b.step >= a.step ? b : a));
    rows.push([link('training', 'final training loss'), formatNumber(last.loss, 4), `step ${last.step}, epoch ${last.epoch}`]);
  }
  if (run.probe.status === 'ok') {
    const blocks = Object.entries(run.probe.value.blocks);
    if (blocks.length) {
      const fraction = isFractionScale(blocks.flatMap(([, b]) => [b.pretrained, b.random]));
      const [name, best] = blocks.reduce((a, b) => (b[1].pretrained > a[1].pretrained ? b : a));
      rows.push([link('probe', `best linear probe (${run.probe.value.metric})`), formatPercent(best.pretrained, fraction), `block ${name}; random init ${formatPercent(best.random, fraction)}`]);
    }
  }
  if (run.cma.status === 'ok') {
    const p = run.cma.value.precision;
    const fraction = isFractionScale(Object.values(p));
    rows.push([link('cma', `CMA precision@${run.cma.value.k}`), formatPercent(p.agreement, fraction), `union ${formatPercent(p.union, fraction)}, video ${formatPercent(p.video, fraction)}, audio ${formatPercent(p.audio, fraction)}`]);
  }
  if (run.retrieval.status === 'ok') {
    const r = run.retrieval.value;
    const fraction = isFractionScale([r.v2a.r1, r.v2a.r5, r.v2a.r10, r.a2v.r1, r.a2v.r5, r.a2v.r10]);
    rows.push([link('retrieval', 'video → audio R@1'), formatPercent(r.v2a.r1, fraction), `audio → video R@1 ${formatPercent(r.a2v.r1, fraction)}`]);
  }
  if (run.localization.status === 'ok') {
    const s = run.localization.value.score;
    const fraction = isFractionScale([s.trained, s.random]);
    rows.push([link('localization', 'localisation hit rate'), formatPercent(s.trained, fraction), `random init ${formatPercent(s.random, fraction)}`]);
  }
  if (run.data.status === 'ok') {
    rows.push([link('data', 'clips used / rejected'), `${run.data.value.entries} / ${run.data.value.rejects.length}`, run.data.value.manifest]);
  }
  const body = rows.length ? table(['', 'value', ''], rows, 'overview') : html`<p class="not-available">Not available for this run (no results yet).</p>`;
  return { id: 'overview', title: 'At a glance', status: rows.length ? 'ok' : 'missing', body };
}
