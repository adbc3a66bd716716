// Synchronisation accuracy on held-out videos (AVTS): for a video clip, is its in-sync audio closer to the
// clip than an out-of-sync one? Easy pairs take the negative from another video; hard pairs from the same
// video shifted by at least `minOffsetSeconds`. Chance is 50%.
//
// Each video gives several pairs (in-sync start and shift drawn from (seed, video, pair), as in training),
// because one pair per video leaves the standard error near 7 points on a 48-video test split. Not every
// hard pair can be told apart: a rhythm that repeats every ~0.5 s or ~1 s (the synthetic world's regular,
// double and triplet rhythms) shifted by a multiple of its period sounds the same in the window the model
// sees. When the videos have ground truth beside them (`<file>.json` with `events`, as `avid synth` writes),
// each hard pair is marked ambiguous when the two audio windows hold the same event pattern to within half
// a frame, and accuracy is reported on the distinguishable ones separately.
import { readFileSync, existsSync } from 'node:fs';
import * as T from '../tensor/index.js';
import type { AVModel } from '../models/index.js';
import { probeMedia } from '../media/probe.js';
import { clipsToNetworkInput } from '../media/video-tensor.js';
import { decodeAllVideos, cutClip, cutAudio } from '../data/in-memory-videos.js';
import type { ManifestEntry } from '../data/manifest.js';
import { Rng, hash32 } from '../data/rng.js';
import { stackWaveforms } from '../media/audio-input.js';
import { audioInputFor, type ClipGeometry } from './clip-geometry.js';

/** Correct pairs out of n, with the binomial standard error of the accuracy. */
export interface SyncRate {
  correct: number;
  n: number;
  accuracy: number;
  standardError: number;
}

export interface SyncAccuracy {
  easy: SyncRate;
  hard: SyncRate;
  /** Hard pairs whose two windows hold different event patterns (null without ground truth). */
  hardDistinct: SyncRate | null;
  /** Hard pairs whose windows hold the same pattern to within half a frame: chance is all one can expect. */
  hardAmbiguous: SyncRate | null;
  /** Hard accuracy per class label (when the videos have labels): the rhythms differ in how often they repeat. */
  hardByLabel: Record<string, SyncRate>;
  videos: number;
  pairsPerVideo: number;
}

export interface SyncPair {
  /** Index of the video in the list given. */
  video: number;
  /** In-sync window (video clip and audio start together, as in training). */
  start: number;
  /** Start of the same video's out-of-sync audio (the hard negative). */
  hardStart: number;
  /** The other video (index) whose in-sync audio is the easy negative, and its start. */
  easyVideo: number;
  easyStart: number;
  /** Whether the hard pair is indistinguishable by its event pattern (null without ground truth). */
  ambiguous: boolean | null;
}

export interface SyncVideo {
  path: string;
  durationSec: number;
  label?: number | string;
  /** Sound onsets in seconds (the synthetic world's ground truth), when known. */
  events?: number[] | null;
}

export function syncRate(hits: boolean[]): SyncRate {
  const n = hits.length;
  const correct = hits.filter(Boolean).length;
  const accuracy = n ? correct / n : NaN;
  return { correct, n, accuracy, standardError: n ? Math.sqrt((accuracy * (1 - accuracy)) / n) : NaN };
}

/** The sound onsets of a synthetic-world video (`<file>.json` beside it), or null. */
export function groundTruthEvents(file: string): number[] | null {
  const sidecar = file.replace(/\.[^.]+$/, '.json');
  if (!existsSync(sidecar)) return null;
  const gt = JSON.parse(readFileSync(sidecar, 'utf8')) as { events?: unknown };
  return Array.isArray(gt.events) && gt.events.every((e) => typeof e === 'number') ? (gt.events as number[]) : null;
}

/**
 * Do the windows [a, a + seconds) and [b, b + seconds) hold the same event pattern, each event's time relative
 * to its window's start matched by one in the other within `tolerance`? Events within `tolerance` of either
 * window edge may or may not be seen (the last frames, a note cut at the start), so they are not required to match.
 */
