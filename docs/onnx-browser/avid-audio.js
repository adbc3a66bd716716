// avid's audio input in plain JavaScript, for runtimes without libtorch (a browser page with onnxruntime-web):
// the log spectrogram of both front ends exactly as avid computes it with libtorch's stft
// (src/media/spectrogram.ts 'paper', src/media/reference-spectrogram.ts 'reference'), the per-bin
// Z-normalisation of src/media/spectrogram.ts, and the audio encoder run on an exported model (avid export
// --onnx, whose export.json gives every setting used here). The arithmetic is float64 (avid's is float32), so
// the two agree to float32 rounding; test/io/onnx-browser.test.ts checks them against each other.
// No imports: the page and Node's tests load this file as it is.

/** In-place iterative radix-2 FFT of (re, im), length a power of two. */
function fft(re, im) {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j], re[i]];
      [im[i], im[j]] = [im[j], im[i]];
    }
  }
  for (let size = 2; size <= n; size <<= 1) {
    const half = size >> 1;
    const step = (-2 * Math.PI) / size;
    for (let start = 0; start < n; start += size) {
      for (let k = 0; k < half; k++) {
        const wr = Math.cos(step * k);
        const wi = Math.sin(step * k);
        const a = start + k;
        const b = a + half;
        const tr = re[b] * wr - im[b] * wi;
        const ti = re[b] * wi + im[b] * wr;
        re[b] = re[a] - tr;
        im[b] = im[a] - ti;
        re[a] += tr;
        im[a] += ti;
      }
    }
  }
}

/** torch.hann_window(length, periodic=True). */
function hannWindow(length) {
  return Float64Array.from({ length }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / length));
}

/**
 * |STFT|² of a centred, reflect-padded signal, as torch.stft(center=True, pad_mode='reflect', onesided): a Hann
 * window of `winLength` placed in the middle of each nFft frame. Returns frames × (nFft/2 + 1), row-major.
 */
function powerSpectrogram(samples, nFft, hopLength, winLength) {
  const pad = nFft / 2;
  const length = samples.length;
  if (length <= pad) throw new Error(`spectrogram: ${length} samples is too short for nFft ${nFft} (needs more than ${pad})`);
  const at = (i) => samples[i < 0 ? -i : i >= length ? 2 * (length - 1) - i : i];
  const window = hannWindow(winLength);
  const offset = Math.floor((nFft - winLength) / 2);
  const frames = 1 + Math.floor(length / hopLength);
  const bins = nFft / 2 + 1;
  const power = new Float64Array(frames * bins);
  const re = new Float64Array(nFft);
  const im = new Float64Array(nFft);
  for (let t = 0; t < frames; t++) {
    re.fill(0);
    im.fill(0);
    for (let k = 0; k < winLength; k++) re[offset + k] = at(t * hopLength + offset + k - pad) * window[k];
    fft(re, im);
    for (let f = 0; f < bins; f++) power[t * bins + f] = re[f] * re[f] + im[f] * im[f];
  }
  return { power, frames, bins };
}

/** Bin 0 as is, bins 1…nFft/2 averaged in groups of `pool`, for the first `frames` frames → frames × freqBins. */
function poolBins(spectrum, frames, freqBins, pool) {
  const out = new Float64Array(frames * freqBins);
  for (let t = 0; t < frames; t++) {
    const row = t * spectrum.bins;
    out[t * freqBins] = spectrum.power[row];
    for (let b = 1; b < freqBins; b++) {
      let sum = 0;
      for (let k = 0; k < pool; k++) sum += spectrum.power[row + 1 + (b - 1) * pool + k];
      out[t * freqBins + b] = sum / pool;
    }
  }
  return out;
}

/**
 * The log spectrogram avid feeds its audio network, frames × freqBins (row-major Float32Array), for a mono
 * waveform and export.json's `audio.spectrogram` ({ frontend?, sampleRate, windowSec, hopSec, nFft, freqBins }).
 * 'paper': log(power + 1e-10), a windowSec Hann window in an nFft frame, ⌊L / hop⌋ frames.
 * 'reference': 10·log10(max(power, 1e-10)) floored at its maximum − 100 dB (power_to_db, top_db 100), an nFft
 * window, int(duration / hopSec) frames.
 */
