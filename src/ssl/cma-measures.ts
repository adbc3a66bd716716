// Measures of CMA memory banks against labels: precision@K of the positive sets each agreement kind mines
// (is agreement more precise than within-modal expansion?), where the wrong positives come from (the
// anchor's look-alike or sound-alike twin class, or elsewhere), how class-separated each bank is, how much
// the two banks say the same thing, the collapse measure (mean inner product of random pairs), and example
// anchors with their agreed positives and the look-alikes agreement rejected.
import * as T from '../tensor/index.js';
import { minePositives, positivePrecision, type AgreementKind, type ScoreNormalisation } from './cma-mining.js';
import { meanRandomPairSimilarity } from './memory-bank.js';

export interface Banks {
  video: T.Tensor;
  audio: T.Tensor;
}

export function precisionTable(banks: Banks, labels: number[], k: number, normalisation: ScoreNormalisation = 'none'): Record<AgreementKind, number> {
  const out = {} as Record<AgreementKind, number>;
  for (const kind of ['agreement', 'union', 'video', 'audio'] as const) {
    const positives = minePositives(banks.video, banks.audio, { k, kind, normalisation });
    out[kind] = positivePrecision(positives, labels);
    positives.dispose();
  }
  return out;
}

/** Mean inner product of random pairs of distinct rows of each bank. */
export function collapse(banks: Banks): { video: number; audio: number } {
  return { video: meanRandomPairSimilarity(banks.video), audio: meanRandomPairSimilarity(banks.audio) };
}

export interface AnchorExample {
  anchor: number;
  positives: { index: number; videoSim: number; audioSim: number }[];
  rejected: { index: number; videoSim: number; audioSim: number }[];
}

/**
 * For an anchor: its top-k agreement positives, and the instances most similar in one modality that
 * agreement did not keep (the look-alikes and sound-alikes it rejected).
 */
export function anchorExample(banks: Banks, anchor: number, k: number): AnchorExample {
  return T.tidy(() => {
    const sv = banks.video.narrow(0, anchor, 1).matmul(banks.video.T).squeeze(0);
    const sa = banks.audio.narrow(0, anchor, 1).matmul(banks.audio.T).squeeze(0);
    const vs = sv.toArray();
    const as = sa.toArray();
    const others = vs.map((_, j) => j).filter((j) => j !== anchor);
    const byAgreement = [...others].sort((x, y) => Math.min(vs[y], as[y]) - Math.min(vs[x], as[x]));
    const kept = new Set(byAgreement.slice(0, k));
    const byVideo = [...others].sort((x, y) => vs[y] - vs[x]).filter((j) => !kept.has(j));
    const byAudio = [...others].sort((x, y) => as[y] - as[x]).filter((j) => !kept.has(j));
    const half = Math.ceil(k / 2);
    const lookAlikes = byVideo.slice(0, half);
    const rejected = [...lookAlikes, ...byAudio.filter((j) => !lookAlikes.includes(j)).slice(0, k - half)];
    const row = (j: number) => ({ index: j, videoSim: vs[j], audioSim: as[j] });
    return { anchor, positives: byAgreement.slice(0, k).map(row), rejected: rejected.map(row) };
  });
}


export const AGREEMENT_KINDS: readonly AgreementKind[] = ['agreement', 'union', 'video', 'audio'];
/** The kinds that combine two modalities, the only ones a score normalisation changes. */
export const COMBINED_KINDS = ['agreement', 'union'] as const;
/** The normalisations beside raw cosines ('none'), which `positives` always holds. */
export type Normalised = Exclude<ScoreNormalisation, 'none'>;

/** Where the positives of one agreement kind fall: the anchor's class, its confusable twin, or elsewhere. */
export interface PositiveBreakdown {
  precision: number;
  /** Standard error of the precision over anchors (std of per-anchor precision / √anchors). */
  stdErr: number;
  /** Share of positives in the anchor's twin class (0 when no twins are given). */
  twin: number;
  /** Share of positives in any other class. */
  other: number;
  /** Precision of the anchors of each class, by label. */
  perClass: Record<string, number>;
}

/**
 * Splits positive sets by where each positive falls. `twinOf[c]` is class c's confusable twin (look-alike or
 * sound-alike), or undefined; anchors with a negative label (unlabelled) are skipped.
 */
