// Fine-tuning's clips from labelled media files, through the data layer's ClipDataset and DataLoader (the
// same clip timing, seeded per (seed, epoch, sample), spectrogram and video normalisation as pre-training).
// Each file is decoded once per process and its clips are cut from memory: a random clip per training
// sample and epoch, and the K uniformly spaced evaluation clips of each test sample. A split's datasets are
// built only from its own files, so a test file can never reach a training batch.
import * as T from '../tensor/index.js';
import { buildManifest, type ManifestEntry } from '../data/manifest.js';
import { ClipDataset, NO_AUGMENT, PRETRAINING_AUGMENT, type AugmentConfig, type ClipDatasetOptions, type Sample } from '../data/dataset.js';
import { DataLoader, type Batch } from '../data/loader.js';
import { decodeAllVideos, InMemoryClipDataset, cutAudio } from '../data/in-memory-videos.js';
import { decodeAudio } from '../media/decode.js';
import { spectrogramConfigFor } from '../media/audio-input.js';
import type { ClipGeometry } from './clip-geometry.js';
import type { FinetuneBatchSource, TestBatch, TrainBatch } from './finetune.js';

export type FinetuneModality = 'audio' | 'video';

/** The labelled files probed and decoded once, shared by every split. */
export interface FinetuneMedia {
  modality: FinetuneModality;
  geometry: ClipGeometry;
  /** One per input file, in the input order. */
  entries: ManifestEntry[];
  /** Whole decoded files, aligned with entries (video: frames and audio; audio: the waveform). */
  decoded: unknown[];
}

/** Audio clips cut from whole waveforms decoded once (the audio counterpart of InMemoryClipDataset). */
class InMemoryAudioDataset extends ClipDataset {
  constructor(
    entries: readonly ManifestEntry[],
    options: ClipDatasetOptions,
    private readonly waves: Float32Array[],
  ) {
    super(entries, options);
  }

  override async get(i: number, epoch: number): Promise<Sample> {
    const plan = this.plan(i, epoch);
    const { samples, paddedSamples } = cutAudio(this.waves[plan.index], this.options.sampleRate, plan.timing.audioStartSec, plan.timing.audioDurationSec);
    return { ...plan, video: null, audio: samples, paddedFrames: 0, paddedSamples, fromCache: true };
  }
}

/**
 * Probes `files` (absolute paths) and decodes them whole at the geometry's rates: audio waveforms, or video
 * frames at the clip frame rate with the shorter side at the clip size. A file that cannot be used is an
 * error naming it (a silently dropped file would change the folds).
 */
