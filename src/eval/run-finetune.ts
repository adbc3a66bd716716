// Fine-tuning evaluation: the whole encoder (the --modality branch of an AV run or checkpoint, a bare
// encoder's state dict, or a seeded random one) with dropout and a new linear layer on its max-pooled conv5x
// features, trained end to end per fold (or on the labels' given split), scored clip@1 and video@1 over
// uniformly spaced test clips. Each fold's fine-tuned model is saved beside the results.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import * as T from '../tensor/index.js';
import { saveCheckpoint } from '../io/checkpoint.js';
import { readRunArtifact, takeEncoder, artifactIdentity, disposeArtifact, type RandomArchitecture } from '../train/run-artifact.js';
import { readLabelSet, labelsFromEscDirectory, type LabelSet } from './labels.js';
import { clipGeometry, type ClipGeometry } from './clip-geometry.js';
import { loadAudioStatsFile } from './audio-stats-file.js';
import { spectrogramConfigFor } from '../media/audio-input.js';
import { statisticsSource, type EvaluationAudioOptions } from './audio-frontend.js';
import { FinetuneClassifier, finetune, scaledMilestones, type FinetuneResult, type PooledEncoder } from './finetune.js';
import { loadFinetuneMedia, mediaBatchSource, type FinetuneModality } from './finetune-data.js';
import { kFoldSplits, givenSplit, assertNoGroupLeak, type FoldSplit } from './folds.js';
import { percent, type Cell } from './results.js';

export interface FinetuneRunOptions extends EvaluationAudioOptions {
  checkpoint: string;
  random?: RandomArchitecture;
  data: string;
  labels?: string;
  modality: FinetuneModality;
  epochs: number;
  lr: number;
  weightDecay: number;
  dropout: number;
  testClips: number;
  trainClips: number;
  batchSize: number;
  /** auto: the labels' split column when present, else folds. */
  splits: 'auto' | 'folds' | 'given';
  testFolds?: number[];
  seed: number;
  /** Where the fold checkpoints go, named <stem>.fold<k>.safetensors (or <stem>.given.safetensors). */
  saveDir: string;
  stem: string;
  log: (line: string) => void;
}

/**
 * The encoder to fine-tune and the clip geometry (frames, size, spectrogram, statistics) of its config;
 * the other encoder and the heads of an AV model are freed.
 */
function loadFinetuneEncoder(o: FinetuneRunOptions, modality: FinetuneModality, seed: number): { encoder: PooledEncoder; geometry: ClipGeometry; identity: unknown } {
  const artifact = readRunArtifact(o.checkpoint, { seed, random: o.random });
  const identity = artifactIdentity(artifact);
  let geometry: ClipGeometry;
  try {
    // Statistics from a file replace the checkpoint's (which need not match the chosen front end then).
    geometry = clipGeometry(artifact.config, o.audioStatsFile ? null : artifact.audioStats, o.frontend);
    if (o.audioStatsFile) geometry.audioStats = loadAudioStatsFile(o.audioStatsFile, spectrogramConfigFor(geometry));
  } catch (error) {
    disposeArtifact(artifact);
    throw error;
  }
  try {
    const encoder: PooledEncoder = modality === 'audio' ? takeEncoder(artifact, 'audio') : takeEncoder(artifact, 'video');
    return { encoder, geometry, identity };
  } catch (error) {
    throw new Error(`--modality ${modality}: ${(error as Error).message}`);
  }
}

