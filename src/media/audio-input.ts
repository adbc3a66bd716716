// The audio network's input from a run's settings: the log spectrogram (media/spectrogram.ts) with the FFT
// size that gives the configured number of bins, Z-normalised per bin with the run's statistics when known.
import * as T from '../tensor/index.js';
import { logSpectrogram, normalizeSpectrogram, type SpectrogramConfig, type SpectrogramStats } from './spectrogram.js';

export interface AudioSettings {
  sampleRate: number;
  windowSeconds: number;
  hopSeconds: number;
  freqBins: number;
}

/** 129 bins come from a 512-point FFT (257 bins averaged in pairs), 257 from a 1024-point one. */
export function spectrogramConfigFor(a: AudioSettings): SpectrogramConfig {
  return { sampleRate: a.sampleRate, windowSec: a.windowSeconds, hopSec: a.hopSeconds, nFft: 4 * (a.freqBins - 1), freqBins: a.freqBins };
}

/** (B, L) waveforms → (B, 1, frames, bins), normalised with `stats` when given. */
export function audioInput(waveforms: T.Tensor, a: AudioSettings, stats?: SpectrogramStats | null): T.Tensor {
  return T.tidy(() => {
    const spectrogram = logSpectrogram(waveforms, spectrogramConfigFor(a));
    return stats ? normalizeSpectrogram(spectrogram, stats) : spectrogram;
  });
}

/** Stacks equal-length waveforms into (B, L). */
export function stackWaveforms(list: Float32Array[]): T.Tensor {
  const flat = new Float32Array(list.length * list[0].length);
  list.forEach((w, i) => flat.set(w, i * w.length));
  return T.tensor(flat, [list.length, list[0].length]);
}
