// The training BatchSource over real video files: the media pipeline's dataset and loader (clip sampling,
// augmentations, parallel ffmpeg decoding, spectrograms Z-normalised with the run's statistics, skipped
// files counted) in the order a run needs: uniform or long-form sampling, global batches shared out to
// data-parallel ranks, and a resumed epoch starting at its next batch. Memory-bank instances are videos
// (uniform sampling) or clip slots of videos (long-form sampling). For AVTS each sample also gets a negative
// audio clip: another sample's audio (easy) or the same video's audio shifted in time (hard).
import * as T from '../tensor/index.js';
import type { PretrainConfig } from '../config/schema.js';
import type { ManifestEntry } from '../data/manifest.js';
import { ClipDataset, PRETRAINING_AUGMENT, NO_AUGMENT, type AugmentConfig, type ClipDatasetOptions } from '../data/dataset.js';
import { InMemoryClipDataset, decodeAllVideos, decodedVideo, cutAudio } from '../data/in-memory-videos.js';
import { DataLoader, type Batch } from '../data/loader.js';
import { ShuffleSampler, type Sampler } from '../data/sampler.js';
import { LongFormSampler } from '../data/long-form-sampler.js';
import { rngFor } from '../data/rng.js';
import { decodeAudio } from '../media/decode.js';
import { audioInput, spectrogramConfigFor, stackWaveforms } from '../media/audio-input.js';
import { computeSpectrogramStats } from '../media/spectrogram-stats.js';
import type { SpectrogramStats } from '../media/spectrogram.js';
import type { BatchSource, TrainBatch } from './batch-source.js';
import type { Distributed } from './trainer.js';
import { Progress } from './progress.js';

/**
 * A rank's share of an epoch: global batch b is the base order's items [b·B·W, (b+1)·B·W), and rank r takes
 * its r-th block of B — disjoint across ranks and, together, what one process with the global batch sees.
 * `resumeAt` skips the batches a resumed epoch has already trained on.
 */
class GlobalBatchSampler implements Sampler {
  resumeAt: { epoch: number; batches: number } | null = null;
  constructor(
    readonly base: Sampler,
    readonly batchSize: number,
    readonly rank: number,
    readonly worldSize: number,
  ) {}
  epochOrder(epoch: number): number[] {
    const order = this.base.epochOrder(epoch);
    const global = this.batchSize * this.worldSize;
    const share: number[] = [];
    for (let b = 0; b < Math.floor(order.length / global); b++) {
      const start = b * global + this.rank * this.batchSize;
      share.push(...order.slice(start, start + this.batchSize));
    }
    const skip = this.resumeAt?.epoch === epoch ? this.resumeAt.batches * this.batchSize : 0;
    return share.slice(skip);
  }
}

function augmentFrom(config: PretrainConfig): AugmentConfig {
  const a = config.augment;
  if (!a.enabled) return NO_AUGMENT;
  return {
    crop: { ...PRETRAINING_AUGMENT.crop!, minAreaFraction: a.minCropArea },
    flip: a.flip,
    colorJitter: a.colorJitter ? PRETRAINING_AUGMENT.colorJitter : null,
    volume: a.volumeJitter ? PRETRAINING_AUGMENT.volume : null,
  };
}

/** Per-bin spectrogram statistics over (a spread of) the training files. */
export async function trainingAudioStats(config: PretrainConfig, entries: ManifestEntry[]): Promise<SpectrogramStats> {
  process.stderr.write('computing spectrogram statistics ...\n');
  const { stats, skipped } = await computeSpectrogramStats(entries, spectrogramConfigFor(config.audio), { clipSeconds: config.audio.seconds, clipsPerFile: 2, maxFiles: 128, concurrency: config.data.workers });
  if (skipped.length) process.stderr.write(`spectrogram statistics: ${skipped.length} file(s) could not be decoded: ${skipped.map((s) => s.path).join(', ')}\n`);
  return stats;
}

