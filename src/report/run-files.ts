// The run directory's format: what the trainer and the evaluators write, and what the report reads.
// Every file is optional for the report (a missing one shows "not available for this run"); a present file
// must match its schema here. This module imports only zod, node and io/atomic, so it could move down to
// io/ unchanged if writers in lower layers (train, eval) should not import from report/.
//
//   <run dir>/config.json               the resolved config (any JSON object)
//   <run dir>/metrics.jsonl             one TrainMetric or EpochMetric per line
//   <run dir>/data.json                 DataSummary
//   <run dir>/versions.json             Versions
//   <run dir>/results/probe.json        ProbeResults
//   <run dir>/results/cma.json          CmaResults
//   <run dir>/results/retrieval.json    RetrievalResults
//   <run dir>/results/embedding.json    EmbeddingPoints (2-D map), or
//   <run dir>/results/embeddings.json   EmbeddingVectors (raw vectors: the report runs t-SNE)
//   <run dir>/results/localization.json LocalizationResults
//   <run dir>/results/by-epoch.json     ByEpochResults (`avid ablate-epochs`: accuracy of each kept checkpoint)
//   <run dir>/results/svm.json, results/summary.json, any other results/*.json: ResultTables
//   <run dir>/report.html               written by `avid report`
//
// Paths inside these files (thumbnails, videos, frames) are relative to the run directory and must stay
// inside it (no absolute paths, no `..` out of it). To show dataset media without copying them, symlink them
// into the run directory (e.g. <run dir>/media/): links are followed. Files up to the embedding limit are
// embedded in report.html; larger ones are linked, so keep the report inside its run directory.
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../io/atomic.js';

export const RUN_FILES = {
  config: 'config.json',
  metrics: 'metrics.jsonl',
  data: 'data.json',
  versions: 'versions.json',
  probe: 'results/probe.json',
  cma: 'results/cma.json',
  retrieval: 'results/retrieval.json',
  embedding: 'results/embedding.json',
  embeddings: 'results/embeddings.json',
  localization: 'results/localization.json',
  svm: 'results/svm.json',
  summary: 'results/summary.json',
  byEpoch: 'results/by-epoch.json',
  report: 'report.html',
} as const;

const finite = z.number().finite();
const count = z.number().int().nonnegative();
/** A path relative to the run directory (checked again, against the disk, when the report resolves it). */
const relativePath = z
  .string()
  .min(1)
  .refine((p) => !path.isAbsolute(p) && !/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(p), {
    message: 'must be a path relative to the run directory (no absolute path or URL)',
  });

export const ConfigSchema = z.record(z.unknown());

/**
 * What a result's headline figure measures, so that the report sets a paper's published figure beside it
 * (config/published.ts) only for the same protocol on the same benchmark, read from the same block.
 */
export const EvaluationRecordSchema = z.object({
  /** 'video-linear-probe', 'audio-linear-probe', 'audio-svm', 'video-finetune' (config/published.ts EVALUATION_PROTOCOLS). */
  protocol: z.string().min(1),
  /** The benchmark the data was recognised as (e.g. 'esc-50'; eval/benchmark-recognition.ts), null when none. */
  benchmark: z.string().min(1).nullable(),
  /** The data in words (a folder's name), shown beside the figure. */
  data: z.string().min(1),
  /** Which features: 'best' (best of several blocks' classifiers), a block name (conv5x), 'network' (fine-tuned). */
  block: z.string().min(1),
  /** The figure: top-1 accuracy as a fraction. */
  score: z.number().finite().min(0).max(1),
  /** Test predictions behind it (gives the standard error). */
  samples: z.number().int().positive().optional(),
});
export type EvaluationRecord = z.infer<typeof EvaluationRecordSchema>;
export type RunConfig = z.infer<typeof ConfigSchema>;

/**
 * One optimisation step. `time` is seconds since the start of the run, `clipsPerSec` the throughput over the
 * logging interval. Any further fields must be numbers (loss terms, gradient norm, ...): they are plotted.
 */
export const TrainMetricSchema = z
  .object({
    kind: z.literal('train'),
    step: count,
    epoch: count,
    loss: finite,
    lr: z.number().finite().nonnegative(),
    clipsPerSec: z.number().finite().nonnegative(),
    time: z.number().finite().nonnegative(),
  })
  .catchall(finite);
