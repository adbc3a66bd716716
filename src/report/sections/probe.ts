// Linear-probe accuracy per block, pretrained against random initialisation: the gap is what pre-training bought.
import { formatPercent, html, isFractionScale } from '../html.js';
import type { RunInputs } from '../load-run.js';
import { table, unavailableSection, type Section } from '../section.js';
import { barChart } from '../svg-plot.js';

export function probeSection(run: RunInputs): Section {
  const id = 'probe';
  const title = 'Linear probes: pretrained vs random initialisation';
  const unavailable = unavailableSection(id, title, run.probe);
  if (unavailable || run.probe.status !== 'ok') return unavailable!;
  const probe = run.probe.value;
  const blocks = Object.entries(probe.blocks);
  if (blocks.length === 0)
    return { id, title, status: 'missing', body: html`<p class="not-available">Not available for this run (results/probe.json lists no blocks; written by <code>avid eval-av --checkpoint &lt;run dir&gt; --labels &lt;labels.csv&gt;</code>).</p>` };
  const fraction = isFractionScale(blocks.flatMap(([, b]) => [b.pretrained, b.random]));
  const format = (v: number) => formatPercent(v, fraction);
  const best = blocks.reduce((a, b) => (b[1].pretrained > a[1].pretrained ? b : a));
  const chart = barChart({
    title: `${probe.metric} per block`,
    yLabel: probe.metric,
    seriesNames: ['pretrained', 'random init'],
    groups: blocks.map(([name, b]) => ({ label: name, values: [b.pretrained, b.random] })),
    yMax: fraction ? 1 : 100,
    format,
  });
  // The gain is a difference of percentages: percentage points.
  const points = (v: number) => `${v >= 0 ? '+' : '−'}${Math.abs(fraction ? v * 100 : v).toFixed(1)} pts`;
  const rows = blocks.map(([name, b]) => [name, format(b.pretrained), format(b.random), points(b.pretrained - b.random)]);
  return {
    id,
    title,
    status: 'ok',
    body: html`<p>Protocol: ${probe.protocol}. Best block: <strong>${best[0]}</strong> at ${format(best[1].pretrained)} (random init: ${format(best[1].random)}).</p>
<div class="plots">${chart}</div>${table(['block', `${probe.metric} (pretrained)`, `${probe.metric} (random init)`, 'gain'], rows)}`,
  };
}
