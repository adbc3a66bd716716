// One downstream evaluation, reduced to the numbers an analysis plots: the accuracy of one network (a
// checkpoint, a run, or `random:<run>`) under one protocol, with its standard error, the chance level and the
// number of test predictions. Both analyses (accuracy against epochs, against data size) evaluate many
// networks "the same way": the settings below are that "same way", stored beside every result so that results
// of different settings are never mixed.
//
//   svm      ESC/DCASE protocol on a sound dataset: one-vs-rest linear SVM on the audio encoder's block
//            features, cross-validated over the folds (src/eval/run-audio-protocol.ts, as `avid eval svm`)
//   probe    the same features, multinomial logistic regression (as `avid eval probe`; video@1)
//   eval-av  linear probe on a labelled video set's train → test split, one block of one encoder
//            (src/eval/av-evaluation.ts, as `avid eval-av`; video@1)
//
// The standard error is the binomial one of the pooled test predictions, √(p(1−p)/n): every test sample is
// predicted once (each fold held out in turn), so n is the number of labelled samples scored.
import path from 'node:path';
import { existsSync, statSync } from 'node:fs';
import { runAudioProtocol } from '../eval/run-audio-protocol.js';
import { readLabelSet, labelsFromEscDirectory, type LabelSet } from '../eval/labels.js';
import { readLabelledVideos, evaluateAV, type LabelledVideo } from '../eval/av-evaluation.js';
import { decodeEvalClips, type EvalClips } from '../eval/av-features.js';
import { clipGeometry } from '../eval/clip-geometry.js';
import { SVM_AUDIO_POOLING } from '../eval/features.js';
import { evaluationFrontend } from '../eval/audio-frontend.js';
import { readRunArtifact, avModelOf, disposeArtifact } from '../train/run-artifact.js';
import type { AudioFrontendName } from '../media/spectrogram.js';

export const ANALYSIS_PROTOCOLS = ['svm', 'probe', 'eval-av'] as const;
export type AnalysisProtocol = (typeof ANALYSIS_PROTOCOLS)[number];

/** What decides a result: two evaluations with equal settings are comparable, any difference is refused. */
export type ProtocolSettings =
  | {
      protocol: 'svm' | 'probe';
      /** The sound files (absolute). */
      data: string;
      /** A labels CSV (absolute), or 'ESC file names'. */
      labels: string;
      block: string;
      clipsPerSample: number;
      seed: number;
      testFolds: number[] | 'all';
      frontend: AudioFrontendName | 'checkpoint';
      /** SVM only. */
      svm?: { cGrid: number[]; tolerance: number; maxIterations: number };
    }
  | {
      protocol: 'eval-av';
      /** The labelled videos' CSV (absolute). */
      labels: string;
      modality: 'video' | 'audio';
      block: string;
      clipsPerVideo: number;
      seed: number;
      frontend: AudioFrontendName | 'checkpoint';
    };

/** One network's result. */
export interface ProtocolScore {
  /** Sample-level accuracy in [0, 1] (svm: mean over folds; probe and eval-av: video@1). */
  accuracy: number;
  /** Binomial standard error of the accuracy over the n test predictions. */
  se: number;
  /** The accuracy of always answering the most frequent class of the test samples. */
  chance: number;
  /** Test predictions (labelled samples scored). */
  n: number;
  /** Per held-out fold (svm, probe). */
  folds?: { fold: number; accuracy: number; n: number }[];
  /** Wall-clock seconds of this evaluation. */
  seconds: number;
}

export interface ProtocolRuntime {
  /** The audio feature cache (svm, probe); undefined: none. */
  cacheDir?: string;
  batchSize?: number;
  log?: (line: string) => void;
}

export const SVM_DEFAULTS = { cGrid: [0.001, 0.01, 0.1, 1, 10, 100], tolerance: 0.01, maxIterations: 1000 };

