// The training BatchSource over real video files: per sample, a randomly placed clip (decoded, cropped,
// flipped and resized by ffmpeg in one pass) and its audio window (±offset jitter, volume jitter), batched
// into tensors with the log-spectrogram frontend. Every random choice derives from (seed, epoch, sample).
// Decodes run concurrently (`data.workers` ffmpeg processes) with `data.prefetch` batches in flight.
import * as T from '../tensor/index.js';
import type { PretrainConfig } from '../config/schema.js';
import type { ManifestEntry } from '../data/manifest.js';
import { rngFor, type Rng } from '../data/rng.js';
import { decodeVideoClip, decodeAudio, DecodeError, type CropBox } from '../media/decode.js';
import { createAudioFrontend, type AudioFrontend } from '../eval/audio-frontend.js';
import { clipsToUnitTensor, normalizeVideo } from '../media/video-tensor.js';
import type { BatchSource, TrainBatch } from './batch-source.js';
import type { Distributed } from './trainer.js';
import { LongFormSampler } from '../data/long-form-sampler.js';

interface Sample {
  index: number;
  video: Uint8Array;
  audio: Float32Array;
  audioNegative?: Float32Array;
  negativeIsHard?: boolean;
}

/** A crop of at least `minArea` of the frame with aspect ratio in [3/4, 4/3] (multi-scale random crop). */
export function randomCrop(width: number, height: number, minArea: number, rng: Rng): CropBox {
  for (let attempt = 0; attempt < 10; attempt++) {
    const area = width * height * rng.uniform(minArea, 1);
    const aspect = Math.exp(rng.uniform(Math.log(3 / 4), Math.log(4 / 3)));
    const w = Math.round(Math.sqrt(area * aspect));
    const h = Math.round(Math.sqrt(area / aspect));
    if (w <= width && h <= height && w >= 2 && h >= 2) return { x: rng.int(0, width - w + 1), y: rng.int(0, height - h + 1), width: w, height: h };
  }
  const side = Math.min(width, height);
  return { x: Math.floor((width - side) / 2), y: Math.floor((height - side) / 2), width: side, height: side };
}

export class MediaBatchSource implements BatchSource {
  readonly numInstances: number;
  private readonly frontend: AudioFrontend;
  private readonly skippedSamples: { path: string; reason: string }[] = [];
  private hardShare = 0;
  private readonly rank: number;
  private readonly worldSize: number;
  /** Long-form sampling: instances are clips (video, clip slot) and batches hold groups of k. */
  private readonly longForm: LongFormSampler | null;

  constructor(
    readonly config: PretrainConfig,
    readonly entries: ManifestEntry[],
    distributed?: Distributed,
  ) {
    this.longForm =
      config.sampler.kind === 'long-form'
        ? new LongFormSampler(entries.map((e) => e.numClips), { k: config.sampler.k, w: config.sampler.w, batchSize: config.train.batchSize, seed: config.seed })
        : null;
    this.numInstances = this.longForm ? this.longForm.size : entries.length;
    this.rank = distributed?.rank ?? 0;
    this.worldSize = distributed?.worldSize ?? 1;
    this.frontend = createAudioFrontend({
      sampleRate: config.audio.sampleRate,
      windowSec: config.audio.windowSeconds,
      hopSec: config.audio.hopSeconds,
      freqBins: config.audio.freqBins,
      frames: Math.round(config.audio.seconds / config.audio.hopSeconds),
    });
  }

  private get batchSize(): number {
    return this.config.train.batchSize;
  }

  /**
   * The epoch's visiting order over (instance, clip) draws, the same on every rank. Global batch b is
   * draws [b·B·W, (b+1)·B·W); rank r takes its r-th share, so the ranks' data are disjoint and together are
   * exactly what one process with the global batch would see.
   */
  private order(epoch: number): number[] {
    let draws: number[] = [];
    if (this.longForm) draws = this.longForm.epochOrder(epoch);
    else {
      for (let c = 0; c < this.config.data.clipsPerVideo; c++) for (let i = 0; i < this.numInstances; i++) draws.push(i);
      rngFor(this.config.seed, epoch, -1, 'epoch-order').shuffle(draws);
    }
    const shares: number[] = [];
    const global = this.batchSize * this.worldSize;
    for (let b = 0; b < Math.floor(draws.length / global); b++) shares.push(...draws.slice(b * global + this.rank * this.batchSize, b * global + (this.rank + 1) * this.batchSize));
    return shares;
  }

