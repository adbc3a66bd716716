// Where in a file a clip is taken (PAPERS.md, "Audio preprocessing" and "Video preprocessing"): a video clip
// of N frames at F fps, and an audio window of the configured length that starts within ±0.5 s of the video
// (training) or with it (evaluation). Training also jitters the audio duration in [1.4, 2.8] s; its
// spectrogram is rescaled in time to the expected frames (audio-transforms.ts: no pitch shift). Pure timing.

/** The one draw clip timing needs; data/rng.ts's Rng provides it (media does not import data: layering). */
export interface UniformSource {
  uniform(low: number, high: number): number;
}

export interface ClipSamplingConfig {
  /** Frames per video clip (N). */
  numFrames: number;
  /** Frames per second of the clip (F). */
  fps: number;
  /** The audio window the network sees, in seconds (2 s in the papers). */
  audioSeconds: number;
  /** Training: the audio starts within ±audioOffsetSec of the video (0.5 s; 0 for in-sync pairs). */
  audioOffsetSec: number;
  /** Training: the decoded audio duration is drawn from this range (seconds), or null for audioSeconds. */
  audioDurationJitter: [number, number] | null;
}

export const DEFAULT_CLIP_SAMPLING: ClipSamplingConfig = {
  numFrames: 16,
  fps: 16,
  audioSeconds: 2,
  audioOffsetSec: 0.5,
  audioDurationJitter: [1.4, 2.8],
};

export interface ClipTiming {
  videoStartSec: number;
  /** numFrames / fps. */
  videoDurationSec: number;
  audioStartSec: number;
  /** What to decode; differs from the config's audioSeconds when duration jitter is on. */
  audioDurationSec: number;
}

export function videoClipSeconds(config: ClipSamplingConfig): number {
  return config.numFrames / config.fps;
}

export function validateClipSampling(config: ClipSamplingConfig): void {
  const bad = (key: string, why: string) => {
    throw new Error(`clip sampling: ${key} ${why}`);
  };
  if (!Number.isInteger(config.numFrames) || config.numFrames < 1) bad('numFrames', `must be a positive integer, got ${config.numFrames}`);
  if (!(config.fps > 0)) bad('fps', `must be > 0, got ${config.fps}`);
  if (!(config.audioSeconds > 0)) bad('audioSeconds', `must be > 0, got ${config.audioSeconds}`);
  if (!(config.audioOffsetSec >= 0)) bad('audioOffsetSec', `must be ≥ 0, got ${config.audioOffsetSec}`);
  const j = config.audioDurationJitter;
  if (j !== null && !(j.length === 2 && j[0] > 0 && j[1] >= j[0])) bad('audioDurationJitter', `must be null or [min, max] with 0 < min ≤ max, got ${JSON.stringify(j)}`);
}

const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), Math.max(lo, hi));

/**
 * A random training clip of a file lasting `durationSec`: the video start is uniform over the positions
 * where the longer of the two windows fits (a short file starts at 0, and decoding pads), then the audio
 * start moves by U(−offset, +offset), clamped to the file.
 */
export function sampleTrainingClip(durationSec: number, config: ClipSamplingConfig, rng: UniformSource): ClipTiming {
  const videoDurationSec = videoClipSeconds(config);
  const j = config.audioDurationJitter;
  const audioDurationSec = j ? rng.uniform(j[0], j[1]) : config.audioSeconds;
  const span = Math.max(videoDurationSec, audioDurationSec);
  const videoStartSec = rng.uniform(0, Math.max(0, durationSec - span));
  const offset = config.audioOffsetSec > 0 ? rng.uniform(-config.audioOffsetSec, config.audioOffsetSec) : 0;
  const audioStartSec = clamp(videoStartSec + offset, 0, durationSec - audioDurationSec);
  return { videoStartSec, videoDurationSec, audioStartSec, audioDurationSec };
}

/** Starts of `count` windows of `span` seconds spread uniformly over `durationSec` (first at 0, last at the end). */
export function uniformClipStarts(durationSec: number, span: number, count: number): number[] {
  if (!Number.isInteger(count) || count < 1) throw new Error(`clip count must be a positive integer, got ${count}`);
  const room = Math.max(0, durationSec - span);
  if (count === 1) return [room / 2];
  return Array.from({ length: count }, (_, i) => (room * i) / (count - 1));
}

/**
 * The `count` evaluation clips of a file (10 or 25 in the papers): uniformly spaced, audio aligned with the
 * video (same start, the configured length, no jitter).
 */
export function evaluationClips(durationSec: number, config: ClipSamplingConfig, count: number): ClipTiming[] {
  const videoDurationSec = videoClipSeconds(config);
  const span = Math.max(videoDurationSec, config.audioSeconds);
  return uniformClipStarts(durationSec, span, count).map((start) => ({
    videoStartSec: start,
    videoDurationSec,
    audioStartSec: start,
    audioDurationSec: config.audioSeconds,
  }));
}
