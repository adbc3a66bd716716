// The sentences at the top of a comparison, computed from the numbers: each run against the first (the
// baseline) on the linear probe and on retrieval, and, within each run, what CMA's mining bought over the
// within-modal expansion and what pre-training bought over random initialisation. A difference is called
// only when it exceeds one standard error of the difference; without sample sizes the sentence says so.
import { compareScores, formatPoints, type ScoreComparison } from './standard-error.js';
import { bestBlock, type CmaPrecision, type ProbeScores, type RetrievalSummary } from './run-scores.js';

export interface ComparedRun {
  name: string;
  probe: ProbeScores | null;
  retrieval: RetrievalSummary | null;
  cma: CmaPrecision | null;
}

const pct = (p: number) => `${(100 * p).toFixed(1)}%`;

function describe(c: ScoreComparison): string {
  const points = formatPoints(c.difference);
  if (c.verdict === 'no standard error') return `${points} (no standard error: the sample size is not recorded)`;
  if (c.verdict === 'equal') return 'the same';
  const errors = c.errors === Infinity ? 'standard error 0' : `${c.errors!.toFixed(1)} standard errors`;
  return `${points}, ${errors} — ${c.verdict === 'within one standard error' ? 'within one standard error' : c.verdict}`;
}

function probeAgainstBaseline(base: ComparedRun, other: ComparedRun): string[] {
  if (!base.probe || !other.probe) {
    const without = [base, other].filter((r) => !r.probe).map((r) => r.name);
    return [`Linear probe: not compared (${without.join(' and ')} ${without.length > 1 ? 'have' : 'has'} no results/probe.json).`];
  }
  const otherBlocks = new Map(other.probe.blocks.map((b) => [b.block, b.scores.pretrained]));
  const common = base.probe.blocks.filter((b) => otherBlocks.has(b.block));
  if (common.length === 0) return [`Linear probe: ${base.name} and ${other.name} share no block names, so no block is compared.`];
  const tally = { higher: 0, lower: 0, within: 0 };
  let headline: { block: string; comparison: ScoreComparison; a: number; b: number } | null = null;
  for (const { block, scores } of common) {
    const b = otherBlocks.get(block)!;
    const comparison = compareScores(scores.pretrained, base.probe.samples, b, other.probe.samples);
    if (comparison.verdict === 'higher') tally.higher++;
    else if (comparison.verdict === 'lower') tally.lower++;
    else tally.within++;
    // The headline block is where either run does best: the number a reader would quote.
    if (!headline || Math.max(scores.pretrained, b) > Math.max(headline.a, headline.b)) headline = { block, comparison, a: scores.pretrained, b };
  }
  const h = headline!;
  const sentences = [
    `Linear probe (${base.probe.metric}), best block ${h.block}: ${other.name} ${pct(h.b)} against ${base.name} ${pct(h.a)}: ${describe(h.comparison)}.`,
  ];
  if (base.probe.samples !== null && other.probe.samples !== null)
    sentences.push(
      `Over the ${common.length} shared block(s), ${other.name} is higher than ${base.name} by more than one standard error on ${tally.higher}, lower on ${tally.lower}, and within one standard error on ${tally.within}.`,
    );
  return sentences;
}

function retrievalAgainstBaseline(base: ComparedRun, other: ComparedRun): string[] {
  if (!base.retrieval || !other.retrieval) return [];
  const out: string[] = [];
  for (const [direction, label] of [['v2a', 'video → audio'], ['a2v', 'audio → video']] as const) {
    const c = compareScores(base.retrieval[direction], base.retrieval.queries, other.retrieval[direction], other.retrieval.queries);
    out.push(`Retrieval ${label} R@1: ${other.name} ${pct(other.retrieval[direction])} against ${base.name} ${pct(base.retrieval[direction])}: ${describe(c)}.`);
  }
  return out;
}

function withinRun(run: ComparedRun): string[] {
  const out: string[] = [];
  if (run.probe) {
    const best = bestBlock(run.probe);
    if (best) {
      const c = compareScores(best.random, run.probe.samples, best.score, run.probe.samples);
      const gain =
        c.verdict === 'within one standard error' || c.verdict === 'equal'
          ? 'pre-training adds nothing measurable over random initialisation there'
          : c.verdict === 'higher'
            ? 'pre-training helps'
            : c.verdict === 'lower'
              ? 'random initialisation does better'
              : null;
      out.push(`${run.name}: best probe block ${best.block} at ${pct(best.score)} against ${pct(best.random)} from random initialisation: ${describe(c)}${gain ? `: ${gain}` : ''}.`);
      if (run.probe.chance !== null && run.probe.samples !== null) {
        const vsChance = compareScores(run.probe.chance, null, best.score, null);
        const se = Math.sqrt((run.probe.chance * (1 - run.probe.chance)) / run.probe.samples);
        if (Math.abs(vsChance.difference) <= se) out.push(`${run.name}: the best probe is within one standard error of chance (${pct(run.probe.chance)}).`);
      }
    }
  }
  if (run.cma && 'agreement' in run.cma.precision && 'union' in run.cma.precision) {
    const n = run.cma.anchors === null ? null : run.cma.anchors * run.cma.k;
    const c = compareScores(run.cma.precision.union, n, run.cma.precision.agreement, n);
    const label = `${run.name}: CMA precision@${run.cma.k}, agreement ${pct(run.cma.precision.agreement)} against union ${pct(run.cma.precision.union)}`;
    if (c.verdict === 'within one standard error' || c.verdict === 'equal') out.push(`${label}: within one standard error — mining adds nothing here.`);
    else if (c.verdict === 'higher') out.push(`${label}: ${describe(c)} — agreement finds more same-class positives than the within-modal union.`);
    else if (c.verdict === 'lower') out.push(`${label}: ${describe(c)} — the within-modal union finds more same-class positives than agreement.`);
    else out.push(`${label}: ${describe(c)}.`);
  }
  return out;
}

/** Every conclusion, baseline comparisons first, then each run on its own. */
export function compareConclusions(runs: ComparedRun[]): string[] {
  const [base, ...others] = runs;
  const out: string[] = [];
  for (const other of others) out.push(...probeAgainstBaseline(base, other), ...retrievalAgainstBaseline(base, other));
  for (const run of runs) out.push(...withinRun(run));
  return out;
}
