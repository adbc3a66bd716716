// CMA diagnostics on memory banks: precision@K of the positive sets of each agreement kind against labels
// (is agreement more precise than within-modal expansion?), where the wrong positives come from (the
// anchor's look-alike or sound-alike twin class, or elsewhere), how class-separated each bank is, a linear
// probe of the memory representations (video, audio, both), the collapse measure (mean inner product of
// random pairs), and example anchors with their agreed positives and the look-alikes agreement rejected.
import * as T from '../tensor/index.js';
import { minePositives, positivePrecision, type AgreementKind, type ScoreNormalisation } from '../ssl/cma-mining.js';
import { meanRandomPairSimilarity } from '../ssl/memory-bank.js';
import { linearProbeFolds } from '../eval/linear-probe.js';
import type { ProtocolSample } from '../eval/svm-protocol.js';
import { appendMetric, type EpochMetric } from '../report/index.js';

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

/** An instance of the memory banks, as the probe sees it: its label, fold and recording group. */
export type BankSample = ProtocolSample;

/**
 * Linear probe of the memory representations: softmax regression on the video bank, the audio bank and both
 * concatenated, cross-validated over the samples' folds (each fold held out in turn); mean accuracy. Only
 * labelled instances (label ≥ 0) take part. Which modality carries which class shows here: on the synthetic
 * world a video bank confuses look-alike twins and an audio bank sound-alike twins, both together neither.
 */
export function memoryProbe(banks: Banks, samples: BankSample[], options: { steps?: number; seed?: number } = {}): { video: number; audio: number; both: number } {
  const keep = samples.map((s, i) => (s.label >= 0 ? i : -1)).filter((i) => i >= 0);
  const kept = keep.map((i) => samples[i]);
  const classes = [...new Set(kept.map((s) => s.label))].sort((a, b) => a - b);
  const relabel = new Map(classes.map((c, i) => [c, i]));
  const probeSamples = kept.map((s) => ({ ...s, label: relabel.get(s.label)! }));
  const rows = (bank: T.Tensor) => T.tidy(() => bank.indexSelect(0, T.tensor(BigInt64Array.from(keep.map(BigInt)), [keep.length])).toFloat32Array());
  const probe = (data: Float32Array, cols: number) =>
    linearProbeFolds(probeSamples, { features: { data, rows: keep.length, cols }, sampleOfClip: keep.map((_, i) => i) }, classes.length, { steps: options.steps ?? 200, seed: options.seed ?? 0 }).meanClipAccuracy;
  const v = rows(banks.video);
  const a = rows(banks.audio);
  const dv = banks.video.size(1);
  const da = banks.audio.size(1);
  const both = new Float32Array(keep.length * (dv + da));
  for (let i = 0; i < keep.length; i++) {
    both.set(v.subarray(i * dv, (i + 1) * dv), i * (dv + da));
    both.set(a.subarray(i * da, (i + 1) * da), i * (dv + da) + dv);
  }
  return { video: probe(v, dv), audio: probe(a, da), both: probe(both, dv + da) };
}

export interface BankDiagnostics {
  k: number;
  /** Labelled instances scored. */
  n: number;
  /** Raw cosines (the paper's min / max). */
  positives: Record<AgreementKind, PositiveBreakdown>;
  /** Agreement and union with each modality's similarities normalised per anchor row first, when asked for. */
  normalised: Partial<Record<Normalised, Record<(typeof COMBINED_KINDS)[number], PositiveBreakdown>>>;
  separation: { video: ClassSeparation; audio: ClassSeparation };
  agreement: BankAgreement;
  probe: { video: number; audio: number; both: number } | null;
  collapse: { video: number; audio: number };
}