/** Settings from loose options, validated: every error names the option and what it allows. */
export function protocolSettings(o: {
  protocol: AnalysisProtocol;
  data?: string;
  labels?: string;
  block?: string;
  clips?: number;
  seed?: number;
  testFolds?: number[];
  frontend?: string;
  modality?: 'video' | 'audio';
  svm?: Partial<typeof SVM_DEFAULTS>;
}): ProtocolSettings {
  const seed = o.seed ?? 0;
  const frontend = o.frontend === undefined ? 'checkpoint' : evaluationFrontend(null, o.frontend);
  const block = o.block ?? 'conv5x';
  if (o.protocol === 'eval-av') {
    if (!o.labels) throw new Error('--labels is required for --protocol eval-av: the labelled videos CSV (file,label,fold,group,...,split)');
    if (!existsSync(o.labels)) throw new Error(`--labels ${o.labels}: no such file`);
    if (o.data !== undefined) throw new Error('--data is for svm and probe (the sound files); eval-av reads the videos its --labels CSV names');
    if (!/^conv[1-5]x$/.test(block)) throw new Error(`--block: eval-av probes conv1x..conv5x; got '${block}'`);
    return { protocol: 'eval-av', labels: path.resolve(o.labels), modality: o.modality ?? 'audio', block, clipsPerVideo: o.clips ?? 2, seed, frontend };
  }
  if (!o.data) throw new Error(`--data is required for --protocol ${o.protocol}: the directory of labelled sounds (e.g. ESC-10)`);
  if (!existsSync(o.data) || !statSync(o.data).isDirectory()) throw new Error(`--data ${o.data}: not a directory`);
  if (!SVM_AUDIO_POOLING[block]) throw new Error(`--block: unknown block '${block}' (allowed: ${Object.keys(SVM_AUDIO_POOLING).join(', ')})`);
  if (o.labels !== undefined && !existsSync(o.labels)) throw new Error(`--labels ${o.labels}: no such file`);
  return {
    protocol: o.protocol,
    data: path.resolve(o.data),
    labels: o.labels ? path.resolve(o.labels) : 'ESC file names',
    block,
    clipsPerSample: o.clips ?? 10,
    seed,
    testFolds: o.testFolds ? [...o.testFolds].sort((a, b) => a - b) : 'all',
    frontend,
    ...(o.protocol === 'svm' ? { svm: { ...SVM_DEFAULTS, ...o.svm } } : {}),
  };
}

/** A one-line name of what is measured, for tables and charts. */
export function describeProtocol(s: ProtocolSettings): string {
  if (s.protocol === 'eval-av') return `linear probe video@1, ${s.modality} ${s.block}, ${path.basename(path.dirname(s.labels))} train → test`;
  const what = s.protocol === 'svm' ? 'linear SVM' : 'linear probe';
  return `${what} on ${s.block} audio features, ${path.basename(s.data)}, ${s.testFolds === 'all' ? 'all folds' : `folds ${s.testFolds.join(',')}`}, ${s.clipsPerSample} clip(s) per sample`;
}

/** The keys whose values differ between two settings ('' when equal), for refusals that say what differs. */
export function settingsDifference(a: unknown, b: unknown): string[] {
  const flat = (x: unknown, prefix = ''): Map<string, string> => {
    const out = new Map<string, string>();
    if (x !== null && typeof x === 'object' && !Array.isArray(x)) {
      for (const [k, v] of Object.entries(x)) for (const [kk, vv] of flat(v, prefix ? `${prefix}.${k}` : k)) out.set(kk, vv);
    } else out.set(prefix, JSON.stringify(x));
    return out;
  };
  const fa = flat(a);
  const fb = flat(b);
  return [...new Set([...fa.keys(), ...fb.keys()])].filter((k) => fa.get(k) !== fb.get(k)).map((k) => `${k}: ${fa.get(k) ?? '(none)'} ≠ ${fb.get(k) ?? '(none)'}`);
}

/** What identifies a network's weights: the checkpoint file's size and time, or the random seed. */
export type WeightsIdentity = { size: number; mtimeMs: number } | { random: string; seed: number };

export function weightsIdentity(input: string, seed: number): WeightsIdentity {
  if (input.startsWith('random:')) return { random: input.slice('random:'.length), seed };
  const s = statSync(input);
  return { size: s.size, mtimeMs: s.mtimeMs };
}

