// Standard errors of accuracies and recalls, and the verdict the report prints when two of them are compared.
// A score over n test examples is a proportion: its standard error is sqrt(p (1 - p) / n). Two scores from
// different models on the same test set are treated as independent (conservative for paired data), so the
// difference has standard error sqrt(se1² + se2²).

/** Standard error of a proportion `p` (a fraction, 0..1) measured over `n` examples. */
export function proportionStandardError(p: number, n: number): number {
  if (!Number.isFinite(p) || p < 0 || p > 1) throw new Error(`proportionStandardError: p must be a fraction in [0, 1], got ${p}`);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`proportionStandardError: n must be a positive integer, got ${n}`);
  return Math.sqrt((p * (1 - p)) / n);
}

export interface ScoreComparison {
  /** b − a, as a fraction. */
  difference: number;
  /** Standard error of the difference, or null when a sample size is unknown. */
  standardError: number | null;
  /** |difference| in standard errors (null without a standard error, Infinity for a difference with SE 0). */
  errors: number | null;
  verdict: 'higher' | 'lower' | 'within one standard error' | 'equal' | 'no standard error';
}

/** Compares score `b` with score `a` (fractions), each over its own number of examples (null: unknown). */
export function compareScores(a: number, nA: number | null, b: number, nB: number | null): ScoreComparison {
  const difference = b - a;
  if (nA === null || nB === null) return { difference, standardError: null, errors: null, verdict: difference === 0 ? 'equal' : 'no standard error' };
  const standardError = Math.hypot(proportionStandardError(a, nA), proportionStandardError(b, nB));
  if (difference === 0) return { difference, standardError, errors: 0, verdict: 'equal' };
  const errors = standardError === 0 ? Infinity : Math.abs(difference) / standardError;
  const verdict = errors <= 1 ? 'within one standard error' : difference > 0 ? 'higher' : 'lower';
  return { difference, standardError, errors, verdict };
}

/** "+6.3 pts" / "−2.1 pts": a difference of fractions in percentage points. */
export function formatPoints(difference: number): string {
  return `${difference >= 0 ? '+' : '−'}${Math.abs(difference * 100).toFixed(1)} pts`;
}

/** "66.7% ± 6.8" (the ± is one standard error, in points), or "66.7%" when n is unknown. */
export function formatWithError(p: number, n: number | null): string {
  const value = `${(p * 100).toFixed(1)}%`;
  return n === null ? value : `${value} ± ${(proportionStandardError(p, n) * 100).toFixed(1)}`;
}
