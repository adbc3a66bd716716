// A whole pre-training run from a config: data → model → objective → optimizer → trainer, with the run
// directory's files. Used by `avid pretrain` and `avid demo`.
import path from 'node:path';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import * as T from '../tensor/index.js';
import type { PretrainConfig } from '../config/schema.js';
import { buildManifest, readManifest, writeManifest, writeRejects, type ManifestEntry, type ManifestReject } from '../data/manifest.js';
import { disposeContents } from '../io/checkpoint.js';
import { readCheckpointContents } from './run-artifact.js';
import { Trainer, type TrainResult, type Distributed } from './trainer.js';
import { modelFromConfig, objectiveFromConfig, optimizerFromConfig, scheduleFromConfig, deviceFromConfig } from './from-config.js';
import { fromEnvironment } from '../distributed/environment.js';
import { availableBackends } from '../distributed/process-group.js';
import { makeCurrent } from './device-transfer.js';
import { ensureRunDir, writeJson, writeVersions, resolveRunDir, moveRunAside } from './run-dir.js';
import { checkResumeChanges, isResumeChangeAllowed, type ConfigChange } from '../config/resume.js';
import { openSafetensors } from '../io/safetensors.js';
import { createTrainingSource, trainingAudioStats } from './media-batch-source.js';
import { saveStats, loadStats, type SpectrogramStats } from '../media/spectrogram.js';
import { spectrogramConfigFor } from '../media/audio-input.js';
import type { BatchSource } from './batch-source.js';
import { hardShareAt } from '../ssl/avts.js';
import { Progress } from './progress.js';
import { joinFromEnvironment } from './data-parallel.js';
import { useSyncBatchNorm } from '../nn/index.js';

export interface PretrainOptions {
  /** Continue this run directory from its checkpoint (the config may change only RESUMABLE_KEYS). */
  resumeDir?: string;
  /**
   * When <runsDir>/<name> exists already: 'refuse' (the default: an error naming --resume and --overwrite),
   * 'overwrite' (move it aside with a time stamp, start again), or 'resume' (commands that run several
   * trainings: a finished run is returned as it is, an interrupted one continues; a run of another config,
   * or one with no checkpoint, is moved aside and started again).
   */
  existing?: 'refuse' | 'overwrite' | 'resume';
  distributed?: Distributed;
  /** A ready batch source (tests); by default one is built over the config's videos. */
  source?: BatchSource;
  progress?: NodeJS.WriteStream | null;
}

/** The clip length a file must hold: the video clip and the audio window (plus its jitter). */
function clipSeconds(config: PretrainConfig): number {
  return Math.max(config.video.frames / config.video.fps, config.audio.seconds);
}

/** Reads the manifest, or builds it from a folder, and stops if too many files are unusable. */
export async function loadTrainingManifest(config: PretrainConfig, runDir: string, write = true): Promise<{ entries: ManifestEntry[]; rejects: ManifestReject[]; manifestPath: string }> {
  const source = config.data.source;
  if (!existsSync(source)) throw new Error(`data.source not found: ${source}`);
  let entries: ManifestEntry[];
  let rejects: ManifestReject[] = [];
  let manifestPath = source;
  if (source.endsWith('.jsonl')) {
    entries = readManifest(source);
  } else {
    const progress = new Progress(`probing the files in ${source}`, 1);
    const manifest = await buildManifest([source], {
      mode: 'audio-visual',
      clipSeconds: clipSeconds(config),
      labels: config.data.labels,
      concurrency: config.data.workers,
      onProgress: (done, total) => Object.assign(progress, { total }).update(done),
    });
    progress.done();
    entries = manifest.entries;
    rejects = manifest.rejects;
    manifestPath = path.join(runDir, 'manifest.jsonl');
    if (write) {
      writeManifest(manifestPath, entries);
      writeRejects(path.join(runDir, 'manifest.rejects.jsonl'), rejects);
    }
  }
  const total = entries.length + rejects.length;
  if (total > 0 && rejects.length / total > config.data.maxRejectShare) {
    throw new Error(
      `${rejects.length} of ${total} files are unusable (more than data.maxRejectShare = ${config.data.maxRejectShare}): ` +
        rejects.slice(0, 5).map((r) => `${r.path} (${r.reason})`).join(', ') + (rejects.length > 5 ? ', ...' : ''),
    );
  }
  if (entries.length < 2) throw new Error(`need at least 2 usable videos in ${source}, found ${entries.length}`);
  if (rejects.length) process.stderr.write(`${rejects.length} file(s) skipped, see manifest.rejects.jsonl\n`);
  return { entries, rejects, manifestPath };
}

