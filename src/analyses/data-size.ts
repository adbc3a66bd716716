// Downstream accuracy against the amount of pre-training data (the AVTS supplement's Table 1): one run of the
// config per fraction of its manifest (nested seeded subsets, src/analyses/nested-subsets.ts), optionally
// repeated with other subsets, each evaluated with one protocol and one settings, plus a random
// initialisation of the architecture. Writes <out>/ablation.json and <out>/ablation.html (accuracy against
// the number of training videos on a log axis).
//
// Equal epochs: every run trains the config's train.epochs, so a smaller subset also gets fewer updates (data
// and compute shrink together). Equal updates: a run on fraction f trains ⌈epochs · S₁ / S_f⌉ epochs (S: steps
// per epoch), so every run makes about as many optimizer steps as the full one; epoch-based schedule settings
// (warm-up, milestones, kept checkpoints) are stretched by the same factor. Which one was used is stated in
// both outputs, because the two answer different questions.
//
// Resumes: finished runs are not trained again (pretrain's 'resume' policy) and an evaluation is reused when
// its settings and its run's checkpoint (size, modification time) are unchanged. An ablation.json measured
// with other evaluation settings, or the other equal-budget mode, is refused rather than mixed in.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { PretrainConfig } from '../config/schema.js';
import { parseConfig } from '../config/load.js';
import { pretrain, loadTrainingManifest } from '../train/pretrain.js';
import { readManifest, writeManifest, type ManifestEntry } from '../data/manifest.js';
import { writeFileAtomic } from '../io/atomic.js';
import { RUN_CHECKPOINT } from '../train/run-artifact.js';
import { formatTable } from '../eval/results.js';
import { html } from '../report/html.js';
import { accuracyCurve } from '../report/accuracy-curve.js';
import { nestedSubsetIndices, subsetEntries, checkFractions } from './nested-subsets.js';
import { ProtocolEvaluator, describeProtocol, settingsDifference, weightsIdentity, type ProtocolRuntime, type ProtocolScore, type ProtocolSettings } from './protocol.js';
import { StageEta } from './stage-eta.js';

export const EQUAL_BUDGETS = ['epochs', 'updates'] as const;
export type EqualBudget = (typeof EQUAL_BUDGETS)[number];

export interface DataSizeOptions extends ProtocolRuntime {
  fractions: number[];
  /** Subsets drawn per fraction (each repeat its own nested permutation; default 1). */
  repeats?: number;
  equal: EqualBudget;
  /** Default <runsDir>/<name>-data-size. */
  outDir?: string;
  /** Analysis progress lines (default stderr). */
  progress?: (line: string) => void;
  /** The trainer's own progress bar (pretrain's option; default stderr). */
  trainProgress?: NodeJS.WriteStream | null;
}

const score = {
  accuracy: z.number(),
  se: z.number(),
  chance: z.number(),
  n: z.number(),
  folds: z.array(z.object({ fold: z.number(), accuracy: z.number(), n: z.number() })).optional(),
  seconds: z.number(),
};
const RunEntry = z.object({
  fraction: z.number(),
  repeat: z.number().int(),
  videos: z.number().int(),
  epochs: z.number().int(),
  updates: z.number().int(),
  run: z.string(),
  identity: z.record(z.unknown()),
  settings: z.record(z.unknown()),
  ...score,
});
export type DataSizeRun = z.infer<typeof RunEntry>;
const Summary = z.object({ fraction: z.number(), videos: z.number(), accuracy: z.number(), se: z.number(), repeats: z.number(), seSource: z.enum(['binomial', 'repeats']) });
export const DataSizeResultsSchema = z.object({
  analysis: z.literal('data-size'),
  equal: z.enum(EQUAL_BUDGETS),
  /** The equal-budget choice in words. */
  budget: z.string(),
  metric: z.string(),
  settings: z.record(z.unknown()),
  config: z.string(),
  manifest: z.object({ path: z.string(), videos: z.number().int() }),
  fractions: z.array(z.number()),
  repeats: z.number().int(),
  randomInit: z.object({ input: z.string(), identity: z.record(z.unknown()), settings: z.record(z.unknown()), ...score }).nullable(),
  runs: z.array(RunEntry),
  summary: z.array(Summary),
});
export type DataSizeResults = z.infer<typeof DataSizeResultsSchema>;

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Steps per epoch of a run on `videos` videos (the trainer drops the last partial batch). */
export function stepsPerEpoch(config: PretrainConfig, videos: number): number {
  return Math.floor((videos * config.data.clipsPerVideo) / config.train.batchSize);
}

