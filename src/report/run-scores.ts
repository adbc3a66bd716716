// A run's headline scores as fractions with the number of examples behind each, so that the report can give
// every figure a standard error and a chance level, and compare runs. Written scores may be fractions (0.83)
// or percentages (83): each file's scale is decided once from all its values (see isFractionScale).
import { isFractionScale } from './html.js';
import type { RunInputs } from './load-run.js';

export interface ProbeScores {
  metric: string;
  protocol: string;
  /** Block name → model name ("pretrained", "random", others) → score as a fraction. */
  blocks: Array<{ block: string; scores: Record<string, number> }>;
  /** Display name of the run's own model. */
  pretrainedName: string;
  samples: number | null;
  classes: string[] | null;
  /** 1 / number of classes, when the classes are known. */
  chance: number | null;
  /** Confusion counts on the test examples (row = true class, column = predicted) for some (model, block) pairs. */
  confusion: Array<{ model: string; block: string; counts: number[][] }>;
}

export interface RetrievalSummary {
  v2a: number;
  a2v: number;
  randomV2a: number | null;
  queries: number | null;
  /** R@1 of a random ranking: 1 / queries. */
  chance: number | null;
}

export interface CmaPrecision {
  k: number;
  anchors: number | null;
  /** Variant (agreement, union, video, audio, ...) → precision@k as a fraction. */
  precision: Record<string, number>;
}

function toFractions<T extends Record<string, number>>(record: T, fraction: boolean): T {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, fraction ? v : v / 100])) as T;
}

export function probeScores(run: RunInputs): ProbeScores | null {
  if (run.probe.status !== 'ok') return null;
  const probe = run.probe.value;
  const entries = Object.entries(probe.blocks);
  const fraction = isFractionScale(entries.flatMap(([, b]) => Object.values(b)));
  const classes = probe.classes ?? (run.data.status === 'ok' ? run.data.value.classes ?? null : null);
  return {
    metric: probe.metric,
    protocol: probe.protocol,
    blocks: entries.map(([block, scores]) => ({ block, scores: toFractions(scores, fraction) })),
    pretrainedName: probe.pretrainedName ?? 'pretrained',
    samples: probe.samples ?? null,
    classes,
    chance: classes && classes.length ? 1 / classes.length : null,
    confusion: probe.confusion ?? [],
  };
}

/** The block where the run's own model scores best, or null without probe scores. */
export function bestBlock(scores: ProbeScores): { block: string; score: number; random: number } | null {
  let best: { block: string; score: number; random: number } | null = null;
  for (const { block, scores: s } of scores.blocks) if (!best || s.pretrained > best.score) best = { block, score: s.pretrained, random: s.random };
  return best;
}

export function retrievalSummary(run: RunInputs): RetrievalSummary | null {
  if (run.retrieval.status !== 'ok') return null;
  const r = run.retrieval.value;
  const random = r.random ? ('v2a' in r.random ? r.random.v2a.r1 : r.random.r1) : null;
  const fraction = isFractionScale([r.v2a.r1, r.v2a.r5, r.v2a.r10, r.a2v.r1, r.a2v.r5, r.a2v.r10, ...(random === null ? [] : [random])]);
  const scale = (v: number) => (fraction ? v : v / 100);
  const queries = r.queries ?? null;
  return { v2a: scale(r.v2a.r1), a2v: scale(r.a2v.r1), randomV2a: random === null ? null : scale(random), queries, chance: queries ? 1 / queries : null };
}

export function cmaPrecision(run: RunInputs): CmaPrecision | null {
  if (run.cma.status !== 'ok') return null;
  const c = run.cma.value;
  return { k: c.k, anchors: c.anchors ?? null, precision: toFractions(c.precision, isFractionScale(Object.values(c.precision))) };
}