// Hand-written rather than inferred: zod's inferred "known keys & every other key is a number" cannot be
// built as an object literal in TypeScript (`kind` is not a number). The schema still checks the extras.
export interface TrainMetric {
  kind: 'train';
  step: number;
  epoch: number;
  loss: number;
  lr: number;
  clipsPerSec: number;
  /** Seconds since the start of the run. */
  time: number;
  /**
   * Further finite numbers, plotted against step: loss terms (names containing "loss", or the objectives'
   * terms v2a, a2v, v2v, a2a, nce, wmpd, cma, avts, sync) on the loss plot; others (gradNorm, ...) one plot each.
   */
  [extra: string]: number | string;
}

/** The end of an epoch: any further scalar fields (mean loss, eval scores, rejects, ...) become a table. */
export const EpochMetricSchema = z
  .object({ kind: z.literal('epoch'), epoch: count })
  .catchall(z.union([z.number(), z.string(), z.boolean(), z.null()]));
export interface EpochMetric {
  kind: 'epoch';
  epoch: number;
  [extra: string]: number | string | boolean | null;
}

/**
 * A run resumed from its checkpoint at `step`: the records the interrupted run logged after that step were
 * dropped (they are logged again), and `overrides` lists the config keys changed on resume.
 */
export const ResumeMetricSchema = z.object({ kind: z.literal('resume'), step: count, epoch: count }).catchall(z.unknown());
export interface ResumeMetric {
  kind: 'resume';
  step: number;
  epoch: number;
  [extra: string]: unknown;
}

export const MetricRecordSchema = z.discriminatedUnion('kind', [TrainMetricSchema, EpochMetricSchema, ResumeMetricSchema]);
export type MetricRecord = TrainMetric | EpochMetric | ResumeMetric;

export const DataSummarySchema = z
  .object({
    manifest: z.string(),
    entries: count,
    rejects: z.array(z.object({ path: z.string(), reason: z.string() })),
    classes: z.array(z.string()).optional(),
  })
  .catchall(z.union([z.number(), z.string(), z.boolean(), z.null()]));
export interface DataSummary {
  /** The manifest the run read. */
  manifest: string;
  /** Clips (or videos) used. */
  entries: number;
  /** Every file left out, and why (no audio stream, cannot decode, too short, ...). */
  rejects: Array<{ path: string; reason: string }>;
  classes?: string[];
  /** Further scalar facts (numbers, strings, booleans, null), shown in the data table. */
  [extra: string]: unknown;
}

export const VersionsSchema = z
  .object({ avid: z.string(), node: z.string(), torch: z.string(), ffmpeg: z.string(), platform: z.string() })
  .catchall(z.string());
export type Versions = z.infer<typeof VersionsSchema>;

/** Linear-probe scores per block (in the model's order), for the pretrained and the randomly initialised model. */
export const ProbeResultsSchema = z.object({
  protocol: z.string(),
  metric: z.string(),
  /** Per block: the run's model (`pretrained`), random initialisation, and any further models by name (e.g. "cross-avid"). */
  blocks: z.record(z.object({ pretrained: finite, random: finite }).catchall(finite)),
  /** How many test examples each score is over: gives the standard error (one video of 48 is 2.1 points). */
  samples: z.number().int().positive().optional(),
  /** Class names in label order; their count sets the chance level (1 / classes). */
  classes: z.array(z.string()).min(1).optional(),
  /** Display name of `pretrained` (e.g. "CMA"); default "pretrained". */
  pretrainedName: z.string().optional(),
  /**
   * Confusion counts on the test examples for some (model, block) pairs, e.g. each model's conv5x: `counts[t][p]`
   * is how many test examples of true class t the probe predicted as class p (classes in `classes`' order).
   * Optional: runs evaluated before it was recorded still load.
   */
  confusion: z.array(z.object({ model: z.string().min(1), block: z.string().min(1), counts: z.array(z.array(count)).min(1) })).optional(),
  /** What the run's probe figures measure (per modality, say), for comparison with the papers'. Optional. */
  evaluations: z.array(EvaluationRecordSchema).optional(),
}).superRefine((probe, ctx) => {
  for (const [i, c] of (probe.confusion ?? []).entries()) {
    const at = (message: string, ...rest: (string | number)[]) => ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['confusion', i, ...rest], message });
    if (!probe.blocks[c.block]) at(`block "${c.block}" is not one of blocks' keys`, 'block');
    else if (probe.blocks[c.block][c.model] === undefined) at(`model "${c.model}" has no score in block "${c.block}"`, 'model');
    const size = c.counts.length;
    c.counts.forEach((row, t) => {
      if (row.length !== size) at(`row ${t} has ${row.length} counts, expected ${size} (a square classes × classes matrix)`, 'counts', t);
    });
    if (probe.classes && size !== probe.classes.length) at(`${size} × ${size} counts but ${probe.classes.length} classes`, 'counts');
    const total = c.counts.flat().reduce((a, b) => a + b, 0);
    if (probe.samples !== undefined && total !== probe.samples) at(`counts sum to ${total}, but samples is ${probe.samples}`, 'counts');
  }
});
export type ProbeResults = z.infer<typeof ProbeResultsSchema>;

