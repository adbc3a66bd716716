// Per-class accuracy and the confusion matrix of a probe, from its confusion counts: which classes a model
// gets right and which it mistakes for which, named by class (a score over all classes hides a class the
// model never gets). Counts are shown as counts: with a few test examples per class a percentage alone
// would suggest a precision the split does not have.
import { html, type SafeHtml } from './html.js';
import { table, type Cell } from './section.js';

export interface ConfusionCounts {
  /** Display name of the model and its block, e.g. "CMA, video conv5x". */
  name: string;
  /** counts[t][p]: test examples of true class t predicted as class p. */
  counts: number[][];
}

const className = (classes: string[] | null, k: number) => classes?.[k] ?? `class ${k}`;

/** Correct / total per true class (total 0 where a class has no test example). */
export function perClassAccuracy(counts: number[][]): Array<{ correct: number; total: number }> {
  return counts.map((row, t) => ({ correct: row[t] ?? 0, total: row.reduce((a, b) => a + b, 0) }));
}

/** One row per class, one column per model: "correct / total (percent)". */
export function perClassTable(entries: ConfusionCounts[], classes: string[] | null): SafeHtml {
  const size = Math.max(...entries.map((e) => e.counts.length));
  const accuracies = entries.map((e) => perClassAccuracy(e.counts));
  const rows: Cell[][] = Array.from({ length: size }, (_, k) => [
    className(classes, k),
    ...accuracies.map((a) => {
      const c = a[k];
      if (!c || c.total === 0) return null;
      return `${c.correct} / ${c.total} (${((100 * c.correct) / c.total).toFixed(0)}%)`;
    }),
  ]);
  return table(['class', ...entries.map((e) => e.name)], rows, 'per-class');
}

/** The matrix itself: rows are true classes, columns predictions; the diagonal is marked as correct. */
export function confusionMatrixTable(entry: ConfusionCounts, classes: string[] | null): SafeHtml {
  const header: Cell[] = [html`true ↓ / predicted →`, ...entry.counts.map((_, k) => className(classes, k))];
  const rows: Cell[][] = entry.counts.map((row, t) => [
    html`<strong>${className(classes, t)}</strong>`,
    // Every count as markup (not a number cell, which table() right-aligns), so the columns line up.
    ...row.map((n, p) => (t === p ? html`<strong class="correct">${n}</strong>` : n === 0 ? html`<span class="zero">0</span>` : html`<span class="wrong">${n}</span>`)),
  ]);
  return table(header, rows, 'confusion');
}