export function samePattern(events: number[], a: number, b: number, seconds: number, tolerance: number): boolean {
  const relative = (start: number) => events.map((e) => e - start).filter((t) => t > -tolerance && t < seconds + tolerance);
  const inner = (t: number) => t >= tolerance && t <= seconds - tolerance;
  const ra = relative(a);
  const rb = relative(b);
  const matched = (from: number[], to: number[]) => from.filter(inner).every((t) => to.some((u) => Math.abs(u - t) <= tolerance));
  return matched(ra, rb) && matched(rb, ra);
}

/**
 * `pairsPerVideo` pairs per video. The in-sync start is uniform over the clip positions; the hard negative's
 * start uniform over the positions at least `minOffsetSeconds` away (both sides when both fit), as training
 * draws them; the easy negative is the next video's audio at its own in-sync start.
 */
export function syncPairs(videos: SyncVideo[], g: ClipGeometry, o: { minOffsetSeconds: number; pairsPerVideo: number; seed: number }): SyncPair[] {
  const clipSeconds = g.frames / g.fps;
  const span = Math.max(clipSeconds, g.audioSeconds);
  const tolerance = 0.5 / g.fps;
  const pairs: SyncPair[] = [];
  const starts = videos.map((v, vi) => Array.from({ length: o.pairsPerVideo }, (_, p) => new Rng(hash32(o.seed, vi, p, 'sync-start')).uniform(0, Math.max(0, v.durationSec - span))));
  for (const [vi, v] of videos.entries()) {
    const last = v.durationSec - g.audioSeconds;
    for (let p = 0; p < o.pairsPerVideo; p++) {
      const rng = new Rng(hash32(o.seed, vi, p, 'sync-hard'));
      const start = starts[vi][p];
      const ranges: [number, number][] = [];
      if (start - o.minOffsetSeconds >= 0) ranges.push([0, start - o.minOffsetSeconds]);
      if (start + o.minOffsetSeconds <= last) ranges.push([start + o.minOffsetSeconds, last]);
      if (!ranges.length) throw new Error(`sync evaluation: ${v.path} (${v.durationSec.toFixed(2)} s) has no audio window ${o.minOffsetSeconds} s away from ${start.toFixed(2)} s`);
      const [lo, hi] = ranges[rng.int(0, ranges.length)];
      const hardStart = rng.uniform(lo, hi);
      const easyVideo = (vi + 1) % videos.length;
      pairs.push({
        video: vi,
        start,
        hardStart,
        easyVideo,
        easyStart: starts[easyVideo][p],
        ambiguous: v.events ? samePattern(v.events, start, hardStart, g.audioSeconds, tolerance) : null,
      });
    }
  }
  return pairs;
}

/** The decoded clips of a list of pairs: video clip, in-sync audio, hard and easy negative audio. */
interface PairClips {
  pixels: Uint8Array[];
  inSync: Float32Array[];
  hard: Float32Array[];
  easy: Float32Array[];
}

async function cutPairs(videos: SyncVideo[], pairs: SyncPair[], g: ClipGeometry, workers: number): Promise<PairClips> {
  // Decoded once each, whole, at the clip rate and twice the input size, and cut as training cuts them.
  const entries: ManifestEntry[] = [];
  for (const [index, v] of videos.entries()) {
    const info = await probeMedia(v.path, { verifyEnd: false });
    if (!info.video || !info.audio) throw new Error(`sync evaluation: ${v.path} needs a video and an audio stream`);
    entries.push({ index, path: v.path, durationSec: v.durationSec, fps: info.video.fps, width: info.video.width, height: info.video.height, audioSampleRate: info.audio.sampleRate, audioChannels: info.audio.channels, numClips: 1 });
  }
  const decoded = await decodeAllVideos(entries, { fps: g.fps, shortSide: 2 * g.size, sampleRate: g.sampleRate, workers });
  const out: PairClips = { pixels: [], inSync: [], hard: [], easy: [] };
  const audio = (vi: number, start: number) => cutAudio(decoded[vi].audio, g.sampleRate, start, g.audioSeconds).samples;
  for (const p of pairs) {
    const clip = cutClip(decoded[p.video], g.fps, g.sampleRate, p.start, g.frames, g.size, g.size, p.start, g.audioSeconds);
    out.pixels.push(clip.pixels);
    out.inSync.push(clip.samples);
    out.hard.push(audio(p.video, p.hardStart));
    out.easy.push(audio(p.easyVideo, p.easyStart));
  }
  return out;
}