const cmaNeighbour = z.object({ file: z.string(), thumbnail: relativePath, videoSim: finite, audioSim: finite, label: z.string().optional() });
export const CmaResultsSchema = z.object({
  k: z.number().int().positive(),
  /** Anchors the precision is averaged over (the memory bank's size): gives a standard error. */
  anchors: z.number().int().positive().optional(),
  /** Precision@K of each positive-set variant (agreement = CMA; others are the within-modal expansions). */
  precision: z.object({ agreement: finite, union: finite, video: finite, audio: finite }).catchall(finite),
  examples: z.array(
    z.object({
      anchor: z.object({ file: z.string(), thumbnail: relativePath, label: z.string().optional() }),
      positives: z.array(cmaNeighbour),
      rejected: z.array(cmaNeighbour),
    }),
  ),
});
export type CmaResults = z.infer<typeof CmaResultsSchema>;
export type CmaNeighbour = z.infer<typeof cmaNeighbour>;

export const RetrievalScoresSchema = z.object({ r1: finite, r5: finite, r10: finite, medianRank: finite });
export type RetrievalScores = z.infer<typeof RetrievalScoresSchema>;
const bothDirections = z.object({ v2a: RetrievalScoresSchema, a2v: RetrievalScoresSchema });
export const RetrievalResultsSchema = z.object({
  v2a: RetrievalScoresSchema,
  a2v: RetrievalScoresSchema,
  /** The randomly initialised model: both directions, or one set of scores (taken as video→audio). */
  random: z.union([bothDirections, RetrievalScoresSchema]).optional(),
  /** Queries per direction (the test set size): gives the standard error, and chance R@1 = 1 / queries. */
  queries: z.number().int().positive().optional(),
  examples: z.array(
    z.object({
      video: relativePath,
      /** An image shown in the player before it plays (e.g. the clip's middle frame). */
      poster: relativePath.optional(),
      /** The query's class name. */
      label: z.string().optional(),
      matches: z.array(z.object({ file: relativePath, similarity: finite, correct: z.boolean(), label: z.string().optional() })),
    }),
  ),
});
export type RetrievalResults = z.infer<typeof RetrievalResultsSchema>;

/** Which encoder's embeddings a map shows ("video", "audio"): named in the plot's title. */
const modality = z.string().min(1).optional();
export const EmbeddingPointsSchema = z.object({
  points: z.array(z.object({ x: finite, y: finite, label: z.string(), file: z.string().optional() })),
  modality,
});
export type EmbeddingPoints = z.infer<typeof EmbeddingPointsSchema>;

export const EmbeddingVectorsSchema = z
  .object({ vectors: z.array(z.array(finite)), labels: z.array(z.string()), files: z.array(z.string()).optional(), modality })
  .superRefine((value, ctx) => {
    if (value.labels.length !== value.vectors.length)
      ctx.addIssue({ code: 'custom', path: ['labels'], message: `has ${value.labels.length} labels for ${value.vectors.length} vectors` });
    if (value.files && value.files.length !== value.vectors.length)
      ctx.addIssue({ code: 'custom', path: ['files'], message: `has ${value.files.length} files for ${value.vectors.length} vectors` });
    const dim = value.vectors[0]?.length ?? 0;
    const bad = value.vectors.findIndex((v) => v.length !== dim || v.length === 0);
    if (bad >= 0)
      ctx.addIssue({ code: 'custom', path: ['vectors', bad], message: `has length ${value.vectors[bad].length}, expected ${dim || 'at least 1'}` });
  });
