// For datasets small enough to hold in memory decoded (the synthetic world, a few hundred short clips): each
// video is decoded once, whole, at the clip frame rate and a reduced size, with its audio; every epoch's
// clips are then cut from memory (same timing, crop, flip and jitter as the dataset plans them) instead of
// starting an ffmpeg process per clip, which would bound training at a few clips per second on 2 cores.
import * as T from '../tensor/index.js';
import { decodeAudioVisualClip } from '../media/decode.js';
import type { ManifestEntry } from './manifest.js';
import { ClipDataset, type ClipDatasetOptions, type ItemOutcome, type Sample } from './dataset.js';

interface DecodedVideo {
  frames: Uint8Array;
  count: number;
  width: number;
  height: number;
  audio: Float32Array;
}

export interface InMemoryOptions {
  /** Frames per second to keep (the clips' rate). */
  fps: number;
  /** Decoded frames keep the aspect ratio with this shorter side (at most the source's). */
  shortSide: number;
  sampleRate: number;
  workers?: number;
  /** Refuse to hold more than this many bytes (default 6 GiB). */
  maxBytes?: number;
  onProgress?: (done: number, total: number) => void;
}

// Runs in one process (the demo's Cross-AVID then CMA phases, then its evaluation) decode the same videos once.
const memo = new Map<string, Promise<DecodedVideo[]>>();
const byPath = new Map<string, DecodedVideo & { fps: number; sampleRate: number }>();

/** A video already decoded in this process at this frame rate and sample rate, if any. */
export function decodedVideo(path: string, fps: number, sampleRate: number): DecodedVideo | null {
  const v = byPath.get(path);
  return v && v.fps === fps && v.sampleRate === sampleRate ? v : null;
}

/**
 * Frames at times start + k/fps (the last one repeated past the end), resized to width × height, as
 * numFrames × height × width × 3 bytes; and `seconds` of audio from `audioStart` (zero-padded).
 */
export function cutClip(
  v: DecodedVideo,
  fps: number,
  sampleRate: number,
  start: number,
  numFrames: number,
  width: number,
  height: number,
  audioStart: number,
  seconds: number,
  view: { crop?: { x: number; y: number; width: number; height: number }; flip?: boolean } = {},
): { pixels: Uint8Array; samples: Float32Array; paddedFrames: number; paddedSamples: number } {
  const frameBytes = v.width * v.height * 3;
  const picked = new Uint8Array(numFrames * frameBytes);
  let paddedFrames = 0;
  for (let k = 0; k < numFrames; k++) {
    let j = Math.floor((start + k / fps) * fps + 1e-6);
    if (j >= v.count) {
      j = v.count - 1;
      paddedFrames++;
    }
    picked.set(v.frames.subarray(j * frameBytes, (j + 1) * frameBytes), k * frameBytes);
  }
  const c = view.crop ?? { x: 0, y: 0, width: v.width, height: v.height };
  const pixels = T.tidy(() => {
    let frames = T.tensor(picked, [numFrames, v.height, v.width, 3]).permute([0, 3, 1, 2]).narrow(2, c.y, c.height).narrow(3, c.x, c.width).to('float32');
    frames = T.functional.interpolate(frames, [height, width], 'bilinear');
    if (view.flip) frames = frames.flip([3]);
    return frames.round().clamp(0, 255).to('uint8').permute([0, 2, 3, 1]).contiguous().data() as Uint8Array;
  });
  const { samples, paddedSamples } = cutAudio(v.audio, sampleRate, audioStart, seconds);
  return { pixels, samples, paddedFrames, paddedSamples };
}

/** `seconds` of a decoded waveform from `start` (either may run past its ends: zero-padded there). */
export function cutAudio(wave: Float32Array, sampleRate: number, start: number, seconds: number): { samples: Float32Array; paddedSamples: number } {
  const length = Math.round(seconds * sampleRate);
  const first = Math.round(start * sampleRate);
  const samples = new Float32Array(length);
  const from = Math.max(0, first);
  const to = Math.min(wave.length, first + length);
  if (to > from) samples.set(wave.subarray(from, to), from - first);
  return { samples, paddedSamples: length - Math.max(0, to - from) };
}