  batchesPerEpoch(epoch: number): number {
    return Math.floor(this.order(epoch).length / this.batchSize);
  }

  setHardNegativeShare(share: number): void {
    this.hardShare = share;
  }

  skipped(): { path: string; reason: string }[] {
    return this.skippedSamples;
  }

  async *epoch(epoch: number, startBatch: number): AsyncIterable<TrainBatch> {
    const order = this.order(epoch);
    const batches = this.batchesPerEpoch(epoch);
    const pending: Promise<Sample | null>[][] = [];
    const limiter = new Limiter(this.config.data.workers);
    const schedule = (b: number) => {
      const ids = order.slice(b * this.batchSize, (b + 1) * this.batchSize);
      pending.push(ids.map((id, slot) => limiter.run(() => this.loadSample(id, epoch, b * this.batchSize + slot))));
    };
    let next = startBatch;
    while (next < batches && pending.length < this.config.data.prefetch) schedule(next++);
    for (let b = startBatch; b < batches; b++) {
      const samples = (await Promise.all(pending.shift()!)).filter((s): s is Sample => s !== null);
      if (next < batches) schedule(next++);
      if (samples.length < 2) continue;
      yield this.collate(samples, epoch, b);
    }
  }

  private async loadSample(index: number, epoch: number, position: number): Promise<Sample | null> {
    const slot = this.longForm?.locate(index);
    const entry = this.entries[slot ? slot.video : index];
    const c = this.config;
    const rng = rngFor(c.seed, epoch, position, 'sample');
    const clipSeconds = c.video.frames / c.video.fps;
    const duration = entry.durationSec;
    const span = Math.max(clipSeconds, c.audio.seconds);
    // Long-form instances are fixed clip slots of a video; otherwise a clip anywhere in the video.
    const start = slot ? Math.min(slot.clip * span, Math.max(0, duration - span)) : rng.uniform(0, Math.max(0, duration - span));
    const offset = c.augment.enabled ? rng.uniform(-c.augment.audioOffsetSeconds, c.augment.audioOffsetSeconds) : 0;
    const audioStart = Math.min(Math.max(0, start + offset), Math.max(0, duration - c.audio.seconds));
    const width = entry.width ?? c.video.size;
    const height = entry.height ?? c.video.size;
    const crop = c.augment.enabled ? randomCrop(width, height, c.augment.minCropArea, rng) : centreSquare(width, height);
    const flip = c.augment.enabled && c.augment.flip && rng.bernoulli(0.5);
    try {
      const [video, audio] = await Promise.all([
        decodeVideoClip(entry.path, { startSec: start, numFrames: c.video.frames, fps: c.video.fps, outWidth: c.video.size, outHeight: c.video.size, crop, flip }),
        decodeAudio(entry.path, { startSec: audioStart, durationSec: c.audio.seconds, sampleRate: c.audio.sampleRate }),
      ]);
      const samples = audio.samples;
      if (c.augment.enabled && c.augment.volumeJitter) {
        const gain = rng.uniform(0.9, 1.1);
        for (let i = 0; i < samples.length; i++) samples[i] *= gain;
      }
      const sample: Sample = { index, video: video.pixels, audio: samples };
      if (c.objective.kind === 'avts') Object.assign(sample, await this.negativeAudio(entry, index, audioStart, epoch, position));
      return sample;
    } catch (error) {
      if (!(error instanceof DecodeError)) throw error;
      this.skippedSamples.push({ path: entry.path, reason: error.reason });
      process.stderr.write(`skipped ${entry.path}: ${error.message}\n`);
      return null;
    }
  }