/** The checkpoint's file in a run directory. */
const checkpointOf = (runDir: string) => path.join(runDir, 'checkpoints', 'last.safetensors');

/** The position a checkpoint holds (its header only is read), or null if it has none readable. */
function checkpointPosition(file: string): { epoch: number; step: number } | null {
  try {
    const reader = openSafetensors(file);
    reader.close();
    const scalars = JSON.parse(reader.header.metadata.scalars ?? 'null') as { epoch?: unknown; step?: unknown } | null;
    if (typeof scalars?.epoch !== 'number' || typeof scalars.step !== 'number') return null;
    return { epoch: scalars.epoch, step: scalars.step };
  } catch {
    return null;
  }
}

function readStoredConfig(runDir: string): unknown {
  const file = path.join(runDir, 'config.json');
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`cannot resume ${runDir}: ${file} is missing or unreadable (${(error as Error).message})`, { cause: error });
  }
}

/**
 * Where this run goes and whether it resumes, by the `existing` policy; throws when a run is there and the
 * policy is 'refuse'. `finished` is set when a resumable run already holds every epoch.
 */
function placeRun(config: PretrainConfig, options: PretrainOptions): { runDir: string; resume: boolean; finished: { epoch: number; step: number } | null } {
  if (options.resumeDir) return { runDir: path.resolve(options.resumeDir), resume: true, finished: null };
  const runDir = resolveRunDir(config.runsDir, config.name);
  if (!existsSync(runDir)) return { runDir, resume: false, finished: null };
  const policy = options.existing ?? 'refuse';
  if (policy === 'refuse') {
    throw new Error(
      `run directory ${runDir} exists already: continue it with \`avid pretrain --resume ${runDir}\`, ` +
        `or start again with --overwrite (the old run is moved aside with a time stamp, not deleted), or choose another name (--set name=...)`,
    );
  }
  if (policy === 'resume') {
    const position = checkpointPosition(checkpointOf(runDir));
    if (position && existsSync(path.join(runDir, 'config.json')) && isResumeChangeAllowed(readStoredConfig(runDir), config)) {
      return { runDir, resume: true, finished: position.epoch >= config.train.epochs ? position : null };
    }
  }
  const aside = moveRunAside(runDir);
  process.stderr.write(`${runDir} existed${policy === 'resume' ? ' (another config, or no checkpoint)' : ''}: moved aside to ${aside}\n`);
  return { runDir, resume: false, finished: null };
}

export async function pretrain(config: PretrainConfig, options: PretrainOptions = {}): Promise<TrainResult> {
  // Only rank 0 of a data-parallel run owns the directory; the others follow its placement.
  const rank = options.distributed?.rank ?? fromEnvironment()?.rank ?? 0;
  if (rank !== 0) {
    const runDir = options.resumeDir ? path.resolve(options.resumeDir) : resolveRunDir(config.runsDir, config.name);
    const resuming = options.resumeDir !== undefined;
    return pretrainIn(runDir, resuming, resuming ? checkResumeChanges(readStoredConfig(runDir), config, path.join(runDir, 'config.json')) : {}, config, options);
  }
  const placed = placeRun(config, options);
  const runDir = placed.runDir;
  if (placed.finished) {
    process.stderr.write(`${runDir} is finished already (epoch ${placed.finished.epoch}, step ${placed.finished.step}): not trained again\n`);
    return { status: 'completed', epoch: placed.finished.epoch, step: placed.finished.step, losses: [], checkpoint: checkpointOf(runDir) };
  }
  const resuming = placed.resume;
  const resumeChanges = resuming ? checkResumeChanges(readStoredConfig(runDir), config, path.join(runDir, 'config.json')) : {};
  if (resuming && !existsSync(checkpointOf(runDir))) throw new Error(`cannot resume ${runDir}: ${checkpointOf(runDir)} not found`);
  // A start that fails before training leaves nothing behind: the directory is removed if this call made it.
  const createdHere = !resuming;
  const removeUnstarted = () => {
    if (createdHere && existsSync(runDir) && !existsSync(checkpointOf(runDir))) rmSync(runDir, { recursive: true, force: true });
  };
  // Ctrl-C before training starts (probing, decoding into memory, statistics): the same; the trainer takes
  // the signal over once it runs.
  const onStartupInterrupt = () => {
    removeUnstarted();
    process.stderr.write(`\ninterrupted before training started: ${createdHere ? `${runDir} removed` : 'the run is unchanged'}\n`);
    process.exit(130);
  };
  process.on('SIGINT', onStartupInterrupt);
  try {
    return await pretrainIn(runDir, resuming, resumeChanges, config, options, () => process.off('SIGINT', onStartupInterrupt));
  } catch (error) {
    removeUnstarted();
    throw error;
  } finally {
    process.off('SIGINT', onStartupInterrupt);
  }
}

