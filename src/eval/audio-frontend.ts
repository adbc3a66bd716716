// The audio network's input for evaluation: a log power spectrogram of each waveform, (B, L) → (B, 1, T, F),
// following PAPERS.md "Audio preprocessing": 24 kHz, 20 ms Hann window, an FFT larger than the window
// (512 points), adjacent frequency bins averaged down to `freqBins` (129 from 257), log(power + eps), hop
// 20 ms (100 frames for 2 s) or 10 ms (200 frames). The pre-training statistics for the per-bin
// Z-normalisation belong to a checkpoint; without them each spectrogram is standardised on its own (one
// mean and deviation per clip), which uses no information from other samples and so cannot leak across folds.
// (Kept small on purpose; the media layer's spectrogram replaces it once it exists.)
import * as T from '../tensor/index.js';

export interface AudioFrontendOptions {
  sampleRate?: number;
  windowSec?: number;
  hopSec?: number;
  nFft?: number;
  /** Output frequency bins after averaging adjacent FFT bins (default 129). */
  freqBins?: number;
  /** Frames per clip (default: clip length / hop). */
  frames?: number;
  eps?: number;
  /** Per-bin statistics (length freqBins) to Z-normalise with; default: per-clip standardisation. */
  stats?: { mean: Float32Array; std: Float32Array };
}

export interface AudioFrontend {
  readonly options: Required<Omit<AudioFrontendOptions, 'stats' | 'frames'>> & { frames?: number; normalisation: 'stats' | 'per-clip' };
  /** (B, L) float32 waveforms → (B, 1, frames, freqBins) float32. */
  toInput(waveforms: T.Tensor): T.Tensor;
}

export function createAudioFrontend(o: AudioFrontendOptions = {}): AudioFrontend {
  const sampleRate = o.sampleRate ?? 24000;
  const windowSec = o.windowSec ?? 0.02;
  const hopSec = o.hopSec ?? 0.02;
  const nFft = o.nFft ?? 512;
  const freqBins = o.freqBins ?? 129;
  const eps = o.eps ?? 1e-8;
  const winLength = Math.round(windowSec * sampleRate);
  const hopLength = Math.round(hopSec * sampleRate);
  const fftBins = nFft / 2 + 1;
  if (winLength > nFft) throw new Error(`audio frontend: window of ${winLength} samples exceeds nFft ${nFft}`);
  const group = Math.ceil(fftBins / freqBins);
  if (Math.ceil(fftBins / group) !== freqBins) {
    throw new Error(`audio frontend: ${fftBins} FFT bins cannot be averaged in groups down to ${freqBins} bins`);
  }
  if (o.stats && (o.stats.mean.length !== freqBins || o.stats.std.length !== freqBins)) {
    throw new Error(`audio frontend: statistics have ${o.stats.mean.length} bins, expected ${freqBins}`);
  }
  const options = { sampleRate, windowSec, hopSec, nFft, freqBins, eps, frames: o.frames, normalisation: o.stats ? ('stats' as const) : ('per-clip' as const) };
  return {
    options,
    toInput(waveforms: T.Tensor): T.Tensor {
      return T.tidy(() => {
        if (waveforms.ndim !== 2) throw new Error(`audio frontend: expected (B, L) waveforms, got [${waveforms.shape.join(', ')}]`);
        const [batch, length] = waveforms.shape;
        const frames = o.frames ?? Math.round(length / hopLength);
        const window = T.hannWindow(winLength);
        const spec = T.functional.stft(waveforms, { nFft, hopLength, winLength, window, center: true });
        const power = spec.real().square().add(spec.imag().square()); // (B, fftBins, 1 + L/hop)
        // Average groups of adjacent bins; the last group may be shorter (padded by repeating, then averaged
        // over its real members only).
        const padded = group * freqBins - fftBins;
        let grouped: T.Tensor;
        if (group === 1) grouped = power;
        else {
          const full = padded > 0 ? T.cat([power, T.zeros([batch, padded, power.shape[2]])], 1) : power;
          const sums = full.reshape([batch, freqBins, group, power.shape[2]]).sum(2);
          const counts = new Float32Array(freqBins).fill(group);
          counts[freqBins - 1] = group - padded;
          grouped = sums.div(T.tensor(counts, [1, freqBins, 1]));
        }
        let logSpec = grouped.add(eps).log().narrow(2, 0, Math.min(frames, grouped.shape[2])); // (B, F, T)
        if (logSpec.shape[2] < frames) logSpec = T.functional.pad(logSpec, [0, frames - logSpec.shape[2]], 'replicate');
        if (o.stats) {
          logSpec = logSpec.sub(T.tensor(o.stats.mean, [1, freqBins, 1])).div(T.tensor(o.stats.std, [1, freqBins, 1]));
        } else {
          // One mean and deviation per clip (over all bins and frames): removes the recording gain but keeps
          // the spectral envelope, which per-bin standardisation over time would erase.
          const mean = logSpec.mean([1, 2], true);
          const std = logSpec.std([1, 2], false, true).add(1e-5);
          logSpec = logSpec.sub(mean).div(std);
        }
        return logSpec.transpose(1, 2).unsqueeze(1).contiguous(); // (B, 1, T, F)
      });
    },
  };
}