/** The config of one run: its subset manifest, name, and (equal updates) stretched epochs. */
export function runConfig(base: PretrainConfig, o: { name: string; outDir: string; manifest: string; videos: number; fullVideos: number; equal: EqualBudget }): PretrainConfig {
  const raw = JSON.parse(JSON.stringify(base)) as Record<string, any>;
  const steps = stepsPerEpoch(base, o.videos);
  if (steps === 0) {
    throw new Error(
      `${o.name}: ${o.videos} video(s) × data.clipsPerVideo ${base.data.clipsPerVideo} make no full batch of train.batchSize ${base.train.batchSize}: use larger fractions or a smaller batch`,
    );
  }
  Object.assign(raw, { name: o.name, runsDir: o.outDir });
  raw.data = { ...raw.data, source: o.manifest };
  if (o.equal === 'updates') {
    const target = base.train.epochs * stepsPerEpoch(base, o.fullVideos);
    const epochs = Math.max(1, Math.ceil(target / steps));
    const factor = epochs / base.train.epochs;
    raw.train = { ...raw.train, epochs };
    const s = raw.optim.schedule;
    raw.optim.schedule = { ...s, warmupEpochs: s.warmupEpochs * factor, milestones: s.milestones.map((m: number) => m * factor) };
    const keep = raw.train.keepCheckpoints;
    raw.train.keepCheckpoints = Array.isArray(keep) ? [...new Set(keep.map((e: number) => Math.round(e * factor)))] : { every: Math.max(1, Math.round(keep.every * factor)) };
  }
  return parseConfig(raw, `data-size run ${o.name}`);
}

function statement(equal: EqualBudget, base: PretrainConfig, fullVideos: number): string {
  return equal === 'epochs'
    ? `equal epochs: every run trains ${base.train.epochs} epochs over its subset, so smaller subsets also get fewer updates`
    : `equal updates: every run makes about ${base.train.epochs * stepsPerEpoch(base, fullVideos)} updates (the full set's ${base.train.epochs} epochs); smaller subsets are seen for more epochs`;
}

/** The full manifest: the config's .jsonl, or the one probed from its folder once and kept in outDir. */
async function fullManifest(base: PretrainConfig, outDir: string, log: (line: string) => void): Promise<{ entries: ManifestEntry[]; path: string }> {
  if (base.data.source.endsWith('.jsonl')) return { entries: (await loadTrainingManifest(base, outDir, false)).entries, path: path.resolve(base.data.source) };
  const kept = path.join(outDir, 'manifest.jsonl');
  const origin = path.join(outDir, 'manifest.origin.json');
  const wanted = { source: path.resolve(base.data.source), labels: base.data.labels ? path.resolve(base.data.labels) : null };
  if (existsSync(kept) && existsSync(origin) && sameJson(JSON.parse(readFileSync(origin, 'utf8')), wanted)) {
    log(`data-size: the manifest of ${base.data.source} probed earlier: ${kept}`);
    return { entries: readManifest(kept), path: kept };
  }
  const { entries } = await loadTrainingManifest(base, outDir, true);
  writeFileAtomic(origin, `${JSON.stringify(wanted)}\n`);
  return { entries, path: kept };
}

function readStored(file: string, settings: ProtocolSettings, equal: EqualBudget): DataSizeResults | null {
  if (!existsSync(file)) return null;
  let stored: DataSizeResults;
  try {
    stored = DataSizeResultsSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
  } catch (error) {
    throw new Error(`${file}: not a data-size ablation's results (${(error as Error).message.split('\n')[0]}); move it aside to start again`);
  }
  if (stored.equal !== equal) throw new Error(`${file} was measured with equal ${stored.equal}, not equal ${equal}: the runs differ. Use another --out, or the same --equal.`);
  const entries = [...stored.runs, ...(stored.randomInit ? [stored.randomInit] : [])];
  for (const s of [stored.settings, ...entries.map((e) => e.settings)]) {
    const differ = settingsDifference(s, settings);
    if (differ.length) {
      throw new Error(`${file} holds results measured with other evaluation settings (${differ.join('; ')}): they would not be comparable. Evaluate with the same settings, or use another --out.`);
    }
  }
  return stored;
}

