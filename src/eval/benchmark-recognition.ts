// Which public benchmark a labelled sound collection is, recognised from what it holds rather than from its
// folder's name: the report sets a paper's figure beside a result only when both are on the same benchmark.
// Only benchmarks whose shape is unmistakable are recognised; anything else is null (no paper comparison).
import type { BenchmarkId } from '../config/published.js';
import type { LabelSet } from './labels.js';

interface BenchmarkShape {
  id: BenchmarkId;
  classes: number;
  samples: number;
  folds: number[];
}

// ESC-50: 2,000 five-second clips, 50 classes of 40, five folds. ESC-10: its 400-clip, 10-class subset.
const ESC_SHAPES: BenchmarkShape[] = [
  { id: 'esc-50', classes: 50, samples: 2000, folds: [1, 2, 3, 4, 5] },
  { id: 'esc-10', classes: 10, samples: 400, folds: [1, 2, 3, 4, 5] },
];

/**
 * The benchmark `labels` is, or null. `escNamed`: the labels came from ESC's own file names (NNN_-_Class_F-ID-T),
 * which only the ESC collections use; a CSV of the same size is not taken for ESC.
 */
export function recogniseBenchmark(labels: LabelSet, escNamed: boolean): BenchmarkId | null {
  if (!escNamed) return null;
  const folds = [...new Set(labels.entries.map((e) => e.fold))].sort((a, b) => a - b);
  const perClass = new Map<number, number>();
  for (const e of labels.entries) perClass.set(e.label, (perClass.get(e.label) ?? 0) + 1);
  for (const shape of ESC_SHAPES) {
    const balanced = [...perClass.values()].every((n) => n === shape.samples / shape.classes);
    if (labels.classNames.length === shape.classes && labels.entries.length === shape.samples && balanced && folds.join() === shape.folds.join()) return shape.id;
  }
  return null;
}