export async function loadFinetuneMedia(files: string[], modality: FinetuneModality, geometry: ClipGeometry, log?: (line: string) => void): Promise<FinetuneMedia> {
  const manifest = await buildManifest(files, { mode: modality === 'audio' ? 'audio' : 'audio-visual', clipSeconds: Math.min(geometry.audioSeconds, 1), verifyEnd: false });
  if (manifest.rejects.length > 0) {
    const r = manifest.rejects[0];
    throw new Error(`fine-tuning: ${manifest.rejects.length} labelled file(s) cannot be used, e.g. ${r.path}: ${r.reason}${r.detail ? ` (${r.detail})` : ''}`);
  }
  const byPath = new Map(manifest.entries.map((e) => [e.path, e]));
  const entries = files.map((f, index) => {
    const e = byPath.get(f);
    if (!e) throw new Error(`fine-tuning: ${f} is missing from its manifest`);
    return { ...e, index };
  });
  const started = performance.now();
  let decoded: unknown[];
  if (modality === 'video') {
    decoded = await decodeAllVideos(entries, {
      fps: geometry.fps,
      shortSide: geometry.size,
      sampleRate: geometry.sampleRate,
      onProgress: (done, total) => (done % 50 === 0 || done === total) && log?.(`finetune: decoded ${done}/${total} videos`),
    });
  } else {
    decoded = new Array(entries.length);
    let next = 0;
    await Promise.all(
      [0, 1].map(async () => {
        while (next < entries.length) {
          const e = entries[next++];
          decoded[e.index] = (await decodeAudio(e.path, { startSec: 0, durationSec: e.durationSec, sampleRate: geometry.sampleRate })).samples;
        }
      }),
    );
  }
  log?.(`finetune: ${entries.length} ${modality} files decoded in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  return { modality, geometry, entries, decoded };
}

/**
 * Fine-tuning's default training augmentation. Video: Table 8 of the AVID-CMA supplement, multi-scale random
 * crop, horizontal flip and colour jitter (the pre-training ranges; no audio stream is used). Audio: none.
 */
export function defaultFinetuneAugment(modality: FinetuneModality): AugmentConfig {
  return modality === 'video' ? { ...PRETRAINING_AUGMENT, volume: null } : NO_AUGMENT;
}

export interface MediaSourceOptions {
  seed: number;
  batchSize: number;
  /** Evaluation clips per test sample (K; default 10). */
  testClips?: number;
  /** Random clips per training sample and epoch (default 1, the papers'). */
  trainClips?: number;
  /** Training augmentation (default: defaultFinetuneAugment). */
  augment?: AugmentConfig;
  /**
   * Drop an incomplete last training batch (default true: batch norm in training mode needs more than one value
   * per channel). False keeps every training sample in every epoch (frozen-encoder features of the draws).
   */
  dropLast?: boolean;
  log?: (line: string) => void;
}

/**
 * The batch source of one split: training batches from `train` (indices into media.entries) with labels
 * `labels[i]`, test batches from `test`. Call close() when done.
 */
export function mediaBatchSource(media: FinetuneMedia, labels: number[], train: number[], test: number[], o: MediaSourceOptions): FinetuneBatchSource & { close(): Promise<void> } {
  const g = media.geometry;
  const leaked = test.filter((i) => new Set(train).has(i));
  if (leaked.length > 0) throw new Error(`fine-tuning split: ${leaked.length} file(s) in both train and test, e.g. ${media.entries[leaked[0]].path}`);
  const subset = (indices: number[]) => indices.map((i, k) => ({ ...media.entries[i], index: k }));
  const datasetOptions = (mode: 'train' | 'eval'): ClipDatasetOptions => ({
    mode,
    seed: o.seed,
    modalities: media.modality,
    clip: { numFrames: g.frames, fps: g.fps, audioSeconds: g.audioSeconds, audioOffsetSec: 0, audioDurationJitter: null },
    frameSize: [g.size, g.size],
    sampleRate: g.sampleRate,
    augment: o.augment ?? defaultFinetuneAugment(media.modality),
    clipsPerVideo: mode === 'train' ? (o.trainClips ?? 1) : (o.testClips ?? 10),
  });
  const dataset = (indices: number[], mode: 'train' | 'eval') =>
    media.modality === 'video'
      ? new InMemoryClipDataset(subset(indices), datasetOptions(mode), indices.map((i) => media.decoded[i]) as ConstructorParameters<typeof InMemoryClipDataset>[2])
      : new InMemoryAudioDataset(subset(indices), datasetOptions(mode), indices.map((i) => media.decoded[i] as Float32Array));
  const loaderOptions = {
    spectrogram: g.audioStats?.config ?? spectrogramConfigFor(g),
    spectrogramStats: g.audioStats ?? undefined,
    log: o.log ?? null,
  };
  const trainSet = dataset(train, 'train');
  // Batch-norm in training mode needs more than one value per channel: drop a last, incomplete batch.
  const trainLoader = new DataLoader(trainSet, { ...loaderOptions, batchSize: Math.max(1, Math.min(o.batchSize, trainSet.length)), dropLast: o.dropLast ?? true });
  const testLoader = new DataLoader(dataset(test, 'eval'), { ...loaderOptions, batchSize: o.batchSize });
  const trainLabels = train.map((i) => labels[i]);
  const inputOf = (b: Batch) => {
    const input = media.modality === 'video' ? b.video : b.audio;
    // The loader assembles both streams of an audio-visual dataset; only one is used.
    for (const t of [b.video, b.audio]) if (t && t !== input) t.dispose();
    b.index.dispose();
    if (!input) throw new Error(`fine-tuning: the loader gave no ${media.modality} tensor`);
    return input;
  };
  return {
    testLabels: test.map((i) => labels[i]),
    async *trainBatches(epoch: number): AsyncGenerator<TrainBatch> {
      for await (const b of trainLoader.epoch(epoch)) {
        const input = inputOf(b);
        yield { input, labels: T.tensor(Int32Array.from(b.meta.map((m) => trainLabels[m.index])), [b.meta.length], 'int64'), samples: b.meta.map((m) => train[m.index]) };
      }
    },
    async *testBatches(): AsyncGenerator<TestBatch> {
      for await (const b of testLoader.epoch(0)) {
        const input = inputOf(b);
        yield { input, samples: b.meta.map((m) => m.index) };
      }
    },
    async close() {
      await Promise.all([trainLoader.close(), testLoader.close()]);
    },
  };
}