export function decodeAllVideos(entries: readonly ManifestEntry[], o: InMemoryOptions): Promise<DecodedVideo[]> {
  const key = JSON.stringify([entries.map((e) => e.path), o.fps, o.shortSide, o.sampleRate]);
  let decoded = memo.get(key);
  if (!decoded) {
    decoded = decodeAll(entries, o);
    memo.set(key, decoded);
    decoded.catch(() => memo.delete(key));
  }
  return decoded;
}

async function decodeAll(entries: readonly ManifestEntry[], o: InMemoryOptions): Promise<DecodedVideo[]> {
  const maxBytes = o.maxBytes ?? 6 * 2 ** 30;
  const sizes = entries.map((e) => {
    const scale = Math.min(1, o.shortSide / Math.min(e.width!, e.height!));
    const even = (v: number) => Math.max(2, 2 * Math.round((v * scale) / 2));
    return { width: even(e.width!), height: even(e.height!), count: Math.ceil(e.durationSec * o.fps) };
  });
  const bytes = sizes.reduce((sum, s, i) => sum + s.count * s.width * s.height * 3 + 4 * entries[i].durationSec * o.sampleRate, 0);
  if (bytes > maxBytes) {
    throw new Error(`holding the decoded videos needs ${(bytes / 2 ** 30).toFixed(1)} GiB (more than ${(maxBytes / 2 ** 30).toFixed(1)}): set data.decodeCache to 'none'`);
  }
  const out: DecodedVideo[] = new Array(entries.length);
  let next = 0;
  let done = 0;
  await Promise.all(
    Array.from({ length: Math.min(o.workers ?? 2, entries.length) }, async () => {
      while (next < entries.length) {
        const i = next++;
        const e = entries[i];
        const s = sizes[i];
        const { video, audio } = await decodeAudioVisualClip(
          e.path,
          { startSec: 0, numFrames: s.count, fps: o.fps, outWidth: s.width, outHeight: s.height },
          { startSec: 0, durationSec: e.durationSec, sampleRate: o.sampleRate },
        );
        out[i] = { frames: video.pixels, count: video.decodedFrames, width: s.width, height: s.height, audio: audio.samples };
        byPath.set(e.path, { ...out[i], fps: o.fps, sampleRate: o.sampleRate });
        o.onProgress?.(++done, entries.length);
      }
    }),
  );
  return out;
}

/** A training dataset whose clips are cut from videos decoded in memory (see decodeAllVideos). */
export class InMemoryClipDataset extends ClipDataset {
  constructor(
    entries: readonly ManifestEntry[],
    options: ClipDatasetOptions,
    private readonly videos: DecodedVideo[],
  ) {
    super(entries, options);
    if (videos.length !== entries.length) throw new Error(`in-memory dataset: ${videos.length} decoded videos for ${entries.length} entries`);
  }

  override async get(i: number, epoch: number): Promise<Sample> {
    const plan = this.plan(i, epoch);
    const o = this.options;
    const v = this.videos[plan.index];
    const entry = this.entries[plan.index];
    const [outHeight, outWidth] = o.frameSize;
    // The planned crop is in source pixels; the decoded frames are smaller.
    const crop = plan.crop ?? { x: 0, y: 0, width: entry.width!, height: entry.height! };
    const sx = v.width / entry.width!;
    const sy = v.height / entry.height!;
    const x = Math.min(v.width - 1, Math.floor(crop.x * sx));
    const y = Math.min(v.height - 1, Math.floor(crop.y * sy));
    const scaled = { x, y, width: Math.max(1, Math.min(v.width - x, Math.round(crop.width * sx))), height: Math.max(1, Math.min(v.height - y, Math.round(crop.height * sy))) };
    const t = plan.timing;
    const clip = cutClip(v, o.clip.fps, o.sampleRate, t.videoStartSec, o.clip.numFrames, outWidth, outHeight, t.audioStartSec, t.audioDurationSec, { crop: scaled, flip: plan.flip });
    return { ...plan, video: clip.pixels, audio: clip.samples, paddedFrames: clip.paddedFrames, paddedSamples: clip.paddedSamples, fromCache: true };
  }

  /** Clips cut from memory one by one: there is no file to read once for several. */
  override async getGroup(items: readonly number[], epoch: number): Promise<ItemOutcome[]> {
    return Promise.all(items.map((i) => this.get(i, epoch).then((sample): ItemOutcome => ({ sample }), (error: unknown): ItemOutcome => ({ error }))));
  }
}
