// The embedding map: clips placed in 2-D (given by the evaluator, or by t-SNE on the raw vectors here) and
// coloured by class, with a legend whose entries hide and show their class.
import { html, type SafeHtml } from '../html.js';
import type { RunInputs } from '../load-run.js';
import { couldNotRead, notAvailable, type Section, type SectionContext } from '../section.js';
import { scatterPlot } from '../svg-plot.js';
import { classColours } from '../class-colours.js';
import { TSNE_MAX_POINTS, seededRandom, tsne } from '../tsne.js';

interface MapPoint {
  x: number;
  y: number;
  label: string;
  file?: string;
}

/** A seeded choice of `count` of `n` indices, in their original order. */
function subsample(n: number, count: number, seed: number): number[] {
  const random = seededRandom(seed);
  const indices = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [indices[i], indices[j]] = [indices[j], indices[i]];
  }
  return indices.slice(0, count).sort((a, b) => a - b);
}

function mapFromVectors(run: RunInputs, context: SectionContext): { points: MapPoint[]; note: string } | null {
  if (run.embeddings.status !== 'ok') return null;
  const { vectors, labels, files } = run.embeddings.value;
  const limit = Math.min(context.embeddingMaxPoints, TSNE_MAX_POINTS);
  const chosen = vectors.length > limit ? subsample(vectors.length, limit, context.seed) : vectors.map((_, i) => i);
  const started = Date.now();
  const layout = tsne(chosen.map((i) => vectors[i]), { seed: context.seed, iterations: context.tsneIterations });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const points = chosen.map((i, k) => ({ x: layout[2 * k], y: layout[2 * k + 1], label: labels[i], file: files?.[i] }));
  const sampled = chosen.length < vectors.length ? ` on a seeded sample of ${chosen.length} of the ${vectors.length} clips` : '';
  return { points, note: `t-SNE of ${vectors[0]?.length ?? 0}-dimensional embeddings${sampled} (perplexity 30, seed ${context.seed}, ${seconds} s).` };
}

function legend(labels: string[], colours: string[], counts: Map<string, number>): SafeHtml {
  return html`<ul class="legend-list">${labels.map(
    (label, i) => html`<li><button type="button" class="legend-entry" data-group="${i}" aria-pressed="true"><span class="swatch" style="background:${colours[i]}"></span><span class="label">${label}</span> <span class="count">(${counts.get(label)})</span></button></li>`,
  )}</ul>`;
}

export function embeddingSection(run: RunInputs, context: SectionContext): Section {
  const id = 'embedding';
  const title = 'Embedding map';
  let points: MapPoint[];
  let note: string;
  const modality = run.embedding.status === 'ok' ? run.embedding.value.modality : run.embeddings.status === 'ok' ? run.embeddings.value.modality : undefined;
  if (run.embedding.status === 'ok') {
    points = run.embedding.value.points;
    note = 'Layout from results/embedding.json.';
  } else {
    const mapped = mapFromVectors(run, context);
    if (!mapped) {
      const problems = [run.embedding, run.embeddings].filter((l) => l.status === 'invalid');
      if (problems.length)
        return { id, title, status: 'invalid', body: html`${problems.map((p) => (p.status === 'invalid' ? couldNotRead(p.error) : ''))}` };
      return { id, title, status: 'missing', body: notAvailable([run.embedding.file, run.embeddings.file]) };
    }
    ({ points, note } = mapped);
  }
  if (points.length === 0) return { id, title, status: 'missing', body: html`<p class="not-available">Not available for this run (no points).</p>` };
  const counts = new Map<string, number>();
  for (const p of points) counts.set(p.label, (counts.get(p.label) ?? 0) + 1);
  const labels = [...counts.keys()].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  const group = new Map(labels.map((l, i) => [l, i]));
  // A class named after a colour ("red-circle…") is drawn in it; the others take palette colours.
  const colours = classColours(labels);
  const plot = scatterPlot({
    colours,
    title: modality ? `${modality[0].toUpperCase()}${modality.slice(1)} embeddings, coloured by class` : 'Clips coloured by class (modality not recorded)',
    points: points.map((p) => ({ x: p.x, y: p.y, group: group.get(p.label)!, tooltip: p.file ? `${p.label}: ${p.file}` : p.label })),
  });
  const repeated = new Set(colours).size < labels.length ? html`<p class="note">${labels.length} classes, ${new Set(colours).size} colours: some colours repeat.</p>` : '';
  return {
    id,
    title,
    status: 'ok',
    body: html`<p class="note">${note} Click a class in the legend to hide or show it.</p><div class="embedding">${plot}${legend(labels, colours, counts)}</div>${repeated}`,
  };
}
