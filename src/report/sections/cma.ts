// Cross-modal agreement: how precise each way of building positive sets is (precision@K against the true
// classes), and, for a few anchors, the clips CMA accepted as positives next to the look-alikes it rejected
// because they agreed in one modality only.
import { formatNumber, formatPercent, html, isFractionScale, type SafeHtml } from '../html.js';
import type { RunInputs } from '../load-run.js';
import type { CmaNeighbour } from '../run-files.js';
import { imageElement, table, unavailableSection, type Section, type SectionContext } from '../section.js';

const VARIANT_NAMES: Record<string, string> = {
  agreement: 'cross-modal agreement (CMA): close in both spaces',
  union: 'union: close in either space',
  video: 'video space only',
  audio: 'audio space only',
};
const MAX_EXAMPLES = 6;

function card(context: SectionContext, item: { file: string; thumbnail: string; label?: string }, sims: SafeHtml | string): SafeHtml {
  return html`<figure class="thumb">${imageElement(context.media, item.thumbnail, item.label ? `${item.label}: ${item.file}` : item.file)}<figcaption>${item.label ? html`<span class="class-name">${item.label}</span>` : ''}<span class="file">${item.file}</span>${sims}</figcaption></figure>`;
}

function similarities(n: CmaNeighbour): SafeHtml {
  return html`<span class="sims">video ${formatNumber(n.videoSim, 3)} · audio ${formatNumber(n.audioSim, 3)}</span>`;
}

export function cmaSection(run: RunInputs, context: SectionContext): Section {
  const id = 'cma';
  const title = 'Cross-modal agreement (CMA)';
  const unavailable = unavailableSection(id, title, run.cma);
  if (unavailable || run.cma.status !== 'ok') return unavailable!;
  const cma = run.cma.value;
  const variants = Object.entries(cma.precision);
  const fraction = isFractionScale(variants.map(([, v]) => v));
  const precision = table(
    ['positive set', `precision@${cma.k}`],
    variants.map(([name, value]) => [VARIANT_NAMES[name] ?? name, formatPercent(value, fraction)]),
  );
  const examples = cma.examples.slice(0, MAX_EXAMPLES).map(
    (example, i) => html`<div class="cma-example"><h3>Anchor ${i + 1}</h3><div class="thumb-row">${card(context, example.anchor, html`<span class="sims">anchor</span>`)}</div>
<h4>Positives (agree in both spaces)</h4><div class="thumb-row positives">${example.positives.length ? example.positives.map((p) => card(context, p, similarities(p))) : html`<p class="note">none</p>`}</div>
<h4>Rejected look-alikes (agree in one space only)</h4><div class="thumb-row rejected">${example.rejected.length ? example.rejected.map((r) => card(context, r, similarities(r))) : html`<p class="note">none</p>`}</div></div>`,
  );
  const more = cma.examples.length > MAX_EXAMPLES ? html`<p class="note">${cma.examples.length - MAX_EXAMPLES} more anchors in results/cma.json are not shown.</p>` : '';
  return {
    id,
    title,
    status: 'ok',
    body: html`${precision}${examples.length ? examples : html`<p class="note">No example anchors in results/cma.json.</p>`}${more}`,
  };
}
