// CMA diagnostics of a run's memory banks: the measures of ssl/cma-measures.ts over every agreement kind
// (and score normalisation), plus a linear probe of the memory representations, and the tables the report
// shows. Here rather than in ssl/ because the memory probe is an evaluation (eval/linear-probe).
import * as T from '../tensor/index.js';
import { minePositives, type AgreementKind, type ScoreNormalisation } from '../ssl/cma-mining.js';
import { AGREEMENT_KINDS, COMBINED_KINDS, collapse, positiveBreakdown, topKOverlap, similarityCorrelation, classSeparation, type Banks, type BankAgreement, type PositiveBreakdown, type Normalised, type ClassSeparation } from '../ssl/cma-measures.js';
import { linearProbeFolds } from './linear-probe.js';
import type { ProtocolSample } from './svm-protocol.js';

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
