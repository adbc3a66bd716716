// Log spectrograms of waveform batches, with libtorch's stft, and their per-frequency-bin Z-normalisation.
//
// As in the reference code, the FFT is larger than the 20 ms window (the window is zero-padded to nFft) and
// adjacent frequency bins are averaged in pairs (the DC bin kept as is), which gives the papers' inputs:
//   analysis   2 s at 24 kHz, hop 20 ms, nFft 512:  100 frames × 129 bins  (1 + 256 / 2)
//   comparison 2 s at 24 kHz, hop 10 ms, nFft 1024: 200 frames × 257 bins  (1 + 512 / 2)
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import * as T from '../tensor/index.js';

/**
 * Which log spectrogram feeds the audio network: 'paper' (this file: the papers' text, a windowSec Hann window
 * zero-padded to nFft, natural log) or 'reference' (reference-spectrogram.ts: the reference code's
 * LogSpectrogram, a window as long as the FFT and power_to_db). Absent means 'paper'.
 */
export type AudioFrontendName = 'paper' | 'reference';
export const AUDIO_FRONTENDS: readonly AudioFrontendName[] = ['paper', 'reference'];

export interface SpectrogramConfig {
  /** The front end (default 'paper'); the fields below mean the same in both, except windowSec (see there). */
  frontend?: AudioFrontendName;
  sampleRate: number;
  /** Analysis window length (Hann), seconds; the 'reference' front end's window is always nFft samples. */
  windowSec: number;
  /** Hop between frames, seconds (0.02 or 0.01 in the papers). */
  hopSec: number;
  /** FFT size, ≥ the window in samples. */
  nFft: number;
  /** Output bins: 1 + (nFft / 2) / pool for an integer pool (129 for nFft 512, 257 for 1024). */
  freqBins: number;
  /** Added to the power before the log (default 1e-10, the floor of librosa's power_to_db). */
  eps?: number;
}

export const ANALYSIS_SPECTROGRAM: SpectrogramConfig = { sampleRate: 24000, windowSec: 0.02, hopSec: 0.02, nFft: 512, freqBins: 129 };
export const COMPARISON_SPECTROGRAM: SpectrogramConfig = { sampleRate: 24000, windowSec: 0.02, hopSec: 0.01, nFft: 1024, freqBins: 257 };

export interface SpectrogramGeometry {
  winLength: number;
  hopLength: number;
  /** Adjacent FFT bins averaged into one output bin. */
  pool: number;
}

/** Checks the config and derives window, hop and pooling in samples/bins; errors name the key. */
export function spectrogramGeometry(config: SpectrogramConfig): SpectrogramGeometry {
  const winLength = Math.round(config.windowSec * config.sampleRate);
  const hopLength = Math.round(config.hopSec * config.sampleRate);
  if (!(winLength >= 2)) throw new Error(`spectrogram: windowSec × sampleRate must be ≥ 2 samples, got ${winLength}`);
  if (!(hopLength >= 1)) throw new Error(`spectrogram: hopSec × sampleRate must be ≥ 1 sample, got ${hopLength}`);
  if (!Number.isInteger(config.nFft) || config.nFft < winLength || config.nFft % 2 !== 0) {
    throw new Error(`spectrogram: nFft must be an even integer ≥ the window (${winLength} samples), got ${config.nFft}`);
  }
  const half = config.nFft / 2;
  const pool = half / (config.freqBins - 1);
  if (!Number.isInteger(pool) || pool < 1) {
    throw new Error(`spectrogram: freqBins must be 1 + (nFft / 2) / k for an integer k ≥ 1 (nFft ${config.nFft}: e.g. ${half / 2 + 1} or ${half + 1}), got ${config.freqBins}`);
  }
  return { winLength, hopLength, pool };
}

/** Frames for `numSamples` samples: one per full hop (100 for 2 s at a 20 ms hop). */
export function spectrogramFrames(config: SpectrogramConfig, numSamples: number): number {
  return Math.floor(numSamples / spectrogramGeometry(config).hopLength);
}

/**
 * log(power + eps) of a (B, L) float32 waveform batch → (B, 1, frames, freqBins), frames = ⌊L / hop⌋.
 * stft is centred (reflect padding), Hann window of windowSec zero-padded to nFft.
 */
export function logSpectrogram(waveforms: T.Tensor, config: SpectrogramConfig): T.Tensor {
  const { winLength, hopLength, pool } = spectrogramGeometry(config);
  const shape = waveforms.shape;
  if (shape.length !== 2) throw new Error(`logSpectrogram: expected a (B, L) waveform batch, got shape [${shape.join(', ')}]`);
  const [batch, length] = shape;
  const frames = Math.floor(length / hopLength);
  if (frames < 1 || length <= config.nFft / 2) {
    throw new Error(`logSpectrogram: ${length} samples is too short for nFft ${config.nFft} and hop ${hopLength}`);
  }
  return T.tidy(() => {
    const window = T.hannWindow(winLength, true, { device: waveforms.device });
    const spectrum = T.functional.stft(waveforms, { nFft: config.nFft, hopLength, winLength, window, center: true });
    const power = spectrum.real().square().add(spectrum.imag().square()); // (B, nFft/2 + 1, frames + 1)
    const half = config.nFft / 2;
    const dc = power.narrow(1, 0, 1);
    const pooled = pool === 1 ? power.narrow(1, 1, half) : power.narrow(1, 1, half).reshape([batch, half / pool, pool, -1]).mean(2);
    const bins = T.cat([dc, pooled], 1).narrow(2, 0, frames); // (B, freqBins, frames)
    return bins.add(config.eps ?? 1e-10).log().transpose(1, 2).unsqueeze(1).contiguous();
  });
}

