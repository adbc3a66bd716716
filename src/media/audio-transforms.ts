// Audio augmentations (PAPERS.md, supplementary A): volume × U(0.9, 1.1) on the waveform, and the duration
// jitter's resampling: a window of 1.4–2.8 s is stretched or squeezed (linear interpolation) to the expected
// number of samples, so the spectrogram always has the expected number of frames.
import * as T from '../tensor/index.js';
import type { UniformSource } from './clip-sampling.js';

export interface AudioAugmentConfig {
  /** Volume gain range, or null for none ([0.9, 1.1]). */
  volumeRange: [number, number] | null;
}

export const DEFAULT_AUDIO_AUGMENT: AudioAugmentConfig = { volumeRange: [0.9, 1.1] };

export function sampleVolumeGain(rng: UniformSource, config: AudioAugmentConfig = DEFAULT_AUDIO_AUGMENT): number {
  const r = config.volumeRange;
  return r ? rng.uniform(r[0], r[1]) : 1;
}

/**
 * Waveforms of any lengths → a (B, targetLength) float32 batch: each resampled linearly to the target
 * length (a no-op for those already that long) and multiplied by its gain.
 */
export function audioBatch(waveforms: Float32Array[], targetLength: number, gains?: number[]): T.Tensor {
  if (!Number.isInteger(targetLength) || targetLength < 1) throw new Error(`audioBatch: targetLength must be a positive integer, got ${targetLength}`);
  if (gains && gains.length !== waveforms.length) throw new Error(`audioBatch: ${gains.length} gains for ${waveforms.length} waveforms`);
  return T.tidy(() => {
    const rows = waveforms.map((w, i) => {
      let row = T.tensor(w);
      if (w.length !== targetLength) {
        if (w.length < 2) throw new Error(`audioBatch: waveform ${i} has ${w.length} sample(s); cannot resample`);
        row = T.functional.interpolate(row.reshape([1, 1, w.length]), [targetLength], 'linear', false).reshape([targetLength]);
      }
      const gain = gains ? gains[i] : 1;
      return gain === 1 ? row : row.mul(gain);
    });
    return T.stack(rows, 0);
  });
}