/** Every diagnostic of a pair of memory banks against the instances' labels. */
export function diagnoseBanks(banks: Banks, samples: BankSample[], o: { k: number; twinOf?: Record<number, number>; probe?: boolean; normalisations?: ScoreNormalisation[] }): BankDiagnostics {
  const labels = samples.map((s) => s.label);
  const mine = (kind: AgreementKind, normalisation: ScoreNormalisation) => minePositives(banks.video, banks.audio, { k: o.k, kind, normalisation });
  const breakdown = (kind: AgreementKind, normalisation: ScoreNormalisation) => {
    const mined = mine(kind, normalisation);
    try {
      return positiveBreakdown(mined, labels, o.twinOf);
    } finally {
      mined.dispose();
    }
  };
  // Raw kinds are mined once each; the video-only and audio-only sets are kept for their overlap.
  const positives = {} as Record<AgreementKind, PositiveBreakdown>;
  const raw = new Map<AgreementKind, T.Tensor>();
  let overlap: number;
  try {
    for (const kind of AGREEMENT_KINDS) {
      const mined = mine(kind, 'none');
      raw.set(kind, mined);
      positives[kind] = positiveBreakdown(mined, labels, o.twinOf);
    }
    overlap = topKOverlap(raw.get('video')!, raw.get('audio')!);
  } finally {
    for (const mined of raw.values()) mined.dispose();
  }
  const normalised: BankDiagnostics['normalised'] = {};
  for (const how of new Set(o.normalisations ?? [])) {
    if (how === 'none') continue;
    normalised[how] = { agreement: breakdown('agreement', how), union: breakdown('union', how) };
  }
  const folds = new Set(samples.filter((s) => s.label >= 0).map((s) => s.fold));
  return {
    k: o.k,
    n: labels.filter((l) => l >= 0).length,
    positives,
    normalised,
    separation: { video: classSeparation(banks.video, labels, o.twinOf), audio: classSeparation(banks.audio, labels, o.twinOf) },
    agreement: { overlap, correlation: similarityCorrelation(banks) },
    probe: o.probe === false || folds.size < 2 ? null : memoryProbe(banks, samples),
    collapse: collapse(banks),
  };
}

/** The diagnostics as one epoch record of metrics.jsonl (flat scalars, so the report tabulates them). */
export function diagnosticsMetric(epoch: number, d: BankDiagnostics, phase: string): EpochMetric {
  const r = (x: number) => Math.round(1e4 * x) / 1e4;
  const record: EpochMetric = { kind: 'epoch', epoch, cmaDiagnostics: phase, cmaK: d.k, cmaLabelled: d.n };
  for (const kind of AGREEMENT_KINDS) {
    record[`precision_${kind}`] = r(d.positives[kind].precision);
    record[`precisionStdErr_${kind}`] = r(d.positives[kind].stdErr);
    record[`twinShare_${kind}`] = r(d.positives[kind].twin);
  }
  for (const [how, byKind] of Object.entries(d.normalised)) {
    for (const kind of COMBINED_KINDS) {
      record[`precision_${kind}_${how}`] = r(byKind[kind].precision);
      record[`precisionStdErr_${kind}_${how}`] = r(byKind[kind].stdErr);
      record[`twinShare_${kind}_${how}`] = r(byKind[kind].twin);
    }
  }
  if (d.probe) {
    record.memoryProbe_video = r(d.probe.video);
    record.memoryProbe_audio = r(d.probe.audio);
    record.memoryProbe_both = r(d.probe.both);
  }
  record.bankOverlap = r(d.agreement.overlap);
  record.bankSimilarityCorrelation = r(d.agreement.correlation);
  record.collapse_video = r(d.collapse.video);
  record.collapse_audio = r(d.collapse.audio);
  return record;
}

/** Appends the diagnostics to a run's metrics.jsonl. */
export function appendDiagnostics(runDir: string, epoch: number, d: BankDiagnostics, phase: string): void {
  appendMetric(runDir, diagnosticsMetric(epoch, d, phase));
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

/**
 * Result tables (results/*.json, shown by `avid report`) comparing the diagnostics of several phases (e.g.
 * the banks after Cross-AVID and after CMA): precision@K and twin share per agreement kind, and per bank the
 * class separation, the memory probe and the collapse measure.
 */
export function diagnosticsTables(phases: { name: string; d: BankDiagnostics }[]): { title: string; columns: string[]; rows: (string | number)[][] }[] {
  const r3 = (x: number) => Math.round(1000 * x) / 1000;
  const k = phases[0]?.d.k;
  return [
    {
      title: `CMA positives: precision@${k} against labels, and share from the anchor's confusable twin class`,
      columns: ['memory banks', ...AGREEMENT_KINDS.flatMap((kind) => [`${kind} precision`, `${kind} twin`]), `video/audio top-${k} overlap`, 'similarity correlation'],
      rows: phases.map(({ name, d }) => [name, ...AGREEMENT_KINDS.flatMap((kind) => [r3(d.positives[kind].precision), r3(d.positives[kind].twin)]), r3(d.agreement.overlap), r3(d.agreement.correlation)]),
    },
    {
      title: 'Memory banks: mean cosine within a class / with the twin class / with other classes, linear probe (5-fold), collapse',
      columns: ['memory banks', 'bank', 'within', 'twin', 'other', 'probe', 'probe (both banks)', 'collapse'],
      rows: phases.flatMap(({ name, d }) =>
        (['video', 'audio'] as const).map((m) => [name, m, r3(d.separation[m].within), r3(d.separation[m].twin), r3(d.separation[m].other), d.probe ? r3(d.probe[m]) : '-', d.probe ? r3(d.probe.both) : '-', r3(d.collapse[m])]),
      ),
    },
  ];
}