// ---- per-bin statistics -------------------------------------------------------------------------------

export interface SpectrogramStats {
  config: SpectrogramConfig;
  /** Per frequency bin, over every frame of the statistics set. */
  mean: number[];
  std: number[];
  /** How many frames and clips the statistics saw. */
  frames: number;
  clips: number;
}

/** Accumulates per-bin sums in float64 over spectrogram batches (B, 1, frames, bins). */
export class SpectrogramStatsAccumulator {
  private readonly sum: Float64Array;
  private readonly sumSquares: Float64Array;
  private frames = 0;
  private clips = 0;
  constructor(readonly config: SpectrogramConfig) {
    this.sum = new Float64Array(config.freqBins);
    this.sumSquares = new Float64Array(config.freqBins);
  }
  add(spectrograms: T.Tensor): void {
    const [batch, , frames, bins] = spectrograms.shape;
    if (bins !== this.config.freqBins) throw new Error(`spectrogram stats: expected ${this.config.freqBins} bins, got ${bins}`);
    const data = spectrograms.toFloat32Array();
    for (let r = 0; r < batch * frames; r++) {
      const row = r * bins;
      for (let b = 0; b < bins; b++) {
        const v = data[row + b];
        this.sum[b] += v;
        this.sumSquares[b] += v * v;
      }
    }
    this.frames += batch * frames;
    this.clips += batch;
  }
  result(): SpectrogramStats {
    if (this.frames === 0) throw new Error('spectrogram stats: no audio was added');
    const mean = Array.from(this.sum, (s) => s / this.frames);
    const std = Array.from(this.sumSquares, (s, b) => Math.sqrt(Math.max(0, s / this.frames - mean[b] * mean[b])));
    return { config: { ...this.config }, mean, std, frames: this.frames, clips: this.clips };
  }
}

/** Added to each bin's std before dividing (normalizeSpectrogram), so a silent bin does not divide by zero. */
export const STD_FLOOR = 1e-5;

/** (x − mean) / (std + 1e-5) per frequency bin, for (B, 1, frames, bins) log spectrograms. */
export function normalizeSpectrogram(spectrograms: T.Tensor, stats: SpectrogramStats): T.Tensor {
  const bins = spectrograms.size(-1);
  if (bins !== stats.mean.length) throw new Error(`normalizeSpectrogram: the statistics have ${stats.mean.length} bins, the spectrogram ${bins}`);
  return T.tidy(() => {
    const mean = T.tensor(Float32Array.from(stats.mean), [1, 1, 1, bins]);
    const scale = T.tensor(Float32Array.from(stats.std, (s) => 1 / (s + STD_FLOOR)), [1, 1, 1, bins]);
    return spectrograms.sub(mean).mul(scale);
  });
}

function sameConfig(a: SpectrogramConfig, b: SpectrogramConfig): boolean {
  return (a.frontend ?? 'paper') === (b.frontend ?? 'paper') && a.sampleRate === b.sampleRate && a.windowSec === b.windowSec && a.hopSec === b.hopSec && a.nFft === b.nFft && a.freqBins === b.freqBins && (a.eps ?? 1e-10) === (b.eps ?? 1e-10);
}

/** Saves statistics as JSON (written atomically), to keep with a run. */
export function saveStats(path: string, stats: SpectrogramStats): void {
  const temporary = `${path}.tmp-${process.pid}`;
  writeFileSync(temporary, JSON.stringify({ kind: 'avid.spectrogram-stats', version: 1, ...stats }, null, 1) + '\n');
  renameSync(temporary, path);
}

/** Loads statistics; with `expected`, fails if they were computed for another spectrogram config. */
export function loadStats(path: string, expected?: SpectrogramConfig): SpectrogramStats {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`cannot read spectrogram statistics ${path}: ${(error as Error).message}`);
  }
  if (raw.kind !== 'avid.spectrogram-stats') throw new Error(`${path}: not a spectrogram statistics file (kind '${String(raw.kind)}')`);
  const stats = raw as unknown as SpectrogramStats;
  const bins = stats.config?.freqBins;
  for (const key of ['mean', 'std'] as const) {
    const v = stats[key];
    if (!Array.isArray(v) || v.length !== bins || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) {
      throw new Error(`${path}: '${key}' must be ${bins} finite numbers`);
    }
  }
  if (expected && !sameConfig(stats.config, expected)) {
    throw new Error(`${path}: statistics were computed for ${JSON.stringify(stats.config)}, not ${JSON.stringify(expected)}`);
  }
  return { config: stats.config, mean: stats.mean, std: stats.std, frames: stats.frames, clips: stats.clips };
}