function summarise(videos: SyncVideo[], pairs: SyncPair[], easyHits: boolean[], hardHits: boolean[], pairsPerVideo: number): SyncAccuracy {
  const withTruth = pairs.every((p) => p.ambiguous !== null);
  const byLabel: Record<string, boolean[]> = {};
  pairs.forEach((p, i) => {
    const label = videos[p.video].label;
    if (label !== undefined) (byLabel[String(label)] ??= []).push(hardHits[i]);
  });
  return {
    easy: syncRate(easyHits),
    hard: syncRate(hardHits),
    hardDistinct: withTruth ? syncRate(hardHits.filter((_, i) => !pairs[i].ambiguous)) : null,
    hardAmbiguous: withTruth ? syncRate(hardHits.filter((_, i) => pairs[i].ambiguous)) : null,
    hardByLabel: Object.fromEntries(Object.entries(byLabel).map(([k, hits]) => [k, syncRate(hits)])),
    videos: videos.length,
    pairsPerVideo,
  };
}

export interface SyncEvaluationOptions {
  minOffsetSeconds: number;
  /** Pairs per video (default 4). */
  pairsPerVideo?: number;
  seed?: number;
  workers?: number;
  batchSize?: number;
}

function usableVideos(videos: SyncVideo[], g: ClipGeometry, minOffsetSeconds: number): SyncVideo[] {
  const span = Math.max(g.frames / g.fps, g.audioSeconds);
  const usable = videos.filter((v) => v.durationSec >= span + minOffsetSeconds + 0.05);
  if (usable.length < 2) throw new Error(`sync evaluation: need 2 videos longer than ${(span + minOffsetSeconds).toFixed(2)} s, found ${usable.length}`);
  return usable;
}

/** In-sync accuracy of a model on easy and hard pairs of held-out videos. */
export async function evaluateSync(model: AVModel, videos: SyncVideo[], g: ClipGeometry, o: SyncEvaluationOptions): Promise<SyncAccuracy> {
  const usable = usableVideos(videos, g, o.minOffsetSeconds);
  const pairsPerVideo = o.pairsPerVideo ?? 4;
  const pairs = syncPairs(usable, g, { minOffsetSeconds: o.minOffsetSeconds, pairsPerVideo, seed: o.seed ?? 0 });
  const clips = await cutPairs(usable, pairs, g, o.workers ?? 2);
  const batchSize = o.batchSize ?? 32;
  const easyHits: boolean[] = [];
  const hardHits: boolean[] = [];
  model.eval();
  for (let s = 0; s < pairs.length; s += batchSize) {
    const e = Math.min(pairs.length, s + batchSize);
    const { easy, hard } = T.noGrad(() =>
      T.tidy(() => {
        const v = model.embedVideo(clipsToNetworkInput(clips.pixels.slice(s, e), g.frames, g.size, g.size, null));
        const embed = (w: Float32Array[]) => model.embedAudio(audioInputFor(g, stackWaveforms(w)));
        const dPos = v.sub(embed(clips.inSync.slice(s, e))).norm(2, 1);
        const closer = (negative: T.Tensor) => Array.from(dPos.lt(v.sub(negative).norm(2, 1)).toArray() as (number | boolean)[], Boolean);
        return { easy: closer(embed(clips.easy.slice(s, e))), hard: closer(embed(clips.hard.slice(s, e))) };
      }),
    );
    easyHits.push(...easy);
    hardHits.push(...hard);
  }
  return summarise(usable, pairs, easyHits, hardHits, pairsPerVideo);
}

