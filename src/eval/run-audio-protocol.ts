// The sound-classification protocols on a frozen audio encoder (ESC/DCASE style), cross-validated over the
// labels' folds: 'svm' (one-vs-rest linear SVM, the papers' protocol), 'probe' (multinomial logistic
// regression) and 'knn' (cosine k-NN on per-sample means). One runner for the three: they share the one
// expensive step, the per-clip block features (cached), and differ only in the classifier over them.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type * as T from '../tensor/index.js';
import { readRunArtifact, takeEncoder, artifactIdentity, disposeArtifact, type RandomArchitecture } from '../train/run-artifact.js';
import { evaluateOnDevice } from '../train/device-transfer.js';
import { readLabelSet, labelsFromEscDirectory, type LabelSet } from './labels.js';
import { SVM_AUDIO_POOLING, type BlockPooling } from './features.js';
import { createAudioFrontend, evaluationFrontend, type AudioFrontend, type EvaluationAudioOptions } from './audio-frontend.js';
import type { SpectrogramStats } from '../media/spectrogram.js';
import { loadAudioStatsFile } from './audio-stats-file.js';
import { extractAudioFeatures } from './audio-features.js';
import { runSvmProtocol } from './svm-protocol.js';
import { linearProbeFolds } from './linear-probe.js';
import { knnCrossValidation } from './knn.js';
import { percent, type Cell } from './results.js';
import type { FeatureMatrix } from './svm.js';
import { recogniseBenchmark } from './benchmark-recognition.js';

export const AUDIO_PROTOCOLS = ['svm', 'probe', 'knn'] as const;
export type AudioProtocol = (typeof AUDIO_PROTOCOLS)[number];

export interface AudioProtocolOptions extends EvaluationAudioOptions {
  /** --checkpoint: a run, checkpoint, state dict, 'random' (with `random`) or 'random:<...>'. */
  checkpoint: string;
  random?: RandomArchitecture;
  /** The audio files; labels from `labels` (CSV) or the ESC file names in `data`. */
  data: string;
  labels?: string;
  blocks: string[];
  clipsPerSample: number;
  /** Default: the checkpoint's audio window, sample rate and hop. */
  clipSeconds?: number;
  sampleRate?: number;
  hopSeconds?: number;
  batchSize: number;
  cacheDir?: string;
  seed: number;
  testFolds?: number[];
  device: T.Device;
  svm: { cGrid: number[]; tolerance: number; maxIterations: number };
  k: number;
  log: (line: string) => void;
}

/**
 * The protocol's one figure that a paper would report, with what it measures (the run file's EvaluationRecord):
 * SVM, the last conv block (conv5x) as the papers; linear probe, the best block when several were evaluated.
 */
export interface HeadlineFigure {
  protocol: 'audio-svm' | 'audio-linear-probe';
  /** The benchmark the labels were recognised as (eval/benchmark-recognition.ts), or null. */
  benchmark: string | null;
  data: string;
  block: string;
  /** Mean accuracy over the tested folds (video@1 for the probe), a fraction. */
  score: number;
  /** Samples tested (each once, in its fold). */
  samples: number;
}

export interface AudioProtocolRun {
  /** The results JSON. */
  result: Record<string, unknown>;
  table: { headers: string[]; rows: Cell[][] };
  /** Absent for k-NN (no paper figure uses it). */
  headline?: HeadlineFigure;
}

/** Mean of each sample's clip rows: one embedding per sample (for k-NN). */
function meanPerSample(m: FeatureMatrix, sampleOfClip: Int32Array, samples: number): FeatureMatrix {
  const out = new Float32Array(samples * m.cols);
  const counts = new Float32Array(samples);
  for (let c = 0; c < m.rows; c++) {
    const s = sampleOfClip[c];
    counts[s]++;
    for (let k = 0; k < m.cols; k++) out[s * m.cols + k] += m.data[c * m.cols + k];
  }
  for (let s = 0; s < samples; s++) for (let k = 0; k < m.cols; k++) out[s * m.cols + k] /= counts[s];
  return { data: out, rows: samples, cols: m.cols };
}

