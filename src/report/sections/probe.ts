// Linear-probe accuracy per block: the run's model, any other models the evaluation scored (e.g. Cross-AVID
// before CMA) and random initialisation, with one standard error per bar and the chance level, so that a
// reader sees at once which gaps are larger than the noise of the test set.
import { html } from '../html.js';
import type { RunInputs } from '../load-run.js';
import { probeScores } from '../run-scores.js';
import { table, unavailableSection, type Section } from '../section.js';
import { formatPoints, formatWithError, proportionStandardError } from '../standard-error.js';
import { barChart } from '../svg-plot.js';
import { confusionMatrixTable, perClassTable } from '../per-class.js';

export function probeSection(run: RunInputs): Section {
  const id = 'probe';
  const title = 'Linear probes per block';
  const unavailable = unavailableSection(id, title, run.probe);
  if (unavailable || run.probe.status !== 'ok') return unavailable!;
  const scores = probeScores(run)!;
  if (scores.blocks.length === 0)
    return { id, title, status: 'missing', body: html`<p class="not-available">Not available for this run (results/probe.json lists no blocks; written by <code>avid eval-av --checkpoint &lt;run dir&gt; --labels &lt;labels.csv&gt;</code>).</p>` };
  // Models in a fixed order: the run's own, the others the evaluation named, random initialisation last.
  const models: string[] = ['pretrained'];
  for (const b of scores.blocks) for (const m of Object.keys(b.scores)) if (m !== 'pretrained' && m !== 'random' && !models.includes(m)) models.push(m);
  models.push('random');
  const display = (m: string) => (m === 'pretrained' ? scores.pretrainedName : m === 'random' ? 'random init' : m);
  const n = scores.samples;
  const chart = barChart({
    title: `${scores.metric} per block`,
    xLabel: 'block',
    yLabel: `${scores.metric} (%)`,
    seriesNames: models.map(display),
    groups: scores.blocks.map((b) => ({ label: b.block, values: models.map((m) => 100 * (b.scores[m] ?? Number.NaN)) })),
    errors: n === null ? undefined : scores.blocks.map((b) => models.map((m) => (b.scores[m] === undefined ? null : 100 * proportionStandardError(b.scores[m], n)))),
    references: scores.chance === null ? [] : [{ value: 100 * scores.chance, label: `chance ${(100 * scores.chance).toFixed(1)}%` }],
    yMax: 100,
    format: (v) => `${v.toFixed(1)}%`,
  });
  const best = scores.blocks.reduce((a, b) => (b.scores.pretrained > a.scores.pretrained ? b : a));
  const rows = scores.blocks.map((b) => [b.block, ...models.map((m) => (b.scores[m] === undefined ? null : formatWithError(b.scores[m], n))), formatPoints(b.scores.pretrained - b.scores.random)]);
  const caption = [
    `Probe accuracy per block for ${models.map(display).join(', ')}`,
    n === null ? 'no error bars: results/probe.json does not record how many test examples were scored' : `whiskers: one standard error over ${n} test examples (one example is ${(100 / n).toFixed(1)} points)`,
    scores.chance === null ? 'chance unknown (no class list)' : `dashed line: chance with ${scores.classes!.length} classes`,
  ].join('; ');
  // Per class: which classes each recorded (model, block) gets right, and what the run's own model mistakes them for.
  const confusions = scores.confusion.map((c) => ({ name: `${display(c.model)}, ${c.block}`, counts: c.counts }));
  const own = confusions.find((_, i) => scores.confusion[i].model === 'pretrained') ?? confusions[0];
  const perClass = confusions.length
    ? html`<h3>Per class</h3><p>Test examples of each class the probe classified correctly (${scores.metric}).</p>${perClassTable(confusions, scores.classes)}
<h3>Confusion matrix: ${own.name}</h3><p>Rows: the true class; columns: the class the probe predicted; the diagonal is correct.</p>${confusionMatrixTable(own, scores.classes)}`
    : html`<p class="not-available">No per-class accuracy: results/probe.json records no confusion counts (runs evaluated before they were recorded).</p>`;
  return {
    id,
    title,
    status: 'ok',
    body: html`<p>Protocol: ${scores.protocol}. Best block: <strong>${best.block}</strong> at ${formatWithError(best.scores.pretrained, n)} (random init: ${formatWithError(best.scores.random, n)}).</p>
<figure class="chart"><div class="plots">${chart}</div><figcaption>${caption}.</figcaption></figure>${table(['block', ...models.map((m) => `${display(m)} (${scores.metric})`), `gain of ${scores.pretrainedName} over random init`], rows)}${perClass}`,
  };
}