  /** AVTS: audio of another video (easy) or of the same video shifted by at least the minimum offset (hard). */
  private async negativeAudio(entry: ManifestEntry, index: number, audioStart: number, epoch: number, position: number): Promise<{ audioNegative: Float32Array; negativeIsHard: boolean }> {
    const c = this.config;
    const rng = rngFor(c.seed, epoch, position, 'avts-negative');
    const minOffset = c.objective.avts.minOffsetSeconds;
    const span = entry.durationSec - c.audio.seconds;
    const hardStarts = [audioStart - minOffset, audioStart + minOffset].filter((s) => s >= 0 && s <= span);
    const hard = rng.bernoulli(this.hardShare) && span >= minOffset;
    let file = entry.path;
    let start: number;
    if (hard) {
      // Anywhere at least minOffset away from the in-sync window.
      const candidates: [number, number][] = [];
      if (audioStart - minOffset >= 0) candidates.push([0, audioStart - minOffset]);
      if (audioStart + minOffset <= span) candidates.push([audioStart + minOffset, span]);
      const [lo, hi] = candidates.length ? candidates[rng.int(0, candidates.length)] : [hardStarts[0] ?? 0, hardStarts[0] ?? 0];
      start = rng.uniform(lo, hi);
    } else {
      const other = (index + rng.int(1, this.numInstances)) % this.numInstances;
      file = this.entries[other].path;
      start = rng.uniform(0, Math.max(0, this.entries[other].durationSec - c.audio.seconds));
    }
    const audio = await decodeAudio(file, { startSec: start, durationSec: c.audio.seconds, sampleRate: c.audio.sampleRate });
    return { audioNegative: audio.samples, negativeIsHard: hard };
  }

  private collate(samples: Sample[], epoch: number, batchIndex: number): TrainBatch {
    const c = this.config;
    return T.tidy(() => {
      const n = samples.length;
      const { frames, size } = c.video;
      let video = clipsToUnitTensor(samples.map((s) => s.video), frames, size, size);
      if (c.augment.enabled && c.augment.colorJitter) video = colorJitter(video, c.seed, epoch, batchIndex);
      video = normalizeVideo(video);
      const waves = (list: Float32Array[]) => {
        const flat = new Float32Array(list.length * list[0].length);
        list.forEach((a, i) => flat.set(a, i * a.length));
        return T.tensor(flat, [list.length, list[0].length]);
      };
      const batch: TrainBatch = {
        video,
        audio: this.frontend.toInput(waves(samples.map((s) => s.audio))),
        index: T.tensor(BigInt64Array.from(samples.map((s) => BigInt(s.index))), [n]),
      };
      if (samples[0].audioNegative) {
        batch.audioNegative = this.frontend.toInput(waves(samples.map((s) => s.audioNegative!)));
        batch.negativeIsHard = T.tensor(Uint8Array.from(samples.map((s) => (s.negativeIsHard ? 1 : 0))), [n], 'bool');
      }
      return batch;
    });
  }
}

function centreSquare(width: number, height: number): CropBox {
  const side = Math.min(width, height);
  return { x: Math.floor((width - side) / 2), y: Math.floor((height - side) / 2), width: side, height: side };
}

/** Brightness, contrast and saturation jitter (0.4 each) per clip, drawn from (seed, epoch, batch). */
function colorJitter(video: T.Tensor, seed: number, epoch: number, batchIndex: number): T.Tensor {
  return T.tidy(() => {
    const n = video.size(0);
    const rng = rngFor(seed, epoch, batchIndex, 'color-jitter');
    const draw = () => T.tensor(Float32Array.from({ length: n }, () => rng.uniform(0.6, 1.4)), [n, 1, 1, 1, 1]);
    const brightness = draw();
    const contrast = draw();
    const saturation = draw();
    let v = video.mul(brightness);
    const grey = v.mul(T.tensor(Float32Array.from([0.299, 0.587, 0.114]), [1, 3, 1, 1, 1])).sum(1, true);
    v = v.sub(grey.mean([2, 3, 4], true)).mul(contrast).add(grey.mean([2, 3, 4], true));
    const grey2 = v.mul(T.tensor(Float32Array.from([0.299, 0.587, 0.114]), [1, 3, 1, 1, 1])).sum(1, true);
    v = v.sub(grey2).mul(saturation).add(grey2);
    return v.clamp(0, 1);
  });
}

/** At most `limit` decodes at once. */
class Limiter {
  private active = 0;
  private readonly queue: (() => void)[] = [];
  constructor(private readonly limit: number) {}
  async run<R>(task: () => Promise<R>): Promise<R> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.queue.push(resolve));
    this.active++;
    try {
      return await task();
    } finally {
      this.active--;
      this.queue.shift()?.();
    }
  }
}

export async function createTrainingSource(config: PretrainConfig, entries: ManifestEntry[], _runDir: string, distributed?: Distributed): Promise<BatchSource> {
  return new MediaBatchSource(config, entries, distributed);
}
