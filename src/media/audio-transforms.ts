// Audio augmentations (PAPERS.md, supplementary A): volume × U(0.9, 1.1) on the waveform, and the duration
// jitter: a window of 1.4–2.8 s becomes the expected 2 s input by rescaling its log spectrogram in time
// (linear interpolation along the frames, the frequency bins untouched). Resampling the waveform instead, as
// avid did before, shifts the pitch with the duration (a 2.8 s window squeezed into 2 s sounds 40% higher);
// rescaling the spectrogram changes the tempo only. Crop/pad was the other choice the issue named: it keeps
// the tempo too, but then a longer window is only a shifted 2 s window and a shorter one ends in silence.
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

/** Waveforms of exactly `length` samples → a (B, length) float32 batch, each multiplied by its gain. */
export function audioBatch(waveforms: Float32Array[], length: number, gains?: number[]): T.Tensor {
  if (!Number.isInteger(length) || length < 1) throw new Error(`audioBatch: length must be a positive integer, got ${length}`);
  if (gains && gains.length !== waveforms.length) throw new Error(`audioBatch: ${gains.length} gains for ${waveforms.length} waveforms`);
  waveforms.forEach((w, i) => {
    if (w.length !== length) throw new Error(`audioBatch: waveform ${i} has ${w.length} samples, expected ${length} (duration-jittered windows go through jitteredSpectrogramBatch)`);
  });
  return T.tidy(() => {
    const flat = new Float32Array(waveforms.length * length);
    waveforms.forEach((w, i) => flat.set(w, i * length));
    const batch = T.tensor(flat, [waveforms.length, length]);
    return gains && gains.some((g) => g !== 1) ? batch.mul(T.tensor(Float32Array.from(gains), [gains.length, 1])) : batch;
  });
}

/**
 * Waveforms of any lengths → their (B, 1, frames, bins) spectrograms with the frame count of `targetLength`
 * samples: those already that long in one batch, each other one at its own length and then rescaled in time
 * to the target's frames (no pitch shift; see the head of this file). `spectrogramOf` maps (B, L) waveforms to
 * (B, 1, frames, bins) (the run's front end).
 */
export function jitteredSpectrogramBatch(waveforms: Float32Array[], targetLength: number, gains: number[] | undefined, spectrogramOf: (waves: T.Tensor) => T.Tensor): T.Tensor {
  if (!Number.isInteger(targetLength) || targetLength < 1) throw new Error(`jitteredSpectrogramBatch: targetLength must be a positive integer, got ${targetLength}`);
  if (gains && gains.length !== waveforms.length) throw new Error(`jitteredSpectrogramBatch: ${gains.length} gains for ${waveforms.length} waveforms`);
  return T.tidy(() => {
    const exact = waveforms.map((w, i) => i).filter((i) => waveforms[i].length === targetLength);
    if (exact.length === waveforms.length) return spectrogramOf(audioBatch(waveforms, targetLength, gains));
    const rows: T.Tensor[] = new Array(waveforms.length);
    if (exact.length > 0) {
      const together = spectrogramOf(audioBatch(exact.map((i) => waveforms[i]), targetLength, gains && exact.map((i) => gains[i])));
      exact.forEach((i, k) => (rows[i] = together.narrow(0, k, 1)));
    }
    // The frame count of a target-length window, from the front end itself (its padding rules included).
    const frames = exact.length > 0 ? rows[exact[0]].size(2) : spectrogramOf(T.zeros([1, targetLength])).size(2);
    waveforms.forEach((w, i) => {
      if (rows[i]) return;
      if (w.length < 2) throw new Error(`jitteredSpectrogramBatch: waveform ${i} has ${w.length} sample(s); cannot rescale`);
      const own = spectrogramOf(audioBatch([w], w.length, gains && [gains[i]])); // (1, 1, f, bins)
      const bins = own.size(3);
      // Interpolate along time only: (1, bins, f) → (1, bins, frames).
      const timeLast = own.reshape([1, own.size(2), bins]).transpose(1, 2).contiguous();
      rows[i] = T.functional.interpolate(timeLast, [frames], 'linear', false).transpose(1, 2).reshape([1, 1, frames, bins]);
    });
    return T.cat(rows, 0);
  });
}
