// A dataset of clips over a manifest: item i of epoch e → decoded video frames and audio samples, with every
// random choice (clip start, audio offset and length, crop, flip, colour jitter, volume) drawn from the
// stream of (seed, epoch, entry index, clip index) — the same sample whatever the worker, order or resume.
//
// Items: each manifest entry yields `clipsPerVideo` items (a number, or 'all' for the entry's numClips). In
// training, clip c of K draws its random start inside the c-th of K equal segments of the file (K = 1: the
// whole file, the papers' setting); in evaluation the K clips are uniformly spaced and aligned, unaugmented.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { decodeClipsSettled, DecodeError, type ClipRequest, type CropBox } from '../media/decode.js';
import {
  sampleTrainingClip,
  evaluationClips,
  validateClipSampling,
  DEFAULT_CLIP_SAMPLING,
  type ClipSamplingConfig,
  type ClipTiming,
} from '../media/clip-sampling.js';
import {
  sampleMultiScaleCrop,
  centerCropBox,
  evaluationCropBox,
  sampleColorJitter,
  DEFAULT_MULTI_SCALE_CROP,
  DEFAULT_COLOR_JITTER,
  IDENTITY_COLOR_JITTER,
  type MultiScaleCropConfig,
  type ColorJitterConfig,
  type ColorJitterParams,
} from '../media/video-transforms.js';
import { sampleVolumeGain } from '../media/audio-transforms.js';
import { Rng, hash32 } from './rng.js';
import type { ManifestEntry } from './manifest.js';

export type DatasetMode = 'train' | 'eval';
export type Modalities = 'audio-visual' | 'video' | 'audio';

export interface AugmentConfig {
  /** Multi-scale random crop, or null for the centre crop. */
  crop: MultiScaleCropConfig | null;
  /** Horizontal flip with probability 0.5. */
  flip: boolean;
  colorJitter: ColorJitterConfig | null;
  /** Volume gain range, or null. */
  volume: [number, number] | null;
}

/** The papers' pre-training augmentations. */
export const PRETRAINING_AUGMENT: AugmentConfig = { crop: DEFAULT_MULTI_SCALE_CROP, flip: true, colorJitter: DEFAULT_COLOR_JITTER, volume: [0.9, 1.1] };
export const NO_AUGMENT: AugmentConfig = { crop: null, flip: false, colorJitter: null, volume: null };

export interface ClipDatasetOptions {
  mode: DatasetMode;
  seed: number;
  /** Which streams to decode (default audio-visual). */
  modalities?: Modalities;
  /** Clip timing (default: 16 frames at 16 fps, 2 s audio; training offsets and jitter as in the papers). */
  clip?: Partial<ClipSamplingConfig>;
  /** Output frame size [height, width] (default 112 × 112). */
  frameSize?: [number, number];
  /** Audio sample rate (default 24 kHz). */
  sampleRate?: number;
  /** Training augmentations (default the papers'); evaluation never augments. */
  augment?: AugmentConfig;
  /** Items per entry: a number, or 'all' for each entry's numClips (default 1 in training, 10 in evaluation). */
  clipsPerVideo?: number | 'all';
  /** Evaluation only: keep decoded clips in this folder and reuse them (they do not change between epochs). */
  cacheDir?: string;
  /** Time limit of one clip's decode (default 60 s); the native decoder runs each clip on one thread. */
  decodeTimeoutMs?: number;
}

export interface Sample {
  /** Manifest index (the instance id). */
  index: number;
  clipIndex: number;
  path: string;
  /** numFrames × H × W × 3 RGB, or null without video. */
  video: Uint8Array | null;
  /** Mono float32; audioDurationSec × sampleRate samples (a jittered duration is rescaled in the spectrogram when batched). */
  audio: Float32Array | null;
  startSec: number;
  timing: ClipTiming;
  crop: CropBox | null;
  flip: boolean;
  colorJitter: ColorJitterParams;
  volumeGain: number;
  /** Frames repeated / samples of silence added because the file ended early. */
  paddedFrames: number;
  paddedSamples: number;
  fromCache: boolean;
}

/** What fetching one item gave: its sample, or why it could not be had (a DecodeError, a file-system error). */
export type ItemOutcome = { sample: Sample } | { error: unknown };

