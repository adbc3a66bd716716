// Evaluation clips of labelled audio files: K clips of a fixed length, uniformly spaced over each file
// (the protocol's "10 clips per sample"), deterministic (no augmentation at evaluation), decoded once per
// file with ffmpeg and cut in memory.
import { probeMedia } from '../media/probe.js';
import { decodeAudio } from '../media/decode.js';
import { uniformClipStarts } from '../media/clip-sampling.js';

export interface AudioClipOptions {
  /** Hz (default 24000, the papers'). */
  sampleRate?: number;
  /** Seconds per clip (default 2). */
  clipSeconds?: number;
  /** Clips per file (default 10). */
  clipsPerSample?: number;
}

/**
 * Start times of `count` clips of `clipSeconds` spread uniformly over [0, duration − clipSeconds]: the first
 * at 0, the last ending at the end (one clip: centred). A file shorter than one clip gives `count` clips at 0
 * (padded with silence by the decoder). The media layer's function: evaluation and spectrogram statistics
 * place clips alike.
 */
export { uniformClipStarts };

/** The clips of one file, each exactly round(clipSeconds × sampleRate) samples. */
export async function loadUniformAudioClips(path: string, options: AudioClipOptions = {}, signal?: AbortSignal): Promise<Float32Array[]> {
  const sampleRate = options.sampleRate ?? 24000;
  const clipSeconds = options.clipSeconds ?? 2;
  const count = options.clipsPerSample ?? 10;
  const info = await probeMedia(path, { verifyEnd: false, signal });
  if (!info.audio) throw new Error(`${path}: no audio stream`);
  const duration = info.audio.durationSec > 0 ? info.audio.durationSec : info.durationSec;
  const whole = Math.max(duration, clipSeconds);
  const { samples } = await decodeAudio(path, { startSec: 0, durationSec: whole, sampleRate }, { signal });
  const length = Math.round(clipSeconds * sampleRate);
  return uniformClipStarts(duration, clipSeconds, count).map((start) => {
    const from = Math.min(Math.round(start * sampleRate), Math.max(0, samples.length - length));
    const clip = new Float32Array(length);
    clip.set(samples.subarray(from, from + length));
    return clip;
  });
}