function binomialError(p: number, n: number): number {
  return n > 0 ? Math.sqrt((p * (1 - p)) / n) : NaN;
}

function majorityShare(labels: number[]): number {
  const counts = new Map<number, number>();
  for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
  return labels.length ? Math.max(...counts.values()) / labels.length : NaN;
}

/**
 * Evaluates networks under one settings, keeping what all of them share (the labels, eval-av's decoded clips)
 * between calls. One evaluator per analysis.
 */
export class ProtocolEvaluator {
  private labelSet: LabelSet | null = null;
  private videos: LabelledVideo[] | null = null;
  private clips = new Map<string, EvalClips>();

  constructor(
    readonly settings: ProtocolSettings,
    private readonly runtime: ProtocolRuntime = {},
  ) {}

  /** The accuracy of `input` (a checkpoint file, a run directory, or 'random:<run|file|config>'). */
  async evaluate(input: string): Promise<ProtocolScore> {
    const started = performance.now();
    const s = this.settings;
    const log = this.runtime.log ?? (() => {});
    const frontend = s.frontend === 'checkpoint' ? undefined : s.frontend;
    if (s.protocol === 'eval-av') {
      this.videos ??= await readLabelledVideos(s.labels);
      const videos = this.videos;
      const artifact = readRunArtifact(input, { seed: s.seed });
      try {
        const geometry = clipGeometry(artifact.config, artifact.audioStats, frontend);
        const key = JSON.stringify(geometry);
        if (!this.clips.has(key)) this.clips.set(key, await decodeEvalClips(videos, geometry, { clipsPerVideo: s.clipsPerVideo }));
        const e = await evaluateAV(avModelOf(artifact, 'the eval-av protocol'), videos, geometry, this.clips.get(key)!);
        const scores = e.probe[s.modality][s.block];
        if (!scores) throw new Error(`${input}: the ${s.modality} encoder has no block '${s.block}' (it has ${Object.keys(e.probe[s.modality]).join(', ')})`);
        const test = videos.filter((v) => v.split === 'test');
        return { accuracy: scores.video, se: binomialError(scores.video, test.length), chance: majorityShare(test.map((v) => v.label)), n: test.length, seconds: (performance.now() - started) / 1000 };
      } finally {
        disposeArtifact(artifact);
      }
    }
    this.labelSet ??= s.labels === 'ESC file names' ? labelsFromEscDirectory(s.data) : readLabelSet(s.labels);
    const { result } = await runAudioProtocol(s.protocol, {
      checkpoint: input,
      frontend,
      data: s.data,
      labels: s.labels === 'ESC file names' ? undefined : s.labels,
      blocks: [s.block],
      clipsPerSample: s.clipsPerSample,
      batchSize: this.runtime.batchSize ?? 32,
      cacheDir: this.runtime.cacheDir,
      seed: s.seed,
      testFolds: s.testFolds === 'all' ? undefined : s.testFolds,
      device: 'cpu',
      svm: s.svm ?? SVM_DEFAULTS,
      k: 20,
      log,
    });
    const r = (result.results as Record<string, { folds: { fold: number; testSamples: number; accuracy?: number; videoAccuracy?: number }[]; meanAccuracy?: number; meanVideoAccuracy?: number }>)[s.block];
    const folds = r.folds.map((f) => ({ fold: f.fold, accuracy: (s.protocol === 'svm' ? f.accuracy : f.videoAccuracy)!, n: f.testSamples }));
    const accuracy = (s.protocol === 'svm' ? r.meanAccuracy : r.meanVideoAccuracy)!;
    const n = folds.reduce((a, f) => a + f.n, 0);
    const heldOut = new Set(folds.map((f) => f.fold));
    const testLabels = this.labelSet.entries.filter((e) => heldOut.has(e.fold)).map((e) => e.label);
    return { accuracy, se: binomialError(accuracy, n), chance: majorityShare(testLabels), n, folds, seconds: (performance.now() - started) / 1000 };
  }
}