async function pretrainIn(runDir: string, resuming: boolean, resumeChanges: Record<string, ConfigChange>, config: PretrainConfig, options: PretrainOptions, onTrainingStarts?: () => void): Promise<TrainResult> {
  // The device first: asking for CUDA on a CPU-only build fails before any other work. Under `avid launch`
  // a plain 'cuda' means this process's GPU (LOCAL_RANK), and CUDA ranks talk over NCCL (when built in)
  // unless AVID_DIST_BACKEND says otherwise.
  const launched = fromEnvironment();
  const { device, precision } = deviceFromConfig(config, launched?.localRank ?? 0);
  makeCurrent(device);
  // NCCL when this build has it (nccl.h at build time); Gloo also exchanges CUDA tensors, more slowly.
  if (device !== 'cpu' && launched && launched.worldSize > 1 && availableBackends().includes('nccl')) process.env.AVID_DIST_BACKEND ??= 'nccl';
  if (device !== 'cpu' || precision !== 'fp32') process.stderr.write(`training on ${device}, precision ${precision}${precision === 'fp16' ? ' (dynamic loss scaling)' : ''}\n`);
  // Under `avid launch` (or torchrun-style variables) this process is one rank of a data-parallel run.
  const dataParallel = options.distributed ? null : joinFromEnvironment();
  if (dataParallel) options = { ...options, distributed: dataParallel };
  const rank = options.distributed?.rank ?? 0;
  if (config.train.threads) T.setNumThreads(config.train.threads);
  if (config.train.deterministic) T.setDeterministic(true);
  T.manualSeed(config.seed);
  if (rank === 0) {
    ensureRunDir(runDir);
    writeJson(runDir, 'config.json', config);
    writeVersions(runDir);
  }

  let source = options.source;
  let audioStats: SpectrogramStats | null = null;
  if (!source) {
    const { entries, rejects, manifestPath } = await loadTrainingManifest(config, runDir, rank === 0);
    const classes = [...new Set(entries.map((e) => e.label).filter((l): l is string => l !== undefined))].sort();
    if (rank === 0) writeJson(runDir, 'data.json', { manifest: manifestPath, entries: entries.length, rejects, ...(classes.length ? { classes } : {}) });
    audioStats = await runAudioStats(config, runDir, entries, resuming, rank);
    source = await createTrainingSource(config, entries, audioStats, options.distributed);
  }
  const worldSize = options.distributed?.worldSize ?? 1;
  if (source.batchesPerEpoch(0) === 0) {
    await source.close?.();
    throw new Error(
      `train.batchSize ${config.train.batchSize}${worldSize > 1 ? ` × ${worldSize} processes` : ''} is larger than the dataset: ` +
        `${source.numInstances} training instances make no full batch (the last partial batch is dropped). Lower train.batchSize or add data.`,
    );
  }

  const model = modelFromConfig(config);
  if (config.train.syncBatchNorm && options.distributed) useSyncBatchNorm(model);
  const mining = new Progress('mining CMA positives', source.numInstances);
  const d = options.distributed;
  const miningSplit = d && d.worldSize > 1 ? { rank: d.rank, worldSize: d.worldSize, allGather: (t: T.Tensor) => d.allGather(t) } : undefined;
  const objective = objectiveFromConfig(
    config,
    source.numInstances,
    (done) => {
      mining.update(done);
      if (done === source.numInstances) mining.done();
    },
    miningSplit,
  );
  if (rank === 0) warnAboutCutNegatives(config, objective, source.numInstances);
  const optimizer = optimizerFromConfig(config, model.parameters(), objective.parameters?.() ?? []);
  const trainer = new Trainer(model, objective, optimizer, source, {
    runDir,
    seed: config.seed,
    epochs: config.train.epochs,
    schedule: scheduleFromConfig(config),
    checkpointEvery: config.train.checkpointEvery,
    keepCheckpoints: config.train.keepCheckpoints,
    logEvery: config.train.logEvery,
    warnRisingLossEpochs: config.train.warnRisingLossEpochs,
    clipGradNorm: config.optim.clipGradNorm,
    maxSkipped: Math.floor(config.data.maxRejectShare * source.numInstances) + 1,
    extraScalars: { config, ...(audioStats ? { audioStats } : {}) },
    distributed: options.distributed,
    progress: options.progress,
    device,
    precision,
    tensorboard: config.train.tensorboard,
    hardNegativeShare: config.objective.kind === 'avts' ? (epoch) => hardShareAt(config.objective.avts, epoch) : undefined,
  });
  try {
    if (resuming) {
      trainer.restore(trainer.checkpointPath);
      // The restored optimizer carries the base learning rate it was saved with; the config's (changed on
      // resume or not) is the one in force, on every rank alike.
      for (const g of optimizer.groups) g.baseLr = config.optim.lr;
      trainer.recordResume(Object.keys(resumeChanges).length ? { overrides: resumeChanges } : {});
      const changed = Object.entries(resumeChanges).map(([k, c]) => `${k} ${JSON.stringify(c.from)} → ${JSON.stringify(c.to)}`);
      process.stderr.write(`resumed at epoch ${trainer.epoch}, step ${trainer.step}${changed.length ? `; changed: ${changed.join(', ')}` : ''}\n`);
    } else if (config.init) {
      initialiseFrom(config.init, trainer);
    }
    dataParallel?.broadcastFrom0(model);
    onTrainingStarts?.();
    return await trainer.run();
  } finally {
    trainer.close();
    dataParallel?.close();
    await source.close?.();
    objective.dispose();
    optimizer.dispose();
    model.dispose();
  }
}