export function positiveBreakdown(positives: T.Tensor, labels: number[], twinOf: Record<number, number> = {}): PositiveBreakdown {
  const ids = positives.toArray();
  const k = positives.size(1);
  let same = 0;
  let twin = 0;
  let scored = 0;
  const perAnchor: number[] = [];
  const perClass = new Map<number, { hits: number; total: number }>();
  for (let i = 0; i < positives.size(0); i++) {
    if (!(labels[i] >= 0)) continue;
    const c = perClass.get(labels[i]) ?? { hits: 0, total: 0 };
    let anchorHits = 0;
    for (let j = 0; j < k; j++) {
      const l = labels[ids[i * k + j]];
      if (l === labels[i]) {
        same++;
        c.hits++;
        anchorHits++;
      } else if (twinOf[labels[i]] !== undefined && l === twinOf[labels[i]]) twin++;
    }
    c.total += k;
    scored += k;
    perAnchor.push(anchorHits / k);
    perClass.set(labels[i], c);
  }
  const out: Record<string, number> = {};
  for (const [label, c] of [...perClass].sort((a, b) => a[0] - b[0])) out[String(label)] = c.hits / c.total;
  const mean = same / scored;
  const variance = perAnchor.reduce((a, x) => a + (x - mean) ** 2, 0) / Math.max(perAnchor.length - 1, 1);
  return { precision: mean, stdErr: Math.sqrt(variance / perAnchor.length), twin: twin / scored, other: (scored - same - twin) / scored, perClass: out };
}

/**
 * How much the two banks say the same thing. Agreement can only choose other positives than within-modal
 * expansion where the banks disagree: `overlap` is the mean share of an anchor's video-only top-K that is
 * also in its audio-only top-K (1: agreement mines what either bank alone would), and `correlation` the mean
 * over anchors of the Pearson correlation between vᵢ·vⱼ and aᵢ·aⱼ over j ≠ i.
 */
export interface BankAgreement {
  overlap: number;
  correlation: number;
}

export function topKOverlap(a: T.Tensor, b: T.Tensor): number {
  const [n, k] = a.shape;
  if (b.size(0) !== n || b.size(1) !== k) throw new Error(`topKOverlap: positive sets of shape [${a.shape}] and [${b.shape}] differ`);
  const x = a.toArray();
  const y = b.toArray();
  let shared = 0;
  for (let i = 0; i < n; i++) {
    const row = new Set(Array.from({ length: k }, (_, j) => Number(y[i * k + j])));
    for (let j = 0; j < k; j++) if (row.has(Number(x[i * k + j]))) shared++;
  }
  return shared / (n * k);
}

export function similarityCorrelation(banks: Banks): number {
  const n = banks.video.size(0);
  const v = T.tidy(() => banks.video.matmul(banks.video.T).toFloat32Array());
  const a = T.tidy(() => banks.audio.matmul(banks.audio.T).toFloat32Array());
  let total = 0;
  for (let i = 0; i < n; i++) {
    let sv = 0, sa = 0, svv = 0, saa = 0, sva = 0;
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const p = v[i * n + j];
      const q = a[i * n + j];
      sv += p; sa += q; svv += p * p; saa += q * q; sva += p * q;
    }
    const m = n - 1;
    const cov = sva / m - (sv / m) * (sa / m);
    const varV = svv / m - (sv / m) ** 2;
    const varA = saa / m - (sa / m) ** 2;
    total += varV > 0 && varA > 0 ? cov / Math.sqrt(varV * varA) : 0;
  }
  return total / n;
}

/** Mean cosine between rows of one bank: within a class, with the twin class, with the other classes. */
export interface ClassSeparation {
  within: number;
  twin: number;
  other: number;
}

export function classSeparation(bank: T.Tensor, labels: number[], twinOf: Record<number, number> = {}): ClassSeparation {
  const n = bank.size(0);
  const sims = T.tidy(() => bank.matmul(bank.T).toFloat32Array());
  const sum = { within: 0, twin: 0, other: 0 };
  const count = { within: 0, twin: 0, other: 0 };
  for (let i = 0; i < n; i++) {
    if (!(labels[i] >= 0)) continue;
    for (let j = 0; j < n; j++) {
      if (j === i || !(labels[j] >= 0)) continue;
      const where = labels[j] === labels[i] ? 'within' : twinOf[labels[i]] === labels[j] ? 'twin' : 'other';
      sum[where] += sims[i * n + j];
      count[where]++;
    }
  }
  const mean = (w: keyof ClassSeparation) => (count[w] ? sum[w] / count[w] : NaN);
  return { within: mean('within'), twin: mean('twin'), other: mean('other') };
}

/** Confusable twins from a synthetic world's world.json (`confusablePairs`), as class → twin class. */
export function twinsFromWorld(world: { confusablePairs?: { classes: number[] }[] }): Record<number, number> {
  const out: Record<number, number> = {};
  for (const p of world.confusablePairs ?? []) {
    if (p.classes.length !== 2) continue;
    out[p.classes[0]] = p.classes[1];
    out[p.classes[1]] = p.classes[0];
  }
  return out;
}
