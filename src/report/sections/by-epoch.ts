// Downstream accuracy against pre-training epochs (`avid ablate-epochs`): the curve with its ±1 SE band, the
// chance and random-initialisation levels, and the table behind it.
import { html } from '../html.js';
import type { RunInputs } from '../load-run.js';
import { table, unavailableSection, type Section } from '../section.js';
import { accuracyCurve } from '../accuracy-curve.js';

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

export function byEpochSection(run: RunInputs): Section {
  const id = 'by-epoch';
  const title = 'Downstream accuracy by epoch';
  const unavailable = unavailableSection(id, title, run.byEpoch);
  if (unavailable || run.byEpoch.status !== 'ok') return unavailable!;
  const r = run.byEpoch.value;
  const chance = r.epochs[0]?.chance ?? r.randomInit?.chance;
  const levels = [
    ...(chance !== undefined ? [{ name: 'chance', y: chance }] : []),
    ...(r.randomInit ? [{ name: 'random init', y: r.randomInit.accuracy, se: r.randomInit.se }] : []),
  ];
  // The protocol's long description is in the paragraph above the chart; a title that long overflows the plot.
  const chart = accuracyCurve({
    title: 'downstream accuracy against pre-training epochs',
    xLabel: 'pre-training epoch',
    points: r.epochs.map((e) => ({ x: e.epoch, y: e.accuracy, se: e.se, label: `epoch ${e.epoch}` })),
    levels,
  });
  const rows = [
    ...(r.randomInit ? [['random init', pct(r.randomInit.accuracy), pct(r.randomInit.se), pct(r.randomInit.chance), r.randomInit.n]] : []),
    ...r.epochs.map((e) => [String(e.epoch), pct(e.accuracy), pct(e.se), pct(e.chance), e.n]),
  ];
  return {
    id,
    title,
    status: 'ok',
    body: html`<p>Protocol: ${r.protocol} (${r.metric}). Every kept checkpoint and a random initialisation of the same architecture, evaluated with the same settings; SE: binomial standard error over the n test predictions.</p>
<div class="plots">${chart}</div>${table(['epoch', 'accuracy', 'SE', 'chance', 'n'], rows)}`,
  };
}