/** Objectives draw at most (instances − 1) negatives: say so when that is fewer than the config asks for. */
function warnAboutCutNegatives(config: PretrainConfig, objective: unknown, numInstances: number): void {
  const used = (objective as { negatives?: unknown }).negatives;
  if (config.objective.kind === 'avts' || typeof used !== 'number' || used >= config.objective.negatives) return;
  process.stderr.write(
    `warning: objective.negatives is ${config.objective.negatives} but the memory bank holds ${numInstances} instances: ` +
      `each step draws ${used} negatives. Results are not comparable with runs that draw ${config.objective.negatives}.\n`,
  );
}

/**
 * The spectrogram statistics of a run: kept from the run being resumed, inherited from the checkpoint a run
 * starts from (CMA continues Cross-AVID on the same data), or computed on the training files. Saved as
 * audio-stats.json in the run directory and in every checkpoint, so that evaluation normalises alike.
 */
async function runAudioStats(config: PretrainConfig, runDir: string, entries: ManifestEntry[], resuming: boolean, rank: number): Promise<SpectrogramStats> {
  const file = path.join(runDir, 'audio-stats.json');
  const expected = spectrogramConfigFor(config.audio);
  let stats: SpectrogramStats | null = null;
  if (resuming && existsSync(file)) stats = loadStats(file, expected);
  if (!stats && config.init) {
    const inherited = readCheckpointContents(config.init);
    disposeContents(inherited);
    const s = inherited.scalars.audioStats as SpectrogramStats | undefined;
    if (s && JSON.stringify(s.config) === JSON.stringify(expected)) stats = s;
  }
  stats ??= await trainingAudioStats(config, entries);
  if (rank === 0) saveStats(file, stats);
  return stats;
}

/** Starts from another run's checkpoint: its model and, when shapes match, its memory banks and Z (CMA). */
function initialiseFrom(file: string, trainer: Trainer): void {
  // Through the one reader: an avid checkpoint, or a reference .pth/.pth.tar converted on the fly.
  const contents = readCheckpointContents(file);
  try {
    trainer.model.loadStateDict(contents.groups.model ?? new Map());
    const objective = contents.groups.objective;
    if (objective?.has('memory.video')) {
      const scalars = (contents.scalars.objective ?? {}) as Record<string, unknown>;
      trainer.objective.loadState({ tensors: objective, scalars: { logZ: scalars.logZ } });
    }
    process.stderr.write(`initialised from ${file}\n`);
  } finally {
    disposeContents(contents);
  }
}