interface ResolvedOptions {
  mode: DatasetMode;
  seed: number;
  modalities: Modalities;
  clip: ClipSamplingConfig;
  frameSize: [number, number];
  sampleRate: number;
  augment: AugmentConfig;
  clipsPerVideo: number | 'all';
  cacheDir: string | null;
  decodeTimeoutMs: number;
}

export class ClipDataset {
  readonly options: Readonly<ResolvedOptions>;
  private readonly itemEntry: Int32Array;
  private readonly itemClip: Int32Array;
  private readonly itemClipCount: Int32Array;
  private readonly firstItemOf: Int32Array;

  constructor(
    readonly entries: readonly ManifestEntry[],
    options: ClipDatasetOptions,
  ) {
    const mode = options.mode;
    if (mode !== 'train' && mode !== 'eval') throw new Error(`dataset mode must be 'train' or 'eval', got '${String(mode)}'`);
    const clip = { ...DEFAULT_CLIP_SAMPLING, ...options.clip };
    validateClipSampling(clip);
    const frameSize = options.frameSize ?? [112, 112];
    if (!frameSize.every((s) => Number.isInteger(s) && s > 0)) throw new Error(`frameSize must be two positive integers, got ${JSON.stringify(frameSize)}`);
    const clipsPerVideo = options.clipsPerVideo ?? (mode === 'train' ? 1 : 10);
    if (clipsPerVideo !== 'all' && !(Number.isInteger(clipsPerVideo) && clipsPerVideo >= 1)) {
      throw new Error(`clipsPerVideo must be a positive integer or 'all', got ${JSON.stringify(clipsPerVideo)}`);
    }
    if (options.cacheDir && mode !== 'eval') throw new Error('the decoded-clip cache is for evaluation only: training clips change every epoch');
    const modalities = options.modalities ?? 'audio-visual';
    this.options = {
      mode,
      seed: options.seed,
      modalities,
      clip,
      frameSize,
      sampleRate: options.sampleRate ?? 24000,
      augment: mode === 'train' ? (options.augment ?? PRETRAINING_AUGMENT) : NO_AUGMENT,
      clipsPerVideo,
      cacheDir: options.cacheDir ?? null,
      decodeTimeoutMs: options.decodeTimeoutMs ?? 60_000,
    };
    entries.forEach((e, i) => {
      if (e.index !== i) throw new Error(`dataset: entry ${i} has index ${e.index}; pass the manifest's entries in order`);
      if (modalities !== 'audio' && (e.width === null || e.height === null || e.fps === null)) throw new Error(`dataset: ${e.path} has no video stream but modalities is '${modalities}'`);
      if (modalities !== 'video' && e.audioSampleRate === null) throw new Error(`dataset: ${e.path} has no audio stream but modalities is '${modalities}'`);
    });

    const counts = entries.map((e) => (clipsPerVideo === 'all' ? e.numClips : clipsPerVideo));
    const total = counts.reduce((a, b) => a + b, 0);
    this.itemEntry = new Int32Array(total);
    this.itemClip = new Int32Array(total);
    this.itemClipCount = new Int32Array(total);
    this.firstItemOf = new Int32Array(entries.length + 1);
    let item = 0;
    counts.forEach((k, e) => {
      this.firstItemOf[e] = item;
      for (let c = 0; c < k; c++, item++) {
        this.itemEntry[item] = e;
        this.itemClip[item] = c;
        this.itemClipCount[item] = k;
      }
    });
    this.firstItemOf[entries.length] = total;
  }

  /** Number of items (clips) per epoch. */
  get length(): number {
    return this.itemEntry.length;
  }

  /** The manifest entry and clip of item i. */
  item(i: number): { index: number; clipIndex: number; clipCount: number } {
    if (!(Number.isInteger(i) && i >= 0 && i < this.length)) throw new RangeError(`dataset item ${i} out of range [0, ${this.length})`);
    return { index: this.itemEntry[i], clipIndex: this.itemClip[i], clipCount: this.itemClipCount[i] };
  }

  /** The items of one manifest entry (for samplers that group clips of the same video). */
  itemsOfEntry(index: number): number[] {
    const out: number[] = [];
    for (let i = this.firstItemOf[index]; i < this.firstItemOf[index + 1]; i++) out.push(i);
    return out;
  }

  /** Expected audio samples per clip after resampling (the network's window). */
  get audioLength(): number {
    return Math.round(this.options.clip.audioSeconds * this.options.sampleRate);
  }

