// Reads every run file the report knows, recording for each whether it is there, valid, or why not. Nothing
// here throws for a missing or bad file: the report shows what it can and says what it could not.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import {
  RUN_FILES,
  RUN_FILE_SCHEMAS,
  ResultTablesSchema,
  parseMetrics,
  parseRunJson,
  type CmaResults,
  type DataSummary,
  type EmbeddingPoints,
  type EmbeddingVectors,
  type LocalizationResults,
  type ParsedMetrics,
  type ProbeResults,
  type ResultTable,
  type RetrievalResults,
  type RunConfig,
  type Versions,
  type ByEpochResults,
} from './run-files.js';

export type Loaded<T> =
  | { status: 'ok'; file: string; value: T }
  | { status: 'missing'; file: string }
  | { status: 'invalid'; file: string; error: string };

export interface RunInputs {
  runDir: string;
  config: Loaded<RunConfig>;
  metrics: Loaded<ParsedMetrics>;
  data: Loaded<DataSummary>;
  versions: Loaded<Versions>;
  probe: Loaded<ProbeResults>;
  cma: Loaded<CmaResults>;
  retrieval: Loaded<RetrievalResults>;
  embedding: Loaded<EmbeddingPoints>;
  embeddings: Loaded<EmbeddingVectors>;
  localization: Loaded<LocalizationResults>;
  /** results/by-epoch.json (`avid ablate-epochs`). */
  byEpoch: Loaded<ByEpochResults>;
  /** results/svm.json and results/summary.json. */
  tables: Array<Loaded<ResultTable[]>>;
  /** Any other results/*.json, read as tables when they are (other formats are listed, not shown). */
  otherResults: Array<Loaded<ResultTable[]>>;
}

function load<T>(runDir: string, file: string, parse: (text: string) => T): Loaded<T> {
  const absolute = path.join(runDir, file);
  if (!existsSync(absolute)) return { status: 'missing', file };
  try {
    if (!statSync(absolute).isFile()) return { status: 'invalid', file, error: `${file}: not a file` };
    return { status: 'ok', file, value: parse(readFileSync(absolute, 'utf8')) };
  } catch (error) {
    return { status: 'invalid', file, error: (error as Error).message };
  }
}

function loadJson<S extends z.ZodTypeAny>(runDir: string, file: string, schema: S): Loaded<z.infer<S>> {
  return load(runDir, file, (text) => parseRunJson(file, text, schema));
}

const KNOWN_RESULTS = new Set<string>([
  RUN_FILES.probe,
  RUN_FILES.cma,
  RUN_FILES.retrieval,
  RUN_FILES.embedding,
  RUN_FILES.embeddings,
  RUN_FILES.localization,
  RUN_FILES.svm,
  RUN_FILES.summary,
  RUN_FILES.byEpoch,
]);

/** The run files that are present (used to tell a run directory from a wrong path). */
export function presentRunFiles(runDir: string): string[] {
  const candidates: string[] = Object.values(RUN_FILES).filter((f) => f !== RUN_FILES.report);
  return candidates.filter((f) => existsSync(path.join(runDir, f)));
}

export function loadRun(runDir: string): RunInputs {
  const otherResults = existsSync(path.join(runDir, 'results'))
    ? readdirSync(path.join(runDir, 'results'))
        .filter((name) => name.endsWith('.json'))
        .map((name) => `results/${name}`)
        .filter((file) => !KNOWN_RESULTS.has(file))
        .sort()
    : [];
  const tables = [RUN_FILES.svm, RUN_FILES.summary].map((file) => loadJson(runDir, file, ResultTablesSchema));
  return {
    runDir,
    config: loadJson(runDir, RUN_FILES.config, RUN_FILE_SCHEMAS[RUN_FILES.config]),
    metrics: load(runDir, RUN_FILES.metrics, (text) => parseMetrics(text)),
    data: loadJson(runDir, RUN_FILES.data, RUN_FILE_SCHEMAS[RUN_FILES.data]),
    versions: loadJson(runDir, RUN_FILES.versions, RUN_FILE_SCHEMAS[RUN_FILES.versions]),
    probe: loadJson(runDir, RUN_FILES.probe, RUN_FILE_SCHEMAS[RUN_FILES.probe]),
    cma: loadJson(runDir, RUN_FILES.cma, RUN_FILE_SCHEMAS[RUN_FILES.cma]),
    retrieval: loadJson(runDir, RUN_FILES.retrieval, RUN_FILE_SCHEMAS[RUN_FILES.retrieval]),
    embedding: loadJson(runDir, RUN_FILES.embedding, RUN_FILE_SCHEMAS[RUN_FILES.embedding]),
    embeddings: loadJson(runDir, RUN_FILES.embeddings, RUN_FILE_SCHEMAS[RUN_FILES.embeddings]),
    localization: loadJson(runDir, RUN_FILES.localization, RUN_FILE_SCHEMAS[RUN_FILES.localization]),
    byEpoch: loadJson(runDir, RUN_FILES.byEpoch, RUN_FILE_SCHEMAS[RUN_FILES.byEpoch]),
    tables,
    otherResults: otherResults.map((file) => loadJson(runDir, file, ResultTablesSchema)),
  };
}
