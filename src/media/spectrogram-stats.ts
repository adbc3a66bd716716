// Per-frequency-bin statistics of log spectrograms over a training set (supplementary A: "Z-normalise each
// frequency bin with mean and std computed on the training set"), saved with the run.
import * as T from '../tensor/index.js';
import { decodeAudio, DecodeError } from './decode.js';
import { uniformClipStarts } from './clip-sampling.js';
import { checkFiniteSamples } from './finite-samples.js';
import { SpectrogramStatsAccumulator, type SpectrogramConfig, type SpectrogramStats } from './spectrogram.js';
import { audioSpectrogram } from './audio-input.js';

export interface StatsSource {
  path: string;
  durationSec: number;
}

export interface ComputeStatsOptions {
  /** Audio window per clip, seconds (default 2). */
  clipSeconds?: number;
  /** Uniformly spaced windows per file (default 2); more files beat more clips per file. */
  clipsPerFile?: number;
  /** Use at most this many files, spread evenly over the list (default all). */
  maxFiles?: number;
  /** ffmpeg processes at once (default 2). */
  concurrency?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export interface ComputedStats {
  stats: SpectrogramStats;
  /** Files whose audio could not be decoded (they are left out of the statistics, not silently). */
  skipped: { path: string; reason: string }[];
}

/** Decodes windows of every (or every k-th) file and accumulates per-bin mean and std of the log spectrogram. */
export async function computeSpectrogramStats(files: StatsSource[], config: SpectrogramConfig, options: ComputeStatsOptions = {}): Promise<ComputedStats> {
  const clipSeconds = options.clipSeconds ?? 2;
  const clipsPerFile = options.clipsPerFile ?? 2;
  const maxFiles = Math.min(files.length, options.maxFiles ?? files.length);
  const chosen = Array.from({ length: maxFiles }, (_, i) => files[Math.floor((i * files.length) / maxFiles)]);
  const accumulator = new SpectrogramStatsAccumulator(config);
  const skipped: ComputedStats['skipped'] = [];
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < chosen.length) {
      const file = chosen[next++];
      try {
        const waves: Float32Array[] = [];
        for (const start of uniformClipStarts(file.durationSec, clipSeconds, clipsPerFile)) {
          const audio = await decodeAudio(file.path, { startSec: start, durationSec: clipSeconds, sampleRate: config.sampleRate }, { signal: options.signal });
          checkFiniteSamples(audio.samples, file.path, config.sampleRate, start);
          waves.push(audio.samples);
        }
        T.tidy(() => {
          const batch = T.stack(waves.map((w) => T.tensor(w)));
          accumulator.add(audioSpectrogram(batch, config));
        });
      } catch (error) {
        if (!(error instanceof DecodeError)) throw error;
        skipped.push({ path: file.path, reason: error.reason + (error.detail ? ` (${error.detail})` : '') });
      }
      options.onProgress?.(++done, chosen.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 2, chosen.length)) }, worker));
  const stats = accumulator.result();
  // Every window was checked, so this only fails if the spectrogram itself overflowed: never save such statistics.
  const bad = [...stats.mean, ...stats.std].find((v) => !Number.isFinite(v));
  if (bad !== undefined) throw new Error(`spectrogram statistics over ${chosen.length} files are not finite (${bad}); files: ${chosen.slice(0, 5).map((f) => f.path).join(', ')}${chosen.length > 5 ? ', ...' : ''}`);
  return { stats, skipped };
}
