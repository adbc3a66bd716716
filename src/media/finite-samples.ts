// Decoded audio is checked for NaN and infinities before it is used: a float WAV (or a float track in a
// video) can hold them, and one such sample turns a whole spectrogram, every statistic computed over it, and
// the loss of every batch it joins into NaN, with nothing naming the file. The file is rejected instead.
import { DecodeError } from './decode.js';

/** The index of the first NaN or ±Infinity in `samples`, or -1. */
export function firstNonFiniteSample(samples: Float32Array): number {
  for (let i = 0; i < samples.length; i++) {
    // x - x is 0 for every finite x and NaN for NaN and ±Infinity: one test for both.
    if (samples[i] - samples[i] !== 0) return i;
  }
  return -1;
}

/** Throws a DecodeError naming `file` when `samples` holds a NaN or an infinity. */
export function checkFiniteSamples(samples: Float32Array, file: string, sampleRate: number, startSec = 0): void {
  const i = firstNonFiniteSample(samples);
  if (i < 0) return;
  throw new DecodeError(file, 'audio holds non-finite samples', `${samples[i]} at ${(startSec + i / sampleRate).toFixed(3)} s`);
}
