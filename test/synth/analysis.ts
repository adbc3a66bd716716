// Test tools for the synthetic world: decoding with ffmpeg, an onset detector, unimodal features (a
// downsampled mean frame, spectrogram statistics) and a tiny softmax regression with cross-validation.
import { execFileSync } from 'node:child_process';

/** Decodes all frames of a video as rgb24. */
export function decodeFrames(file: string): Buffer {
  return execFileSync('ffmpeg', ['-v', 'error', '-nostdin', '-i', file, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], {
    maxBuffer: 1 << 28,
  });
}

/** Decodes the audio of a video as mono float at `sampleRate`. */
export function decodeAudio(file: string, sampleRate: number): Float32Array {
  const bytes = execFileSync('ffmpeg', ['-v', 'error', '-nostdin', '-i', file, '-vn', '-ac', '1', '-ar', String(sampleRate), '-f', 'f32le', 'pipe:1'], {
    maxBuffer: 1 << 28,
  });
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

export interface Onsets {
  /** Time (s) of each hop: the boundary between the window before and the window after. */
  times: number[];
  /** Log-energy rise (natural log) from the window before to the window after. */
  strength: number[];
}

/** Energy-rise onset function: log energy of [t, t + win) minus that of [t - win, t). */
export function onsetFunction(audio: Float32Array, sampleRate: number, hopSec = 0.0025, winSec = 0.01): Onsets {
  const hop = Math.round(hopSec * sampleRate);
  const win = Math.round(winSec * sampleRate);
  const prefix = new Float64Array(audio.length + 1);
  for (let i = 0; i < audio.length; i++) prefix[i + 1] = prefix[i] + audio[i] * audio[i];
  const energy = (a: number, b: number): number => (prefix[b] - prefix[a]) / (b - a) + 1e-9;
  const times: number[] = [];
  const strength: number[] = [];
  for (let s = win; s + win <= audio.length; s += hop) {
    times.push(s / sampleRate);
    strength.push(Math.log(energy(s, s + win)) - Math.log(energy(s - win, s)));
  }
  return { times, strength };
}

/** The `count` strongest local maxima of the onset function, at least `separationSec` apart. */
export function strongestOnsets(onsets: Onsets, count: number, separationSec = 0.08): number[] {
  const order = onsets.strength.map((_, i) => i).sort((a, b) => onsets.strength[b] - onsets.strength[a]);
  const picked: number[] = [];
  for (const i of order) {
    if (picked.length === count) break;
    const t = onsets.times[i];
    if (picked.every((p) => Math.abs(p - t) >= separationSec)) picked.push(t);
  }
  return picked.sort((a, b) => a - b);
}

/** Mean over frames, average-pooled to cells x cells x 3 (values 0..1). */
export function meanFrameFeatures(frames: Uint8Array | Uint8ClampedArray, size: number, cells = 8): number[] {
  const numFrames = frames.length / (size * size * 3);
  const cell = size / cells;
  const out = new Array<number>(cells * cells * 3).fill(0);
  for (let f = 0; f < numFrames; f++) {
    const base = f * size * size * 3;
    for (let y = 0; y < size; y++) {
      const cy = Math.floor(y / cell);
      for (let x = 0; x < size; x++) {
        const o = base + (y * size + x) * 3;
        const c = (cy * cells + Math.floor(x / cell)) * 3;
        out[c] += frames[o];
        out[c + 1] += frames[o + 1];
        out[c + 2] += frames[o + 2];
      }
    }
  }
  const norm = 1 / (numFrames * cell * cell * 255);
  return out.map((v) => v * norm);
}

/** In-place radix-2 FFT; `cos`/`sin` hold the n/2 twiddles. */
function fft(re: Float64Array, im: Float64Array, cos: Float64Array, sin: Float64Array): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      let t = re[i]; re[i] = re[j]; re[j] = t;
      t = im[i]; im[i] = im[j]; im[j] = t;
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const half = len >> 1;
    const stride = n / len;
    for (let i = 0; i < n; i += len) {
      for (let k = 0; k < half; k++) {
        const wr = cos[k * stride];
        const wi = sin[k * stride];
        const a = i + k;
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

/**
 * Spectrogram statistics: for `bands` log-spaced frequency bands, the mean and the standard deviation
 * over time of the log power (Hann window of 512, hop 256).
 */
export function spectrogramFeatures(audio: Float32Array, sampleRate: number, bands = 24): number[] {
  const n = 512;
  const hop = 256;
  const cos = Float64Array.from({ length: n / 2 }, (_, k) => Math.cos((-2 * Math.PI * k) / n));
  const sin = Float64Array.from({ length: n / 2 }, (_, k) => Math.sin((-2 * Math.PI * k) / n));
  const window = Float64Array.from({ length: n }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n));
  const edges = Array.from({ length: bands + 1 }, (_, b) => 60 * Math.pow(sampleRate / 2 / 60, b / bands));
  const binBand = new Int32Array(n / 2 + 1).map((_, k) => {
    const f = (k * sampleRate) / n;
    return edges.findIndex((e, b) => b < bands && f >= e && f < edges[b + 1]);
  });
  const sums = new Float64Array(bands);
  const squares = new Float64Array(bands);
  let frames = 0;
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  const power = new Float64Array(bands);
  for (let start = 0; start + n <= audio.length; start += hop) {
    for (let i = 0; i < n; i++) {
      re[i] = audio[start + i] * window[i];
      im[i] = 0;
    }
    fft(re, im, cos, sin);
    power.fill(0);
    for (let k = 0; k <= n / 2; k++) if (binBand[k] >= 0) power[binBand[k]] += re[k] * re[k] + im[k] * im[k];
    for (let b = 0; b < bands; b++) {
      const l = Math.log(power[b] + 1e-8);
      sums[b] += l;
      squares[b] += l * l;
    }
    frames++;
  }
  const features: number[] = [];
  for (let b = 0; b < bands; b++) {
    const mean = sums[b] / frames;
    features.push(mean, Math.sqrt(Math.max(0, squares[b] / frames - mean * mean)));
  }
  return features;
}

/** Multinomial logistic regression by full-batch gradient descent on standardised features, with L2. */
export function trainSoftmax(x: number[][], y: number[], numClasses: number, { steps = 300, lr = 0.5, l2 = 1e-3 } = {}) {
  const d = x[0].length;
  const mean = new Array<number>(d).fill(0);
  const std = new Array<number>(d).fill(0);
  for (const row of x) row.forEach((v, j) => (mean[j] += v / x.length));
  for (const row of x) row.forEach((v, j) => (std[j] += (v - mean[j]) ** 2 / x.length));
  for (let j = 0; j < d; j++) std[j] = Math.sqrt(std[j]) + 1e-6;
  const z = x.map((row) => row.map((v, j) => (v - mean[j]) / std[j]));
  const w = Array.from({ length: numClasses }, () => new Array<number>(d + 1).fill(0));
  const scores = (row: number[]): number[] => w.map((wc) => row.reduce((s, v, j) => s + v * wc[j], wc[d]));
  for (let step = 0; step < steps; step++) {
    const grad = Array.from({ length: numClasses }, () => new Array<number>(d + 1).fill(0));
    z.forEach((row, i) => {
      const s = scores(row);
      const m = Math.max(...s);
      const e = s.map((v) => Math.exp(v - m));
      const total = e.reduce((a, b) => a + b, 0);
      for (let c = 0; c < numClasses; c++) {
        const g = e[c] / total - (c === y[i] ? 1 : 0);
        for (let j = 0; j < d; j++) grad[c][j] += (g * row[j]) / z.length;
        grad[c][d] += g / z.length;
      }
    });
    for (let c = 0; c < numClasses; c++) for (let j = 0; j <= d; j++) w[c][j] -= lr * (grad[c][j] + (j < d ? l2 * w[c][j] : 0));
  }
  return (row: number[]): number => {
    const s = scores(row.map((v, j) => (v - mean[j]) / std[j]));
    return s.indexOf(Math.max(...s));
  };
}

/** k-fold cross-validated accuracy; `folds[i]` is the fold of sample i. */
export function crossValidatedAccuracy(x: number[][], y: number[], folds: number[], numClasses: number): number {
  let correct = 0;
  for (const fold of [...new Set(folds)]) {
    const train = x.map((_, i) => i).filter((i) => folds[i] !== fold);
    const test = x.map((_, i) => i).filter((i) => folds[i] === fold);
    const predict = trainSoftmax(train.map((i) => x[i]), train.map((i) => y[i]), numClasses);
    for (const i of test) if (predict(x[i]) === y[i]) correct++;
  }
  return correct / x.length;
}