  /** The random stream of one draw of one item in one epoch. */
  private rng(epoch: number, index: number, clipIndex: number, purpose: string): Rng {
    return new Rng(hash32(this.options.seed, epoch, index, clipIndex, purpose));
  }

  /** Timing and augmentation of item i in `epoch`, without decoding (pure; tests and the cache use it). */
  plan(i: number, epoch: number): Omit<Sample, 'video' | 'audio' | 'paddedFrames' | 'paddedSamples' | 'fromCache'> {
    const { index, clipIndex, clipCount } = this.item(i);
    const entry = this.entries[index];
    const o = this.options;
    const [outHeight, outWidth] = o.frameSize;
    let timing: ClipTiming;
    let crop: CropBox | null = null;
    let flip = false;
    let colorJitter = IDENTITY_COLOR_JITTER;
    let volumeGain = 1;
    const hasVideo = o.modalities !== 'audio';
    if (o.mode === 'train') {
      const segment = entry.durationSec / clipCount;
      const t = sampleTrainingClip(segment, o.clip, this.rng(epoch, index, clipIndex, 'clip'));
      const offset = segment * clipIndex;
      // The audio window may reach past its segment (it is longer than the video clip) but not past the file.
      const audioStartSec = Math.min(Math.max(0, entry.durationSec - t.audioDurationSec), t.audioStartSec + offset);
      timing = { ...t, videoStartSec: t.videoStartSec + offset, audioStartSec };
      const a = o.augment;
      if (hasVideo) {
        crop = a.crop ? sampleMultiScaleCrop(entry.width!, entry.height!, this.rng(epoch, index, clipIndex, 'crop'), a.crop) : centerCropBox(entry.width!, entry.height!, outWidth, outHeight);
        flip = a.flip && this.rng(epoch, index, clipIndex, 'flip').bernoulli(0.5);
        if (a.colorJitter) colorJitter = sampleColorJitter(this.rng(epoch, index, clipIndex, 'color'), a.colorJitter);
      }
      if (a.volume && o.modalities !== 'video') volumeGain = sampleVolumeGain(this.rng(epoch, index, clipIndex, 'volume'), { volumeRange: a.volume });
    } else {
      timing = evaluationClips(entry.durationSec, o.clip, clipCount)[clipIndex];
      if (hasVideo) crop = evaluationCropBox(entry.width!, entry.height!, outWidth, outHeight);
    }
    return { index, clipIndex, path: entry.path, startSec: timing.videoStartSec, timing, crop, flip, colorJitter, volumeGain };
  }

  /**
   * Decodes item i of `epoch`. Rejects with a DecodeError when the file cannot be decoded (the loader skips
   * and counts it), or an AbortError when `signal` fires.
   */
  async get(i: number, epoch: number, signal?: AbortSignal): Promise<Sample> {
    const [outcome] = await this.getGroup([i], epoch, signal);
    if ('error' in outcome) throw outcome.error;
    return outcome.sample;
  }

  /**
   * Decodes several items of one manifest entry in one call: clips reached from the same seek (the same
   * keyframe) share one forward pass over the file, the others seek, each item byte-identical to get(i) —
   * same plan (the random draws are per item, whatever the grouping), same frames and samples. Each item's
   * failure comes back in its place (a corrupt stretch of the file costs only the items that need it); rejects
   * only with an AbortError when `signal` fires. The time limit is per clip (the call's is the sum).
   */
  async getGroup(items: readonly number[], epoch: number, signal?: AbortSignal): Promise<ItemOutcome[]> {
    const plans = items.map((i) => this.plan(i, epoch));
    if (plans.some((p) => p.index !== plans[0].index)) throw new Error(`dataset: getGroup takes items of one entry, got entries ${[...new Set(plans.map((p) => p.index))].join(', ')}`);
    const outcomes: (ItemOutcome | undefined)[] = new Array(items.length);
    const cacheFiles: (string | null)[] = plans.map(() => null);
    if (this.options.cacheDir) {
      plans.forEach((plan, k) => {
        try {
          cacheFiles[k] = this.cachePath(plan);
          const cached = readCache(cacheFiles[k]!, plan);
          if (cached) outcomes[k] = { sample: cached };
        } catch (error) {
          outcomes[k] = { error };
        }
      });
    }
    const pending = plans.flatMap((_, k) => (outcomes[k] ? [] : [k]));
    if (pending.length > 0) {
      const o = this.options;
      const decoded = await decodeClipsSettled(
        plans[0].path,
        pending.map((k) => this.clipRequest(plans[k])),
        { signal, timeoutMs: o.decodeTimeoutMs, join: 'same-seek' },
      );
      pending.forEach((k, j) => {
        const clip = decoded[j];
        if (clip instanceof DecodeError) {
          outcomes[k] = { error: clip };
          return;
        }
        const sample: Sample = {
          ...plans[k],
          video: clip.video ? clip.video.pixels : null,
          audio: clip.audio ? clip.audio.samples : null,
          paddedFrames: clip.video ? clip.video.paddedFrames : 0,
          paddedSamples: clip.audio ? clip.audio.paddedSamples : 0,
          fromCache: false,
        };
        try {
          if (cacheFiles[k]) writeCache(cacheFiles[k]!, sample);
          outcomes[k] = { sample };
        } catch (error) {
          outcomes[k] = { error };
        }
      });
    }
    return outcomes as ItemOutcome[];
  }