export type EmbeddingVectors = z.infer<typeof EmbeddingVectorsSchema>;

export const LocalizationResultsSchema = z.object({
  /** Fraction of frames whose heatmap peak falls in the sounding object's box. */
  score: z.object({ trained: finite, random: finite }),
  frames: z.array(
    z.object({
      image: relativePath,
      boxHit: z.boolean(),
      caption: z.string().optional(),
      /** The sounding object's ground-truth box on this frame, [x, y, w, h] as fractions of the frame (top-left origin): drawn over it. */
      box: z
        .tuple([finite, finite, finite, finite])
        .refine(([x, y, w, h]) => x >= 0 && y >= 0 && w >= 0 && h >= 0 && x + w <= 1 + 1e-6 && y + h <= 1 + 1e-6, {
          message: 'must be [x, y, w, h] as fractions of the frame: non-negative, inside [0, 1]',
        })
        .optional(),
      /** The sounding object lies wholly outside the evaluation crop the network saw: no box, not scored. */
      boxOutsideCrop: z.literal(true).optional(),
    }),
  ),
  /** Overlay clips with their sound (MP4), played in the report. */
  videos: z.array(z.object({ video: relativePath, caption: z.string().optional(), poster: relativePath.optional() })).optional(),
  /**
   * The colour map of the heat in the frames, for the colour bar: 'jet' (eval's Grad-CAM overlay, blended
   * half over the frame) or 'ramp' (report/heatmap.ts: dark blue → cyan → green → yellow → red).
   */
  colormap: z.enum(['jet', 'ramp']).optional(),
});
export type LocalizationResults = z.infer<typeof LocalizationResultsSchema>;

/** One network's downstream accuracy (src/analyses/protocol.ts): fractions, binomial standard error, n predictions. */
const analysisScore = {
  accuracy: finite,
  se: finite,
  chance: finite,
  n: count,
  folds: z.array(z.object({ fold: z.number().int(), accuracy: finite, n: count })).optional(),
  seconds: finite,
};
/** `avid ablate-epochs`: each kept checkpoint and a random init of the same architecture, one protocol, one settings. */
export const ByEpochResultsSchema = z.object({
  protocol: z.string(),
  /** What the accuracy measures, in words. */
  metric: z.string(),
  /** The evaluation settings every entry below was measured with. */
  settings: z.record(z.unknown()),
  randomInit: z.object({ input: z.string(), identity: z.record(z.unknown()), settings: z.record(z.unknown()), ...analysisScore }).nullable(),
  epochs: z.array(z.object({ epoch: count, checkpoint: relativePath, identity: z.record(z.unknown()), settings: z.record(z.unknown()), ...analysisScore })),
});
export type ByEpochResults = z.infer<typeof ByEpochResultsSchema>;

export const ResultTableSchema = z
  .object({
    title: z.string(),
    columns: z.array(z.string()).min(1),
    rows: z.array(z.array(z.union([z.string(), z.number(), z.null()]))),
    /** What the table's headline figure measures (optional; written by `avid eval` where it knows). */
    evaluation: EvaluationRecordSchema.optional(),
  })
  .superRefine((table, ctx) => {
    table.rows.forEach((row, i) => {
      if (row.length !== table.columns.length)
        ctx.addIssue({ code: 'custom', path: ['rows', i], message: `has ${row.length} cells for ${table.columns.length} columns` });
    });
  });
export const ResultTablesSchema = z.array(ResultTableSchema);
export type ResultTable = z.infer<typeof ResultTableSchema>;

/** The schema of each JSON run file, by its path relative to the run directory. */
export const RUN_FILE_SCHEMAS = {
  [RUN_FILES.config]: ConfigSchema,
  [RUN_FILES.data]: DataSummarySchema,
  [RUN_FILES.versions]: VersionsSchema,
  [RUN_FILES.probe]: ProbeResultsSchema,
  [RUN_FILES.cma]: CmaResultsSchema,
  [RUN_FILES.retrieval]: RetrievalResultsSchema,
  [RUN_FILES.embedding]: EmbeddingPointsSchema,
  [RUN_FILES.embeddings]: EmbeddingVectorsSchema,
  [RUN_FILES.localization]: LocalizationResultsSchema,
  [RUN_FILES.svm]: ResultTablesSchema,
  [RUN_FILES.summary]: ResultTablesSchema,
  [RUN_FILES.byEpoch]: ByEpochResultsSchema,
} as const;
export type JsonRunFile = keyof typeof RUN_FILE_SCHEMAS;