export class MediaBatchSource implements BatchSource {
  readonly numInstances: number;
  readonly dataset: ClipDataset;
  private readonly loader: DataLoader;
  private readonly sampler: GlobalBatchSampler;
  private readonly longForm: boolean;
  private hardShare = 0;

  constructor(
    readonly config: PretrainConfig,
    readonly entries: ManifestEntry[],
    readonly audioStats: SpectrogramStats,
    distributed?: Distributed,
    decoded?: Awaited<ReturnType<typeof decodeAllVideos>>,
  ) {
    const c = config;
    this.longForm = c.sampler.kind === 'long-form';
    const datasetOptions: ClipDatasetOptions = {
      mode: 'train',
      seed: c.seed,
      clip: {
        numFrames: c.video.frames,
        fps: c.video.fps,
        audioSeconds: c.audio.seconds,
        audioOffsetSec: c.augment.enabled ? c.augment.audioOffsetSeconds : 0,
        audioDurationJitter: c.augment.enabled && c.augment.durationJitter ? [0.7 * c.audio.seconds, 1.4 * c.audio.seconds] : null,
      },
      frameSize: [c.video.size, c.video.size],
      sampleRate: c.audio.sampleRate,
      augment: augmentFrom(c),
      clipsPerVideo: this.longForm ? 'all' : c.data.clipsPerVideo,
    };
    this.dataset = decoded ? new InMemoryClipDataset(entries, datasetOptions, decoded) : new ClipDataset(entries, datasetOptions);
    const base: Sampler = this.longForm
      ? new LongFormSampler(entries.map((e) => this.dataset.itemsOfEntry(e.index).length), { k: c.sampler.k, w: c.sampler.w, batchSize: c.train.batchSize, seed: c.seed })
      : new ShuffleSampler(this.dataset.length, c.seed);
    this.sampler = new GlobalBatchSampler(base, c.train.batchSize, distributed?.rank ?? 0, distributed?.worldSize ?? 1);
    this.loader = new DataLoader(this.dataset, {
      batchSize: c.train.batchSize,
      sampler: this.sampler,
      workers: c.data.workers,
      prefetch: c.data.prefetch,
      spectrogram: spectrogramConfigFor(c.audio),
      spectrogramStats: audioStats,
      log: (m) => process.stderr.write(`${m}\n`),
    });
    this.numInstances = this.longForm ? this.dataset.length : entries.length;
  }

  batchesPerEpoch(epoch: number): number {
    const resume = this.sampler.resumeAt;
    this.sampler.resumeAt = null;
    try {
      return this.loader.batchesPerEpoch(epoch);
    } finally {
      this.sampler.resumeAt = resume;
    }
  }

  setHardNegativeShare(share: number): void {
    this.hardShare = share;
  }

  skipped(): { path: string; reason: string }[] {
    return this.loader.stats().skipped;
  }

  async close(): Promise<void> {
    await this.loader.close();
  }

  async *epoch(epoch: number, startBatch: number): AsyncIterable<TrainBatch> {
    this.sampler.resumeAt = { epoch, batches: startBatch };
    let b = startBatch;
    for await (const batch of this.loader.epoch(epoch)) {
      try {
        yield await this.toTrainBatch(batch, epoch, b++);
      } catch (error) {
        for (const t of [batch.video, batch.audio, batch.index]) t?.dispose();
        throw error;
      }
    }
  }

  private async toTrainBatch(batch: Batch, epoch: number, batchIndex: number): Promise<TrainBatch> {
    let index = batch.index;
    if (this.longForm) {
      // Instances are clip slots: the dataset's item ids.
      const items = batch.meta.map((m) => BigInt(this.dataset.itemsOfEntry(m.index)[m.clipIndex]));
      index = T.tensor(BigInt64Array.from(items), [items.length]);
      batch.index.dispose();
    }
    const out: TrainBatch = { video: batch.video!, audio: batch.audio!, index };
    if (this.config.objective.kind === 'avts') Object.assign(out, await this.negativeAudio(batch, epoch, batchIndex));
    return out;
  }

