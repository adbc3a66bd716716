// Nested, seeded subsets of a manifest for the data-size analysis: one seeded permutation of the videos, and
// each fraction takes its first round(f·N) of it, so every smaller subset lies inside every larger one (the
// 1/8 subset is inside the 1/4 one, ...) and a larger budget only ever adds videos. Each repeat draws its own
// permutation. Subsets keep the manifest's order and are re-indexed 0..n−1 (a manifest's indices are the
// instance ids of the memory banks).
import { hash32, seededRandom, shuffleInPlace } from '../data/rng.js';
import type { ManifestEntry } from '../data/manifest.js';

/** Checks 0 < f ≤ 1 for every fraction and returns them ascending, without duplicates. */
export function checkFractions(fractions: number[], what = '--fractions'): number[] {
  if (fractions.length === 0) throw new Error(`${what}: give at least one fraction`);
  for (const f of fractions) if (!(f > 0 && f <= 1)) throw new Error(`${what}: each fraction must be in (0, 1]; got ${f}`);
  return [...new Set(fractions)].sort((a, b) => a - b);
}

/** The size of a fraction of n items: round(f·n), at least 1. */
export function subsetSize(n: number, fraction: number): number {
  return Math.max(1, Math.round(fraction * n));
}

/** Indices into `n` items for each fraction (ascending indices), nested; the permutation is seeded by (seed, repeat). */
export function nestedSubsetIndices(n: number, fractions: number[], seed: number, repeat: number): Map<number, number[]> {
  const order = Array.from({ length: n }, (_, i) => i);
  shuffleInPlace(order, seededRandom(hash32(seed, repeat, 'data-size subsets')));
  const out = new Map<number, number[]>();
  for (const f of checkFractions(fractions)) out.set(f, order.slice(0, subsetSize(n, f)).sort((a, b) => a - b));
  return out;
}

/** The manifest entries of a subset, re-indexed 0..n−1. */
export function subsetEntries(entries: ManifestEntry[], indices: number[]): ManifestEntry[] {
  return indices.map((i, index) => ({ ...entries[i], index }));
}