export async function runFinetune(o: FinetuneRunOptions): Promise<{ result: Record<string, unknown>; table: { headers: string[]; rows: Cell[][] } }> {
  const { log, seed, modality, epochs, lr, weightDecay, dropout, testClips, trainClips, batchSize } = o;
  if (!existsSync(o.data) || !statSync(o.data).isDirectory()) throw new Error(`--data ${o.data}: not a directory`);
  const labels: LabelSet = o.labels ? readLabelSet(o.labels) : labelsFromEscDirectory(o.data);
  const files = labels.entries.map((e) => path.resolve(o.data, e.file));
  const missing = files.filter((f) => !existsSync(f));
  if (missing.length > 0) throw new Error(`${missing.length} labelled file(s) not found under ${o.data}, e.g. ${missing.slice(0, 3).join(', ')}`);
  const hasGiven = labels.entries.some((e) => e.split === 'test');
  const splitMode = o.splits === 'auto' ? (hasGiven ? 'given' : 'folds') : o.splits;
  if (splitMode !== 'given' && splitMode !== 'folds') throw new Error(`--splits must be auto, folds or given; got '${o.splits}'`);
  if (splitMode === 'given' && !hasGiven) throw new Error(`--splits given: ${o.labels ?? o.data} has no 'split' column marking test files`);
  const testFolds = o.testFolds;
  const splits: FoldSplit[] = splitMode === 'given' ? [givenSplit(labels.entries)] : kFoldSplits(labels.entries, testFolds);
  for (const split of splits) assertNoGroupLeak(labels.entries, split);
  const numClasses = labels.classNames.length;
  const label = labels.entries.map((e) => e.label);
  log(`finetune: ${files.length} ${modality} samples, ${numClasses} classes, ${splitMode === 'given' ? 'the given train/test split' : `held-out folds ${splits.map((s) => s.heldOutFold).join(', ')}`}`);

  // The geometry (and statistics) of the checkpoint decide how the media are decoded, once for all folds.
  const probe = loadFinetuneEncoder(o, modality, seed);
  probe.encoder.dispose();
  const media = await loadFinetuneMedia(files, modality, probe.geometry, log);
  const saveDir = o.saveDir;
  const stem = o.stem;
  const folds: (FinetuneResult & { fold: number; trainSamples: number; checkpoint: string })[] = [];
  for (const split of splits) {
    const { encoder } = loadFinetuneEncoder(o, modality, seed);
    const model = new FinetuneClassifier(encoder, numClasses, { dropout, generator: new T.Generator(seed) });
    // Dropout draws from the default generator: seeded per fold so that a fold can be rerun alone.
    T.manualSeed(seed * 1009 + split.heldOutFold);
    const source = mediaBatchSource(media, label, split.train, split.test, { seed, batchSize, testClips, trainClips, log });
    try {
      log(`finetune: ${splitMode === 'given' ? 'given split' : `fold ${split.heldOutFold}`}: ${split.train.length} training, ${split.test.length} test samples`);
      const r = await finetune(model, source, { epochs, lr, weightDecay, log });
      const checkpoint = path.join(saveDir, `${stem}.${splitMode === 'given' ? 'given' : `fold${split.heldOutFold}`}.safetensors`);
      saveCheckpoint(checkpoint, {
        groups: { model: model.stateDict() },
        scalars: { protocol: 'finetune', modality, heldOutFold: split.heldOutFold, classNames: labels.classNames, encoder: probe.identity, geometry: { ...probe.geometry, audioStats: undefined }, epochs },
      });
      folds.push({ ...r, fold: split.heldOutFold, trainSamples: split.train.length, checkpoint });
      log(`finetune: ${splitMode === 'given' ? 'given split' : `fold ${split.heldOutFold}`}: video@1 ${percent(r.videoAccuracy)}%, clip@1 ${percent(r.clipAccuracy)}% (${r.seconds.toFixed(0)} s); saved ${checkpoint}`);
    } finally {
      await source.close();
      model.dispose();
    }
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const meanVideoAccuracy = mean(folds.map((f) => f.videoAccuracy));
  const meanClipAccuracy = mean(folds.map((f) => f.clipAccuracy));
  const result = {
    protocol: 'finetune',
    modality,
    data: path.resolve(o.data),
    labels: o.labels ? path.resolve(o.labels) : 'ESC file names',
    classNames: labels.classNames,
    encoder: probe.identity,
    settings: {
      epochs,
      lr,
      milestones: scaledMilestones(epochs),
      gamma: 0.3,
      weightDecay,
      dropout,
      batchSize,
      trainClips,
      testClips,
      splits: splitMode,
      seed,
      geometry: { ...probe.geometry, audioStats: statisticsSource(probe.geometry.audioStats, o.audioStatsFile && path.resolve(o.audioStatsFile)) },
    },
    results: { meanVideoAccuracy, meanClipAccuracy, folds },
  };
  const rows: Cell[][] = folds.map((f) => [splitMode === 'given' ? 'given' : f.fold, percent(f.videoAccuracy), percent(f.clipAccuracy), f.epochs[f.epochs.length - 1].loss.toFixed(3), percent(f.epochs[f.epochs.length - 1].trainAccuracy), Math.round(f.seconds)]);
  rows.push(['mean', percent(meanVideoAccuracy), percent(meanClipAccuracy), '', '', '']);
  return { result, table: { headers: ['fold', 'video@1 %', 'clip@1 %', 'final train loss', 'final train acc %', 'seconds'], rows } };
}