/** What each JSON run file holds, for writers. */
export interface RunFileTypes {
  'config.json': RunConfig;
  'data.json': DataSummary;
  'versions.json': Versions;
  'results/probe.json': ProbeResults;
  'results/cma.json': CmaResults;
  'results/retrieval.json': RetrievalResults;
  'results/embedding.json': EmbeddingPoints;
  'results/embeddings.json': EmbeddingVectors;
  'results/localization.json': LocalizationResults;
  'results/svm.json': ResultTable[];
  'results/summary.json': ResultTable[];
  'results/by-epoch.json': ByEpochResults;
}
export type RunFileValue<F extends JsonRunFile> = RunFileTypes[F];

/** "blocks.conv2.random: Expected number, received string" — names the key and what is wrong. */
export function describeZodError(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(top level)'}: ${issue.message}`)
    .concat(error.issues.length > 5 ? [`... and ${error.issues.length - 5} more problems`] : [])
    .join('; ');
}

/** Parses one JSON run file's text against `schema`; the error names the file and the key. */
export function parseRunJson<S extends z.ZodTypeAny>(fileName: string, text: string, schema: S): z.infer<S> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`${fileName}: not valid JSON (${(error as Error).message})`);
  }
  const result = schema.safeParse(json);
  if (!result.success) throw new Error(`${fileName}: ${describeZodError(result.error)}`);
  return result.data;
}

export interface ParsedMetrics {
  train: TrainMetric[];
  epochs: EpochMetric[];
  resumes: ResumeMetric[];
  /** Lines that were skipped, each with its line number and why (a run cut off mid-write leaves one). */
  problems: string[];
}

/** Parses metrics.jsonl, keeping every good line: one bad line must not hide a whole training run. */
export function parseMetrics(text: string, fileName: string = RUN_FILES.metrics): ParsedMetrics {
  const parsed: ParsedMetrics = { train: [], epochs: [], resumes: [], problems: [] };
  const lines = text.split('\n');
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    const where = `${fileName} line ${index + 1}`;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      parsed.problems.push(`${where}: not valid JSON${index === lines.length - 1 ? ' (cut off?)' : ''}`);
      return;
    }
    const result = MetricRecordSchema.safeParse(json);
    if (!result.success) {
      parsed.problems.push(`${where}: ${describeZodError(result.error)}`);
      return;
    }
    if (result.data.kind === 'train') parsed.train.push(result.data as TrainMetric);
    else if (result.data.kind === 'resume') parsed.resumes.push(result.data as ResumeMetric);
    else parsed.epochs.push(result.data as EpochMetric);
  });
  return parsed;
}

/** Validates `value` against the file's schema and writes it (pretty JSON, atomically). */
export function writeRunJson<F extends JsonRunFile>(runDir: string, file: F, value: RunFileValue<F>): void {
  const schema = RUN_FILE_SCHEMAS[file] as z.ZodTypeAny;
  const result = schema.safeParse(value);
  if (!result.success) throw new Error(`${file}: ${describeZodError(result.error)}`);
  writeFileAtomic(path.join(runDir, file), `${JSON.stringify(value, null, 2)}\n`);
}

/** Validates one metrics record and appends it as a line of metrics.jsonl. */
export function appendMetric(runDir: string, record: MetricRecord): void {
  const result = MetricRecordSchema.safeParse(record);
  if (!result.success) throw new Error(`${RUN_FILES.metrics}: ${describeZodError(result.error)}`);
  mkdirSync(runDir, { recursive: true });
  appendFileSync(path.join(runDir, RUN_FILES.metrics), `${JSON.stringify(record)}\n`);
}

// Compile-time check: every JSON run file has a type above, and what its schema accepts fits that type.
const schemasFitTypes: { [F in JsonRunFile]: z.ZodType<RunFileTypes[F], z.ZodTypeDef, unknown> } = RUN_FILE_SCHEMAS;
void schemasFitTypes;