function meanOf(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** Per fraction: the mean over repeats; SE over repeats (n ≥ 2) or the single run's binomial SE. */
export function summarise(runs: DataSizeRun[]): DataSizeResults['summary'] {
  const fractions = [...new Set(runs.map((r) => r.fraction))].sort((a, b) => a - b);
  return fractions.map((fraction) => {
    const rs = runs.filter((r) => r.fraction === fraction);
    const accuracy = meanOf(rs.map((r) => r.accuracy));
    const se = rs.length > 1 ? Math.sqrt(rs.reduce((a, r) => a + (r.accuracy - accuracy) ** 2, 0) / (rs.length - 1) / rs.length) : rs[0].se;
    return { fraction, videos: meanOf(rs.map((r) => r.videos)), accuracy, se, repeats: rs.length, seSource: rs.length > 1 ? ('repeats' as const) : ('binomial' as const) };
  });
}

const pct = (x: number) => (100 * x).toFixed(1);

export function dataSizeTable(r: DataSizeResults): string {
  return formatTable(
    ['fraction', 'videos', 'epochs', 'updates', 'repeats', 'accuracy %', 'SE %'],
    [
      ...r.summary.map((s) => {
        const rs = r.runs.filter((x) => x.fraction === s.fraction);
        return [String(s.fraction), String(Math.round(s.videos)), [...new Set(rs.map((x) => x.epochs))].join('/'), [...new Set(rs.map((x) => x.updates))].join('/'), String(s.repeats), pct(s.accuracy), pct(s.se)];
      }),
      ...(r.randomInit ? [['random init', '-', '-', '-', '-', pct(r.randomInit.accuracy), pct(r.randomInit.se)]] : []),
    ],
  );
}

/** The self-contained page: the chart, the table, the budget statement. */
export function dataSizePage(r: DataSizeResults): string {
  const chance = r.runs[0]?.chance ?? r.randomInit?.chance;
  // The protocol's long description is in the paragraph above the chart; a title that long overflows the plot.
  const chart = accuracyCurve({
    title: 'downstream accuracy against training videos',
    xLabel: 'training videos',
    logX: true,
    points: r.summary.map((s) => ({ x: s.videos, y: s.accuracy, se: s.se, label: `${Math.round(s.videos)} videos (fraction ${s.fraction})` })),
    levels: [...(chance !== undefined ? [{ name: 'chance', y: chance }] : []), ...(r.randomInit ? [{ name: 'random init', y: r.randomInit.accuracy, se: r.randomInit.se }] : [])],
  });
  const seNote = r.repeats > 1 ? `SE: standard error of the mean over ${r.repeats} repeats (different nested subsets)` : 'SE: binomial standard error over the n test predictions of the one run';
  return html`<!doctype html><html><head><meta charset="utf-8"><title>Data-size ablation</title><style>body{font-family:sans-serif;margin:2em;max-width:60em}svg{max-width:100%}pre{background:#f4f4f4;padding:1em}.grid{stroke:#e4e4e4}.tick,.legend-text,.axis-label{font-size:11px}.plot-title{font-size:13px;font-weight:bold}</style></head><body>
<h1>Downstream accuracy against pre-training data size</h1>
<p><strong>Budget: ${r.budget}.</strong></p>
<p>Protocol: ${r.metric}. Manifest: ${r.manifest.videos} videos; nested seeded subsets (each smaller subset inside each larger one). ${seNote}.</p>
${chart}<pre>${dataSizeTable(r)}</pre></body></html>`.value;
}

/** Trains and evaluates every (fraction, repeat); writes and returns ablation.json (and ablation.html). */
export async function runDataSizeAnalysis(base: PretrainConfig, settings: ProtocolSettings, o: DataSizeOptions): Promise<{ results: DataSizeResults; json: string; page: string }> {
  const fractions = checkFractions(o.fractions);
  const repeats = o.repeats ?? 1;
  if (!Number.isInteger(repeats) || repeats < 1) throw new Error(`--repeat must be a positive integer; got ${repeats}`);
  const log = o.progress ?? ((line: string) => process.stderr.write(`${line}\n`));
  const outDir = path.resolve(o.outDir ?? path.join(base.runsDir, `${base.name}-data-size`));
  mkdirSync(outDir, { recursive: true });
  const jsonFile = path.join(outDir, 'ablation.json');
  const pageFile = path.join(outDir, 'ablation.html');
  const stored = readStored(jsonFile, settings, o.equal);
  const manifest = await fullManifest(base, outDir, log);
  const fullVideos = manifest.entries.length;
  const results: DataSizeResults = {
    analysis: 'data-size',
    equal: o.equal,
    budget: statement(o.equal, base, fullVideos),
    metric: describeProtocol(settings),
    settings,
    config: base.name,
    manifest: { path: manifest.path, videos: fullVideos },
    fractions,
    repeats,
    randomInit: null,
    runs: [],
    summary: [],
  };
  log(`data-size: ${fullVideos} videos, fractions ${fractions.join(', ')}, ${repeats} repeat(s); ${results.budget}`);
  const write = () => {
    results.runs.sort((a, b) => a.fraction - b.fraction || a.repeat - b.repeat);
    results.summary = summarise(results.runs);
    writeFileAtomic(jsonFile, `${JSON.stringify(results, null, 2)}\n`);
    writeFileAtomic(pageFile, dataSizePage(results));
  };

  // Plan: every (repeat, fraction) run, trained unless finished, evaluated unless its result is reusable.
  type Job = { fraction: number; repeat: number; name: string; config: PretrainConfig; videos: number; updates: number };
  const jobs: Job[] = [];
  mkdirSync(path.join(outDir, 'subsets'), { recursive: true });
  for (let repeat = 0; repeat < repeats; repeat++) {
    const subsets = nestedSubsetIndices(fullVideos, fractions, base.seed, repeat);
    // Largest first: the longest run's rate gives the ETA early, and its kept checkpoints (ablate-epochs on it)
    // are ready first.
    for (const fraction of [...fractions].reverse()) {
      const name = `f${fraction}-r${repeat}`;
      const subsetFile = path.join(outDir, 'subsets', `${name}.jsonl`);
      const entries = subsetEntries(manifest.entries, subsets.get(fraction)!);
      writeManifest(subsetFile, entries);
      const config = runConfig(base, { name, outDir, manifest: subsetFile, videos: entries.length, fullVideos, equal: o.equal });
      jobs.push({ fraction, repeat, name, config, videos: entries.length, updates: config.train.epochs * stepsPerEpoch(config, entries.length) });
    }
  }
  const eta = new StageEta('ablate-data-size', log);
  const checkpointOf = (job: Job) => path.join(outDir, job.name, RUN_CHECKPOINT);
  const reusable = (job: Job): DataSizeRun | undefined => {
    const old = stored?.runs.find((r) => r.fraction === job.fraction && r.repeat === job.repeat);
    if (!old || !existsSync(checkpointOf(job))) return undefined;
    return sameJson(old.identity, weightsIdentity(checkpointOf(job), settings.seed)) && old.epochs === job.config.train.epochs ? old : undefined;
  };
  const toRun = jobs.filter((job) => {
    const old = reusable(job);
    if (old) results.runs.push(old);
    return !old;
  });
  for (const job of toRun) {
    eta.plan('training', job.updates);
    eta.plan('evaluation');
  }
  const randomInput = `random:${jobs[0].config.runsDir}/${jobs[0].name}`;
  const randomIdentity = weightsIdentity(randomInput, settings.seed);
  const randomDone = stored?.randomInit && sameJson(stored.randomInit.identity, randomIdentity);
  if (randomDone) results.randomInit = stored!.randomInit;
  else eta.plan('evaluation');
  log(`data-size: ${jobs.length} run(s), ${jobs.length - toRun.length} reused; ${toRun.length} to train (or resume) and evaluate${randomDone ? '' : ', and the random init'}`);

  const evaluator = new ProtocolEvaluator(settings, o);
  for (const job of toRun) {
    const trained = await eta.run('training', job.updates, `trained ${job.name}: ${job.videos} videos, ${job.config.train.epochs} epochs`, () => pretrain(job.config, { existing: 'resume', progress: o.trainProgress }));
    if (trained.status !== 'completed') {
      log(`data-size: ${job.name} stopped (${trained.status}) at epoch ${trained.epoch}; run the same command again to resume`);
      write();
      return { results, json: jsonFile, page: pageFile };
    }
    const checkpoint = trained.checkpoint;
    const s: ProtocolScore = await eta.run('evaluation', 1, `evaluated ${job.name}`, () => evaluator.evaluate(checkpoint));
    results.runs.push({
      fraction: job.fraction,
      repeat: job.repeat,
      videos: job.videos,
      epochs: job.config.train.epochs,
      updates: trained.step,
      run: job.name,
      identity: weightsIdentity(checkpoint, settings.seed),
      settings,
      ...s,
    });
    write();
  }
  if (!randomDone) {
    // The architecture's random init: a seeded network of the first run's architecture (all runs share it).
    const s = await eta.run('evaluation', 1, 'evaluated the random init', () => evaluator.evaluate(randomInput));
    results.randomInit = { input: randomInput, identity: randomIdentity, settings, ...s };
  }
  write();
  return { results, json: jsonFile, page: pageFile };
}