  /** The decode request of a plan: its video clip, its audio window, or both (one pass over the file). */
  private clipRequest(plan: ReturnType<ClipDataset['plan']>): ClipRequest {
    const o = this.options;
    const [outHeight, outWidth] = o.frameSize;
    const t = plan.timing;
    const request: ClipRequest = {};
    if (o.modalities !== 'audio') request.video = { startSec: t.videoStartSec, numFrames: o.clip.numFrames, fps: o.clip.fps, outWidth, outHeight, crop: plan.crop ?? undefined, flip: plan.flip };
    if (o.modalities !== 'video') request.audio = { startSec: t.audioStartSec, durationSec: t.audioDurationSec, sampleRate: o.sampleRate };
    return request;
  }

  /** Cache file of a plan: a hash of the file identity (path, size, mtime) and everything decoding depends on. */
  private cachePath(plan: ReturnType<ClipDataset['plan']>): string {
    let identity: string;
    try {
      const st = statSync(plan.path);
      identity = `${st.size}:${st.mtimeMs}`;
    } catch (error) {
      throw new DecodeError(plan.path, 'unreadable', (error as Error).message);
    }
    const o = this.options;
    const key = JSON.stringify([plan.path, identity, plan.timing, plan.crop, plan.flip, o.frameSize, o.clip.numFrames, o.clip.fps, o.sampleRate, o.modalities]);
    return path.join(o.cacheDir!, `${createHash('sha256').update(key).digest('hex').slice(0, 32)}.clip`);
  }
}

// Cache file: a JSON header line (lengths and padding), then the video bytes, then the audio float32 bytes.
function writeCache(file: string, sample: Sample): void {
  const header = Buffer.from(
    JSON.stringify({ video: sample.video?.length ?? -1, audio: sample.audio?.length ?? -1, paddedFrames: sample.paddedFrames, paddedSamples: sample.paddedSamples }) + '\n',
  );
  const parts: Uint8Array[] = [header];
  if (sample.video) parts.push(sample.video);
  if (sample.audio) parts.push(new Uint8Array(sample.audio.buffer, sample.audio.byteOffset, sample.audio.byteLength));
  mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  writeFileSync(temporary, Buffer.concat(parts));
  renameSync(temporary, file);
}

function readCache(file: string, plan: ReturnType<ClipDataset['plan']>): Sample | null {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch {
    return null;
  }
  const newline = bytes.indexOf(10);
  try {
    const h = JSON.parse(bytes.subarray(0, newline).toString('utf8')) as { video: number; audio: number; paddedFrames: number; paddedSamples: number };
    let offset = newline + 1;
    const video = h.video >= 0 ? new Uint8Array(bytes.subarray(offset, offset + h.video)) : null;
    if (h.video >= 0) offset += h.video;
    let audio: Float32Array | null = null;
    if (h.audio >= 0) {
      audio = new Float32Array(h.audio);
      new Uint8Array(audio.buffer).set(bytes.subarray(offset, offset + h.audio * 4));
      offset += h.audio * 4;
    }
    if (offset !== bytes.length) return null; // a damaged cache file is ignored and rewritten
    return { ...plan, video, audio, paddedFrames: h.paddedFrames, paddedSamples: h.paddedSamples, fromCache: true };
  } catch {
    return null;
  }
}