  /**
   * One out-of-sync audio clip per sample: with probability `hardShare` the same video's audio at least
   * minOffsetSeconds away from the in-sync window (hard), otherwise the in-sync audio of the next sample
   * from another video (easy).
   */
  private async negativeAudio(batch: Batch, epoch: number, batchIndex: number): Promise<{ audioNegative: T.Tensor; negativeIsHard: T.Tensor }> {
    const c = this.config;
    const minOffset = c.objective.avts.minOffsetSeconds;
    const rng = rngFor(c.seed, epoch, batchIndex, 'avts-negatives');
    const n = batch.meta.length;
    const hardStarts = batch.meta.map((m) => {
      const duration = this.entries[m.index].durationSec;
      const span = duration - c.audio.seconds;
      const ranges: [number, number][] = [];
      if (m.audioStartSec - minOffset >= 0) ranges.push([0, m.audioStartSec - minOffset]);
      if (m.audioStartSec + minOffset <= span) ranges.push([m.audioStartSec + minOffset, span]);
      if (!ranges.length || !rng.bernoulli(this.hardShare)) return null;
      const [lo, hi] = ranges[rng.int(0, ranges.length)];
      return rng.uniform(lo, hi);
    });
    const hardWaves = await Promise.all(hardStarts.map((start, i) => (start === null ? null : this.audioAt(batch.meta[i].path, start))));
    return T.tidy(() => {
      // Easy: the in-sync audio of the next sample (cyclically) that comes from another video (a batch of
      // one video's clips alone, possible with long-form sampling, falls back on the next sample).
      const videoOf = batch.meta.map((m) => m.index);
      const other = videoOf.map((v, i) => {
        for (let step = 1; step < n; step++) if (videoOf[(i + step) % n] !== v) return (i + step) % n;
        return (i + 1) % n;
      });
      const easy = batch.audio!.indexSelect(0, T.tensor(BigInt64Array.from(other.map(BigInt)), [n]));
      const hardRows = hardWaves.flatMap((w, i) => (w ? [i] : []));
      let negative = easy;
      if (hardRows.length) {
        const hard = audioInput(stackWaveforms(hardWaves.filter((w): w is Float32Array => w !== null)), c.audio, this.audioStats);
        negative = easy.indexCopy_(0, T.tensor(BigInt64Array.from(hardRows.map(BigInt)), [hardRows.length]), hard);
      }
      const isHard = T.tensor(Uint8Array.from({ length: n }, (_, i) => (hardStarts[i] === null ? 0 : 1)), [n], 'bool');
      return { audioNegative: negative, negativeIsHard: isHard };
    });
  }

  /** `audio.seconds` of a file's audio from `startSec`: cut from memory when the run holds it decoded, else decoded by ffmpeg. */
  private async audioAt(file: string, startSec: number): Promise<Float32Array> {
    const c = this.config;
    const inMemory = decodedVideo(file, c.video.fps, c.audio.sampleRate);
    if (!inMemory) return (await decodeAudio(file, { startSec, durationSec: c.audio.seconds, sampleRate: c.audio.sampleRate })).samples;
    return cutAudio(inMemory.audio, c.audio.sampleRate, startSec, c.audio.seconds).samples;
  }
}

export async function createTrainingSource(config: PretrainConfig, entries: ManifestEntry[], audioStats: SpectrogramStats, distributed?: Distributed): Promise<MediaBatchSource> {
  let decoded: Awaited<ReturnType<typeof decodeAllVideos>> | undefined;
  if (config.data.decodeCache === 'memory') {
    const started = Date.now();
    const progress = new Progress('decoding videos into memory', entries.length);
    decoded = await decodeAllVideos(entries, {
      fps: config.video.fps,
      shortSide: 2 * config.video.size,
      sampleRate: config.audio.sampleRate,
      workers: config.data.workers,
      onProgress: (done) => progress.update(done),
    });
    progress.done();
    process.stderr.write(`decoded ${entries.length} videos in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  }
  return new MediaBatchSource(config, entries, audioStats, distributed, decoded);
}
