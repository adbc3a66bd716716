// Which published figure (config/published.ts) may stand beside a run's figure: the run's config must name
// the paper setting it reproduces (`reproduces`), and the figure must have been measured the same way —
// same protocol, same benchmark, read from the same block. Anything else gets no published figure and a
// reason a reader can act on.
import { BENCHMARKS, EVALUATION_PROTOCOLS, PAPER_SETTINGS, paperSetting, type PaperSetting, type PublishedFigure } from '../config/published.js';
import type { RunInputs } from './load-run.js';
import type { EvaluationRecord } from './run-files.js';

export type PublishedMatch = { figure: PublishedFigure; setting: PaperSetting } | { figure: null; reason: string };

/** The settings the run's config names, or why there are none. */
export function reproducedSettings(run: RunInputs): { settings: PaperSetting[]; reason: string | null } {
  if (run.config.status !== 'ok') return { settings: [], reason: 'the run has no readable config.json, so no paper setting is named' };
  const named = run.config.value.reproduces;
  if (named === undefined) return { settings: [], reason: 'no paper setting: the run\'s config names none (`reproduces`)' };
  if (!Array.isArray(named) || !named.every((n): n is string => typeof n === 'string')) {
    return { settings: [], reason: `config.json: 'reproduces' must be a list of paper setting ids, got ${JSON.stringify(named)}` };
  }
  const unknown = named.filter((n) => !paperSetting(n));
  if (unknown.length) {
    return { settings: [], reason: `config.json: 'reproduces' names unknown paper setting(s) ${unknown.map((u) => `'${u}'`).join(', ')} (known: ${PAPER_SETTINGS.map((s) => s.id).join(', ')})` };
  }
  if (named.length === 0) return { settings: [], reason: 'no paper setting: the run\'s config names none (`reproduces` is empty)' };
  return { settings: named.map((n) => paperSetting(n)!), reason: null };
}

/** "audio-svm on esc-50 (conv5x)" in words: "one-vs-rest linear SVM on frozen audio features, ESC-50, conv5x". */
export function describeEvaluation(e: { protocol: string; benchmark: string | null; block: string }, data?: string): string {
  const protocol = EVALUATION_PROTOCOLS[e.protocol as keyof typeof EVALUATION_PROTOCOLS] ?? e.protocol;
  const benchmark = e.benchmark === null ? (data ? `${data} (not a recognised benchmark)` : 'an unnamed dataset') : (BENCHMARKS[e.benchmark as keyof typeof BENCHMARKS] ?? e.benchmark);
  const block = e.block === 'best' ? 'best block' : e.block === 'network' ? 'whole network' : e.block;
  return `${protocol}, ${benchmark}, ${block}`;
}

/** The published figure for a recorded evaluation of this run (null: the evaluation is not recorded). */
export function publishedFor(run: RunInputs, record: EvaluationRecord | null): PublishedMatch {
  const { settings, reason } = reproducedSettings(run);
  if (reason !== null) return { figure: null, reason };
  if (record === null) return { figure: null, reason: 'different evaluation: what this figure measures (protocol, benchmark) is not recorded in its results file' };
  for (const setting of settings) {
    const figure = setting.figures.find((f) => f.evaluation.protocol === record.protocol && f.evaluation.benchmark === record.benchmark && f.evaluation.block === record.block);
    if (figure) return { figure, setting };
  }
  const published = settings.flatMap((s) => s.figures.map((f) => describeEvaluation(f.evaluation)));
  return {
    figure: null,
    reason: `different evaluation: this is ${describeEvaluation(record, record.data)}; the paper setting (${settings.map((s) => s.id).join(', ')}) publishes ${published.length ? published.join('; ') : 'no figure in spec/PAPERS.md'}`,
  };
}

/** Every evaluation record in the run's results, with the file it came from. */
export function recordedEvaluations(run: RunInputs): Array<{ file: string; record: EvaluationRecord }> {
  const out: Array<{ file: string; record: EvaluationRecord }> = [];
  if (run.probe.status === 'ok') for (const record of run.probe.value.evaluations ?? []) out.push({ file: run.probe.file, record });
  for (const loaded of [...run.tables, ...run.otherResults]) {
    if (loaded.status !== 'ok') continue;
    for (const t of loaded.value) if (t.evaluation) out.push({ file: loaded.file, record: t.evaluation });
  }
  return out;
}

/** Figures of the named settings that no recorded evaluation of the run matches (not measured yet). */
export function unmatchedFigures(run: RunInputs): Array<{ figure: PublishedFigure; setting: PaperSetting }> {
  const matched = new Set(recordedEvaluations(run).map(({ record }) => publishedFor(run, record)).flatMap((m) => (m.figure ? [m.figure.id] : [])));
  return reproducedSettings(run).settings.flatMap((setting) => setting.figures.filter((f) => !matched.has(f.id)).map((figure) => ({ figure, setting })));
}
