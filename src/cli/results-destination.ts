// Where an evaluation's results go. An evaluation of a run (its directory, or a checkpoint in its
// checkpoints/) lands in the run's results/, in the formats `avid report` reads (src/report/run-files.ts),
// with the full details beside them in results/details/; --out FILE writes the details there instead. Any
// other input (a file elsewhere, 'random', 'random:<...>') has no run to feed, so --out is required.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { runDirOf } from '../train/run-artifact.js';
import { writeResultsJson, type Cell } from '../eval/results.js';
import { writeRunJson, ResultTablesSchema, describeZodError, type EvaluationRecord, type JsonRunFile, type RunFileValue } from '../report/run-files.js';
import { writeFileAtomic } from '../io/atomic.js';

export interface ResultsDestination {
  /** The run whose results/ receives them (null with --out). */
  runDir: string | null;
  /** --out, when given. */
  out: string | null;
  /** Where further files (fine-tuned checkpoints, details) go. */
  detailsDir: string;
}

export function resultsDestination(input: string, out: string | undefined): ResultsDestination {
  if (out) return { runDir: null, out, detailsDir: path.dirname(path.resolve(out)) };
  const runDir = runDirOf(input);
  if (!runDir) {
    throw new Error(
      `--out is required: ${input} is not a run directory or a checkpoint in a run's checkpoints/ folder, so there is no run whose results/ this evaluation could feed`,
    );
  }
  return { runDir, out: null, detailsDir: path.join(runDir, 'results', 'details') };
}

/**
 * Writes an evaluation: with --out, its details JSON there; into a run, a table the report shows
 * (results/<name>.json; a number that is not finite, e.g. a rate over no pairs, is an empty cell) and the
 * details (results/details/<name>.json). Returns the files written.
 */
export function writeEvaluationResults(
  d: ResultsDestination,
  r: { name: string; title: string; details: unknown; table: { headers: string[]; rows: Cell[][] }; evaluation?: EvaluationRecord },
): string[] {
  if (d.out) {
    writeResultsJson(d.out, r.details);
    return [d.out];
  }
  const rows = r.table.rows.map((row) => row.map((c) => (c === undefined || (typeof c === 'number' && !Number.isFinite(c)) ? null : c)));
  const tables = [{ title: r.title, columns: r.table.headers, rows, ...(r.evaluation ? { evaluation: r.evaluation } : {}) }];
  const checked = ResultTablesSchema.safeParse(tables);
  if (!checked.success) throw new Error(`results/${r.name}.json: ${describeZodError(checked.error)}`);
  const table = path.join(d.runDir!, 'results', `${r.name}.json`);
  mkdirSync(path.dirname(table), { recursive: true });
  writeFileAtomic(table, `${JSON.stringify(tables, null, 2)}\n`);
  const details = path.join(d.detailsDir, `${r.name}.json`);
  mkdirSync(d.detailsDir, { recursive: true });
  writeResultsJson(details, r.details);
  return [table, details];
}

/** Writes one of the report's own result files (probe.json, retrieval.json, ...) into the run. */
export function writeRunResult<F extends JsonRunFile>(d: ResultsDestination, file: F, value: RunFileValue<F>): string {
  mkdirSync(path.join(d.runDir!, 'results'), { recursive: true });
  writeRunJson(d.runDir!, file, value);
  return path.join(d.runDir!, file);
}