export async function runAudioProtocol(protocol: AudioProtocol, o: AudioProtocolOptions): Promise<AudioProtocolRun> {
  const { log, seed, testFolds } = o;
  if (!existsSync(o.data) || !statSync(o.data).isDirectory()) throw new Error(`--data ${o.data}: not a directory`);
  const blocks: Record<string, BlockPooling> = {};
  for (const b of o.blocks) {
    if (!SVM_AUDIO_POOLING[b]) throw new Error(`--blocks: unknown block '${b}' (allowed: ${Object.keys(SVM_AUDIO_POOLING).join(', ')})`);
    blocks[b] = SVM_AUDIO_POOLING[b];
  }
  const labels: LabelSet = o.labels ? readLabelSet(o.labels) : labelsFromEscDirectory(o.data);
  const files = labels.entries.map((e) => path.resolve(o.data, e.file));
  const missing = files.filter((f) => !existsSync(f));
  if (missing.length > 0) throw new Error(`${missing.length} labelled file(s) not found under ${o.data}, e.g. ${missing.slice(0, 3).join(', ')}`);
  const numClasses = labels.classNames.length;
  log(`${protocol}: ${files.length} samples, ${numClasses} classes, folds ${[...new Set(labels.entries.map((e) => e.fold))].sort((a, b) => a - b).join(', ')}`);

  // The architecture and the audio window come from the checkpoint; the protocol's clip length and
  // spectrogram may still be set (without the run's statistics, each clip is standardised on its own).
  const artifact = readRunArtifact(o.checkpoint, { seed, random: o.random });
  const identity = artifactIdentity(artifact);
  const { audioStats, config } = artifact;
  const clipSeconds = o.clipSeconds ?? config.audio.seconds;
  // The checkpoint's front end (imported reference checkpoints: 'reference', with their config's settings),
  // normalised with --audio-stats, else the checkpoint's statistics. Chosen before the encoder is taken, so
  // that a bad choice frees the model.
  let givenStats: SpectrogramStats | null;
  let frontend: AudioFrontend;
  try {
    const settings = {
      frontend: evaluationFrontend(config, o.frontend),
      sampleRate: o.sampleRate ?? config.audio.sampleRate,
      hopSec: o.hopSeconds ?? config.audio.hopSeconds,
      windowSec: config.audio.windowSeconds,
      freqBins: config.audio.freqBins,
    };
    givenStats = o.audioStatsFile ? loadAudioStatsFile(o.audioStatsFile, createAudioFrontend(settings).options.spectrogram) : null;
    frontend = createAudioFrontend({ ...settings, stats: givenStats ?? audioStats, statsFile: givenStats ? path.resolve(o.audioStatsFile!) : undefined });
  } catch (error) {
    disposeArtifact(artifact);
    throw error;
  }
  const encoder = takeEncoder(artifact, 'audio');
  if (givenStats) log(`spectrogram: statistics of ${o.audioStatsFile} (${JSON.stringify(givenStats.config)})`);
  else if (audioStats) log(`spectrogram: the checkpoint's statistics and config (${JSON.stringify(audioStats.config)})`);
  else log(`spectrogram: the '${frontend.options.spectrogram.frontend ?? 'paper'}' front end (${JSON.stringify(frontend.options.spectrogram)}), standardised per clip`);
  const inputRate = frontend.options.spectrogram.sampleRate;
  let features;
  try {
    features = await extractAudioFeatures(evaluateOnDevice(encoder, o.device, ['forwardBlocks']), files, {
      blocks,
      frontend,
      sampleRate: inputRate,
      clipSeconds,
      clipsPerSample: o.clipsPerSample,
      batchSize: o.batchSize,
      cacheDir: o.cacheDir,
      // Statistics from a file change the input: the feature cache must tell them apart.
      encoderIdentity: givenStats ? { ...identity, audioStats: { mean: givenStats.mean, std: givenStats.std } } : identity,
      log,
    });
  } finally {
    encoder.dispose();
  }
  log(`features: ${features.sampleOfClip.length} clips in ${features.seconds.toFixed(1)} s${features.fromCache ? ' (cache)' : ''}`);

  const samples = labels.entries;
  const started = performance.now();
  const perBlock: Record<string, unknown> = {};
  const rows: (string | number)[][] = [];
  let headers: string[] = [];
  for (const block of o.blocks) {
    const m = features.blocks.get(block)!;
    const clips = { features: m, sampleOfClip: features.sampleOfClip };
    log(`${block}: ${m.cols} features per clip`);
    if (protocol === 'svm') {
      const r = runSvmProtocol(samples, clips, numClasses, { ...o.svm, seed, testFolds, log });
      perBlock[block] = r;
      headers = ['block', 'fold', 'accuracy %', 'clip acc %', 'C', 'unconverged (final+inner)', 'seconds'];
      for (const f of r.folds) rows.push([block, f.fold, percent(f.accuracy), percent(f.clipAccuracy), String(f.chosenC), `${f.unconverged}+${f.innerUnconverged}`, Math.round(f.seconds * 10) / 10]);
      rows.push([block, 'mean', percent(r.meanAccuracy), percent(r.meanClipAccuracy), '', '', '']);
    } else if (protocol === 'probe') {
      const r = linearProbeFolds(samples, clips, numClasses, { seed, testFolds, log });
      perBlock[block] = r;
      headers = ['block', 'fold', 'clip@1 %', 'video@1 %', 'weight decay'];
      for (const f of r.folds) rows.push([block, f.fold, percent(f.clipAccuracy), percent(f.videoAccuracy), String(f.chosenWeightDecay)]);
      rows.push([block, 'mean', percent(r.meanClipAccuracy), percent(r.meanVideoAccuracy), '']);
    } else {
      const r = knnCrossValidation(meanPerSample(m, features.sampleOfClip, samples.length), samples, numClasses, { k: o.k, testFolds });
      perBlock[block] = r;
      headers = ['block', 'fold', 'accuracy %'];
      for (const f of r.folds) rows.push([block, f.fold, percent(f.accuracy)]);
      rows.push([block, 'mean', percent(r.meanAccuracy)]);
    }
  }
  const classifySeconds = (performance.now() - started) / 1000;
  const benchmark = recogniseBenchmark(labels, !o.labels);
  const tested = samples.filter((e) => !testFolds || testFolds.includes(e.fold)).length;
  const figure = (block: string, score: number, p: HeadlineFigure['protocol']): HeadlineFigure => ({ protocol: p, benchmark, data: path.basename(path.resolve(o.data)), block, score, samples: tested });
  let headline: HeadlineFigure | undefined;
  if (protocol === 'svm') {
    const block = o.blocks.includes('conv5x') ? 'conv5x' : o.blocks[o.blocks.length - 1];
    headline = figure(block, (perBlock[block] as { meanAccuracy: number }).meanAccuracy, 'audio-svm');
  } else if (protocol === 'probe') {
    const scores = o.blocks.map((b) => [b, (perBlock[b] as { meanVideoAccuracy: number }).meanVideoAccuracy] as const);
    const best = scores.reduce((a, b) => (b[1] > a[1] ? b : a));
    headline = figure(scores.length > 1 ? 'best' : best[0], best[1], 'audio-linear-probe');
  }
  const result = {
    protocol,
    data: path.resolve(o.data),
    labels: o.labels ? path.resolve(o.labels) : 'ESC file names',
    classNames: labels.classNames,
    encoder: identity,
    settings: { clipsPerSample: o.clipsPerSample, clipSeconds, sampleRate: inputRate, frontend: frontend.options, blocks, seed, testFolds: testFolds ?? 'all' },
    timing: { featureSeconds: features.seconds, featuresFromCache: features.fromCache, classifySeconds },
    results: perBlock,
  };
  return { result, table: { headers, rows }, headline };
}
