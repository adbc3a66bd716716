// The audio network's input for evaluation: the media layer's log spectrogram (the same one training used),
// (B, L) → (B, 1, frames, bins). A checkpoint's spectrogram statistics, when it carries them, Z-normalise
// each frequency bin exactly as in pre-training. Without them (a randomly initialised network), each
// spectrogram is standardised on its own — one mean and deviation per clip, over all bins and frames —
// which removes the recording gain, keeps the spectral envelope, and uses no information from other
// samples, so it cannot leak across folds.
import * as T from '../tensor/index.js';
import { logSpectrogram, normalizeSpectrogram, type SpectrogramConfig, type SpectrogramStats } from '../media/spectrogram.js';
import { spectrogramConfigFor } from '../media/audio-input.js';

export interface AudioFrontendOptions {
  sampleRate?: number;
  windowSec?: number;
  hopSec?: number;
  /** Frequency bins (129: 512-point FFT, 257: 1024-point; default 129). */
  freqBins?: number;
  /** Per-bin statistics of pre-training; their spectrogram config then overrides the settings above. */
  stats?: SpectrogramStats | null;
}

export interface AudioFrontend {
  readonly options: { spectrogram: SpectrogramConfig; normalisation: 'checkpoint statistics' | 'per clip' };
  /** (B, L) float32 waveforms → (B, 1, frames, freqBins) float32. */
  toInput(waveforms: T.Tensor): T.Tensor;
}

export function createAudioFrontend(o: AudioFrontendOptions = {}): AudioFrontend {
  const spectrogram = o.stats
    ? o.stats.config
    : spectrogramConfigFor({ sampleRate: o.sampleRate ?? 24000, windowSeconds: o.windowSec ?? 0.02, hopSeconds: o.hopSec ?? 0.02, freqBins: o.freqBins ?? 129 });
  const stats = o.stats ?? null;
  return {
    options: { spectrogram, normalisation: stats ? 'checkpoint statistics' : 'per clip' },
    toInput(waveforms: T.Tensor): T.Tensor {
      return T.tidy(() => {
        const log = logSpectrogram(waveforms, spectrogram);
        if (stats) return normalizeSpectrogram(log, stats);
        const mean = log.mean([1, 2, 3], true);
        const std = log.std([1, 2, 3], false, true).add(1e-5);
        return log.sub(mean).div(std);
      });
    },
  };
}
