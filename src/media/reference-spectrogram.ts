// The reference code's log spectrogram (AVID-CMA datasets/preprocessing.py, LogSpectrogram), on batches with
// libtorch ops, for models trained by the reference (`audio.frontend: reference`). For N = nFft / 2 (512 in
// the comparison setting, 256 in the analysis one) the reference computes, per clip:
//   librosa.stft(y, n_fft = 2N, hop_length = int(hop · sr))  — centred frames, the signal reflect-padded by N
//       (librosa's pad_mode default until 0.10; the reference ran Python 3.6, which no librosa ≥ 0.10
//       supports), a periodic Hann window as long as the FFT (get_window('hann', 2N, fftbins=True))
//   |·|² → keep bin 0, average bins 1…N in adjacent pairs → N/2 + 1 bins
//   keep the first int(duration · (1 / hop)) frames
//   power_to_db(S, ref = 1, amin = 1e-10, top_db = 100): 10·log10(max(S, 1e-10)), then max(·, its max − 100)
//       over the whole spectrogram of the clip
// and its caller Z-normalises each bin with training-set statistics, (x − mean) / (std + 1e-5), which is
// normalizeSpectrogram (spectrogram.ts). What differs from the paper's front end (spectrogram.ts): the window
// (nFft samples instead of windowSec), decibels with a per-clip floor instead of log(power + eps), and the
// frame count (the reference's int(duration / hop) instead of ⌊samples / hop⌋; equal for whole hops).
import * as T from '../tensor/index.js';
import type { SpectrogramConfig } from './spectrogram.js';

/** power_to_db's constants as the reference calls it (librosa's defaults, top_db = 100). */
const AMIN = 1e-10;
const TOP_DB = 100;
const DB_PER_NEPER = 10 / Math.LN10;

export interface ReferenceSpectrogramGeometry {
  hopLength: number;
  /** Frames kept for `numSamples` samples. */
  frames: number;
}

/** Checks a reference config and derives hop and frame count as the reference's Python does (int() truncates). */
export function referenceSpectrogramGeometry(config: SpectrogramConfig, numSamples: number): ReferenceSpectrogramGeometry {
  const { nFft, freqBins, sampleRate, hopSec } = config;
  if (!Number.isInteger(nFft) || nFft < 4 || nFft % 4 !== 0) {
    throw new Error(`reference spectrogram: nFft must be 2N for an even N (the reference's n_fft: 256 or 512 → nFft 512 or 1024), got ${nFft}`);
  }
  if (freqBins !== nFft / 4 + 1) {
    throw new Error(`reference spectrogram: freqBins must be N/2 + 1 = ${nFft / 4 + 1} for nFft ${nFft} (bins 1…N averaged in pairs), got ${freqBins}`);
  }
  const hopLength = Math.trunc(hopSec * sampleRate);
  if (!(hopLength >= 1)) throw new Error(`reference spectrogram: hopSec × sampleRate must be ≥ 1 sample, got ${hopSec} × ${sampleRate}`);
  // The reference crops to int(duration · rate) with rate = 1 / hop_size; the clip's duration is its length.
  const wanted = Math.trunc((numSamples / sampleRate) * (1 / hopSec));
  const available = 1 + Math.floor(numSamples / hopLength);
  return { hopLength, frames: Math.min(wanted, available) };
}

/**
 * The reference's log spectrogram (dB) of a (B, L) float32 waveform batch → (B, 1, frames, nFft/4 + 1),
 * not yet Z-normalised. Each clip's floor (its maximum − 100 dB) is its own, as in the reference.
 */
export function referenceLogSpectrogram(waveforms: T.Tensor, config: SpectrogramConfig): T.Tensor {
  const shape = waveforms.shape;
  if (shape.length !== 2) throw new Error(`referenceLogSpectrogram: expected a (B, L) waveform batch, got shape [${shape.join(', ')}]`);
  const [batch, length] = shape;
  const { hopLength, frames } = referenceSpectrogramGeometry(config, length);
  const nFft = config.nFft;
  // Reflect padding by nFft / 2 needs more samples than that on each side.
  if (frames < 1 || length <= nFft / 2) {
    throw new Error(`referenceLogSpectrogram: ${length} samples is too short for nFft ${nFft} and hop ${hopLength} (needs more than ${nFft / 2})`);
  }
  return T.tidy(() => {
    const window = T.hannWindow(nFft, true, { device: waveforms.device });
    const spectrum = T.functional.stft(waveforms, { nFft, hopLength, winLength: nFft, window, center: true });
    const power = spectrum.real().square().add(spectrum.imag().square()); // (B, N + 1, 1 + ⌊L / hop⌋)
    const half = nFft / 2;
    const dc = power.narrow(1, 0, 1);
    const pairs = power.narrow(1, 1, half).reshape([batch, half / 2, 2, -1]).mean(2);
    const bins = T.cat([dc, pairs], 1).narrow(2, 0, frames);
    const decibels = bins.clamp(AMIN).log().mul(DB_PER_NEPER);
    const floor = decibels.amax([1, 2], true).sub(TOP_DB);
    return decibels.maximum(floor).transpose(1, 2).unsqueeze(1).contiguous();
  });
}