/**
 * A hand-made detector with no learning, to tell what a clip of this length and frame rate allows: the
 * pair's score is the correlation, over the clip's frames, between the visual change (mean positive
 * luminance increase from the previous frame: flashes, swells, hits) and the audio onset strength (positive
 * log-spectral flux between the two frames' times). The in-sync audio should correlate better. It sees the
 * silent distractor's flashes too, so it is a floor on what the world allows, not a ceiling.
 */
export async function evaluateSyncOracle(videos: SyncVideo[], g: ClipGeometry, o: SyncEvaluationOptions): Promise<SyncAccuracy> {
  const usable = usableVideos(videos, g, o.minOffsetSeconds);
  const pairsPerVideo = o.pairsPerVideo ?? 4;
  const pairs = syncPairs(usable, g, { minOffsetSeconds: o.minOffsetSeconds, pairsPerVideo, seed: o.seed ?? 0 });
  const clips = await cutPairs(usable, pairs, g, o.workers ?? 2);
  const easyHits: boolean[] = [];
  const hardHits: boolean[] = [];
  for (let i = 0; i < pairs.length; i++) {
    const visual = visualChange(clips.pixels[i], g);
    const score = (samples: Float32Array) => correlation(visual, onsetStrength(samples, g));
    const pos = score(clips.inSync[i]);
    easyHits.push(pos > score(clips.easy[i]));
    hardHits.push(pos > score(clips.hard[i]));
  }
  return summarise(usable, pairs, easyHits, hardHits, pairsPerVideo);
}

/** Per frame k ≥ 1: mean positive luminance increase from frame k − 1. */
function visualChange(pixels: Uint8Array, g: ClipGeometry): number[] {
  const area = g.size * g.size;
  const lum = (k: number, p: number) => {
    const o = (k * area + p) * 3;
    return 0.299 * pixels[o] + 0.587 * pixels[o + 1] + 0.114 * pixels[o + 2];
  };
  const out: number[] = [];
  for (let k = 1; k < g.frames; k++) {
    let sum = 0;
    for (let p = 0; p < area; p++) sum += Math.max(0, lum(k, p) - lum(k - 1, p));
    out.push(sum / area);
  }
  return out;
}

/** Per frame k ≥ 1: positive log-power flux of the audio between the times of frames k − 1 and k. */
function onsetStrength(samples: Float32Array, g: ClipGeometry): number[] {
  const hop = Math.round(g.hopSeconds * g.sampleRate);
  const win = Math.round(g.windowSeconds * g.sampleRate);
  const energies: number[] = [];
  // Broadband log energy per hop: the notes' onsets stand well above the noise bed.
  for (let s = 0; s + win <= samples.length; s += hop) {
    let e = 0;
    for (let j = s; j < s + win; j++) e += samples[j] * samples[j];
    energies.push(Math.log(e / win + 1e-10));
  }
  const out: number[] = [];
  for (let k = 1; k < g.frames; k++) {
    const from = Math.floor(((k - 1) / g.fps) / g.hopSeconds);
    const to = Math.min(energies.length - 1, Math.floor((k / g.fps) / g.hopSeconds));
    let flux = 0;
    for (let j = Math.max(1, from + 1); j <= to; j++) flux += Math.max(0, energies[j] - energies[j - 1]);
    out.push(flux);
  }
  return out;
}

function correlation(a: number[], b: number[]): number {
  const n = a.length;
  const ma = a.reduce((s, x) => s + x, 0) / n;
  const mb = b.reduce((s, x) => s + x, 0) / n;
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < n; i++) {
    ab += (a[i] - ma) * (b[i] - mb);
    aa += (a[i] - ma) ** 2;
    bb += (b[i] - mb) ** 2;
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
}