export function logSpectrogram(samples, config) {
  const { sampleRate, windowSec, hopSec, nFft, freqBins } = config;
  const frontend = config.frontend ?? 'paper';
  if (!(nFft > 0) || (nFft & (nFft - 1)) !== 0) throw new Error(`spectrogram: nFft must be a power of two here, got ${nFft}`);
  const pool = nFft / 2 / (freqBins - 1);
  if (!Number.isInteger(pool) || pool < 1) throw new Error(`spectrogram: freqBins ${freqBins} does not divide nFft/2 = ${nFft / 2} bins`);
  if (frontend === 'paper') {
    const winLength = Math.round(windowSec * sampleRate);
    const hopLength = Math.round(hopSec * sampleRate);
    const frames = Math.floor(samples.length / hopLength);
    const pooled = poolBins(powerSpectrogram(samples, nFft, hopLength, winLength), frames, freqBins, pool);
    const eps = config.eps ?? 1e-10;
    return { data: Float32Array.from(pooled, (p) => Math.log(p + eps)), frames, bins: freqBins };
  }
  if (frontend === 'reference') {
    const hopLength = Math.trunc(hopSec * sampleRate);
    const spectrum = powerSpectrogram(samples, nFft, hopLength, nFft);
    const frames = Math.min(Math.trunc((samples.length / sampleRate) * (1 / hopSec)), spectrum.frames);
    const decibels = Array.from(poolBins(spectrum, frames, freqBins, pool), (p) => (10 / Math.LN10) * Math.log(Math.max(p, 1e-10)));
    let peak = -Infinity;
    for (const d of decibels) peak = Math.max(peak, d);
    const floor = peak - 100;
    return { data: Float32Array.from(decibels, (d) => Math.max(d, floor)), frames, bins: freqBins };
  }
  throw new Error(`spectrogram: unknown front end '${frontend}' (allowed: paper, reference)`);
}

/** (x − mean[f]) / (std[f] + stdFloor) per bin, in place; export.json's `audio.normalisation` (null: none). */
export function normaliseSpectrogram(spectrogram, normalisation) {
  if (!normalisation) return spectrogram;
  const { mean, std, stdFloor } = normalisation;
  if (mean.length !== spectrogram.bins) throw new Error(`normalisation: ${mean.length} bins of statistics, the spectrogram has ${spectrogram.bins}`);
  const data = spectrogram.data;
  // float32 arithmetic, in avid's order: (x − mean) · (1 / (std + floor)).
  const scale = Float32Array.from(std, (s) => 1 / (s + stdFloor));
  const m = Float32Array.from(mean);
  for (let i = 0; i < data.length; i++) {
    const f = i % spectrogram.bins;
    data[i] = Math.fround(Math.fround(data[i] - m[f]) * scale[f]);
  }
  return spectrogram;
}

/** Mono samples from a Web Audio buffer-like ({ numberOfChannels, getChannelData(c) }): the channels' mean. */
export function monoSamples(buffer) {
  const channels = Array.from({ length: buffer.numberOfChannels }, (_, c) => buffer.getChannelData(c));
  if (channels.length === 1) return Float32Array.from(channels[0]);
  return Float32Array.from(channels[0], (_, i) => channels.reduce((sum, ch) => sum + ch[i], 0) / channels.length);
}

/**
 * The audio network's input for one clip: `audio.samples` samples (export.json's clip length) from
 * `startSeconds`, its log spectrogram, normalised; an error when the sound ends before the clip does.
 */
export function audioInput(samples, audio, startSeconds = 0) {
  const start = Math.round(startSeconds * audio.sampleRate);
  if (!(start >= 0)) throw new Error(`the clip's start must be ≥ 0 s, got ${startSeconds}`);
  if (samples.length < start + audio.samples) {
    throw new Error(`the sound has ${(samples.length / audio.sampleRate).toFixed(2)} s at ${audio.sampleRate} Hz; the model takes clips of ${audio.seconds} s (from ${startSeconds} s)`);
  }
  const spectrogram = normaliseSpectrogram(logSpectrogram(samples.subarray(start, start + audio.samples), audio.spectrogram), audio.normalisation);
  const [, , frames, bins] = audio.input.shape;
  if (spectrogram.frames !== frames || spectrogram.bins !== bins) {
    throw new Error(`spectrogram of ${spectrogram.frames} × ${spectrogram.bins}, the model takes ${frames} × ${bins}`);
  }
  return spectrogram;
}

/** Runs the exported audio model (an onnxruntime InferenceSession) on the clip from `startSeconds` → { embedding, features? }. */
export async function embedAudio(ort, session, samples, manifest, startSeconds = 0) {
  const audio = manifest.audio;
  if (!audio) throw new Error('export.json has no audio model');
  const spectrogram = audioInput(samples, audio, startSeconds);
  const input = new ort.Tensor('float32', spectrogram.data, [1, 1, spectrogram.frames, spectrogram.bins]);
  const outputs = await session.run({ [audio.input.name]: input });
  return Object.fromEntries(Object.entries(outputs).map(([name, tensor]) => [name, Array.from(tensor.data)]));
}
