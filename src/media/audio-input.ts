// The audio network's input from a run's settings: the log spectrogram of the configured front end (the
// paper's, media/spectrogram.ts, or the reference code's, media/reference-spectrogram.ts) with the FFT size
// that gives the configured number of bins, Z-normalised per bin with the run's statistics when known.
// `audioSpectrogram` is the one place that picks the front end: training, the data loader, spectrogram
// statistics and every evaluation go through it.
import * as T from '../tensor/index.js';
import { logSpectrogram, normalizeSpectrogram, type AudioFrontendName, type SpectrogramConfig, type SpectrogramStats } from './spectrogram.js';
import { referenceLogSpectrogram } from './reference-spectrogram.js';

export interface AudioSettings {
  sampleRate: number;
  windowSeconds: number;
  hopSeconds: number;
  freqBins: number;
  /** Absent: 'paper' (configs and checkpoints written before the field existed). */
  frontend?: AudioFrontendName;
}

/**
 * 129 bins come from a 512-point FFT (257 bins averaged in pairs), 257 from a 1024-point one, in both front
 * ends. The reference's window is the whole FFT, so its config records that as windowSec (windowSeconds is
 * the paper's setting only); a paper config carries no `frontend` field, as before the field existed.
 */
export function spectrogramConfigFor(a: AudioSettings): SpectrogramConfig {
  const nFft = 4 * (a.freqBins - 1);
  if (a.frontend === 'reference') return { frontend: 'reference', sampleRate: a.sampleRate, windowSec: nFft / a.sampleRate, hopSec: a.hopSeconds, nFft, freqBins: a.freqBins };
  if (a.frontend !== undefined && a.frontend !== 'paper') throw new Error(`audio.frontend must be 'paper' or 'reference', got '${String(a.frontend)}'`);
  return { sampleRate: a.sampleRate, windowSec: a.windowSeconds, hopSec: a.hopSeconds, nFft, freqBins: a.freqBins };
}

/** (B, L) waveforms → (B, 1, frames, bins): the log spectrogram of `config.frontend` (default 'paper'), not normalised. */
export function audioSpectrogram(waveforms: T.Tensor, config: SpectrogramConfig): T.Tensor {
  const frontend = config.frontend ?? 'paper';
  if (frontend === 'reference') return referenceLogSpectrogram(waveforms, config);
  if (frontend === 'paper') return logSpectrogram(waveforms, config);
  throw new Error(`spectrogram: unknown front end '${String(frontend)}' (allowed: paper, reference)`);
}

/** (B, L) waveforms → (B, 1, frames, bins), normalised with `stats` when given. */
export function audioInput(waveforms: T.Tensor, a: AudioSettings, stats?: SpectrogramStats | null): T.Tensor {
  return T.tidy(() => {
    const spectrogram = audioSpectrogram(waveforms, spectrogramConfigFor(a));
    return stats ? normalizeSpectrogram(spectrogram, stats) : spectrogram;
  });
}

/** Stacks equal-length waveforms into (B, L). */
export function stackWaveforms(list: Float32Array[]): T.Tensor {
  const flat = new Float32Array(list.length * list[0].length);
  list.forEach((w, i) => flat.set(w, i * w.length));
  return T.tensor(flat, [list.length, list[0].length]);
}
