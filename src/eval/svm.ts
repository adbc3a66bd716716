// Linear support vector machines by dual coordinate descent (Hsieh, Chang, Lin, Keerthi, Sundararajan,
// "A Dual Coordinate Descent Method for Large-scale Linear SVM", ICML 2008; LIBLINEAR's solver for
// L2-regularised L1- and L2-loss SVC), in TypeScript, with the two row operations that take the time (x̃ᵢ·w
// and w += s·xᵢ) in WebAssembly SIMD where it is available (svm-kernels.ts): the problems of the sound
// protocol are small (thousands of clips, hundreds to thousands of dimensions), but fitted many times.
//
// Primal:  min_w ½‖w‖² + C Σ ξ(yᵢ wᵀx̃ᵢ),  ξ(m) = max(0, 1−m) (hinge) or max(0, 1−m)² (squared hinge),
// with x̃ᵢ = [xᵢ, B] so that the bias b = B·w_{d} is learned as one more weight (and, as in LIBLINEAR, is
// regularised: B = biasScale controls how much). Dual:  min_α ½ αᵀQ̄α − eᵀα,  0 ≤ αᵢ ≤ U, with
// Q̄ᵢⱼ = yᵢyⱼx̃ᵢᵀx̃ⱼ + Dᵢⱼ; hinge: U = C, D = 0; squared hinge: U = ∞, Dᵢᵢ = 1/(2C). The solver keeps
// w = Σ αᵢyᵢx̃ᵢ, updates one αᵢ at a time in closed form, visits coordinates in a seeded random order,
// shrinks variables stuck at a bound, and stops when the projected gradient's spread (max − min) falls
// below `tolerance` on ALL variables (shrunk ones are re-checked before stopping).

import { seededRandom } from '../data/rng.js';
import { rowKernels, type RowKernels } from './svm-kernels.js';

export type SvmLoss = 'hinge' | 'squared-hinge';

/** A dense n×d matrix, row-major. */
export interface FeatureMatrix {
  data: Float32Array | Float64Array;
  rows: number;
  cols: number;
}

export interface SvmOptions {
  /** Regularisation constant (weight of the loss). */
  C: number;
  loss?: SvmLoss;
  /** Learn a bias (default true). */
  bias?: boolean;
  /** Value of the constant feature that carries the bias (LIBLINEAR's -B; default 1). */
  biasScale?: number;
  /** Stop when max − min of the projected gradient is at most this (default 1e-3). */
  tolerance?: number;
  /** Cap on passes over the data (default 1000). */
  maxIterations?: number;
  /** Seed of the coordinate order (default 0). */
  seed?: number;
  /** Drop variables stuck at a bound from the passes (default true; the answer is the same). */
  shrinking?: boolean;
}

export interface BinarySvm {
  /** Weights (d). */
  w: Float64Array;
  /** Bias (0 when bias is off). */
  b: number;
  /** Dual variables, one per training example. */
  alpha: Float64Array;
  /** Passes over the (active) data. */
  iterations: number;
  /** Whether the tolerance was reached on all variables before the iteration cap. */
  converged: boolean;
  /** max − min of the projected gradient over all variables at the returned solution. */
  violation: number;
}

export function matrix(data: Float32Array | Float64Array, rows: number, cols: number): FeatureMatrix {
  if (data.length !== rows * cols) throw new Error(`feature matrix: ${data.length} values do not make ${rows}×${cols}`);
  return { data, rows, cols };
}

function checkOptions(o: SvmOptions): Required<SvmOptions> {
  if (!(o.C > 0) || !Number.isFinite(o.C)) throw new Error(`svm: C must be a positive number, got ${o.C}`);
  const loss = o.loss ?? 'hinge';
  if (loss !== 'hinge' && loss !== 'squared-hinge') throw new Error(`svm: loss must be 'hinge' or 'squared-hinge', got '${loss}'`);
  const r = {
    C: o.C,
    loss,
    bias: o.bias ?? true,
    biasScale: o.biasScale ?? 1,
    tolerance: o.tolerance ?? 1e-3,
    maxIterations: o.maxIterations ?? 1000,
    seed: o.seed ?? 0,
    shrinking: o.shrinking ?? true,
  };
  if (!(r.tolerance > 0)) throw new Error(`svm: tolerance must be positive, got ${r.tolerance}`);
  if (!(r.maxIterations >= 1)) throw new Error(`svm: maxIterations must be at least 1, got ${r.maxIterations}`);
  if (r.bias && !(r.biasScale > 0)) throw new Error(`svm: biasScale must be positive, got ${r.biasScale}`);
  return r;
}

/** x̃ᵢᵀx̃ᵢ for every row (the diagonal of the Gram matrix, shared by all one-vs-rest problems). */
function squaredNorms(X: FeatureMatrix, biasFeature: number): Float64Array {
  const { data, rows, cols } = X;
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let s = biasFeature * biasFeature;
    const off = i * cols;
    for (let k = 0; k < cols; k++) s += data[off + k] * data[off + k];
    out[i] = s;
  }
  return out;
}

function solveDual(
  X: FeatureMatrix,
  y: Int8Array,
  norms: Float64Array,
  o: Required<SvmOptions>,
  initialAlpha?: Float64Array,
  kernels: RowKernels = rowKernels(X.data, X.rows, X.cols),
): BinarySvm {
  const n = X.rows;
  const B = o.bias ? o.biasScale : 0;
  const diag = o.loss === 'hinge' ? 0 : 0.5 / o.C;
  const upper = o.loss === 'hinge' ? o.C : Infinity;
  const qd = new Float64Array(n);
  for (let i = 0; i < n; i++) qd[i] = norms[i] + diag;

  kernels.reset();
  const w = kernels.w;
  let wb = 0; // weight of the bias feature
  const alpha = new Float64Array(n);
  if (initialAlpha) {
    // Warm start (e.g. from the solution for a smaller C): any α in the box is a valid starting point;
    // w = Σ αᵢyᵢx̃ᵢ must be rebuilt to match it.
    for (let i = 0; i < n; i++) {
      const a = Math.min(Math.max(initialAlpha[i], 0), upper);
      if (a === 0) continue;
      alpha[i] = a;
      const step = a * y[i];
      kernels.addScaled(i, step);
      wb += step * B;
    }
  }
  const index = new Int32Array(n);
  for (let i = 0; i < n; i++) index[i] = i;
  const random = seededRandom(o.seed);

  const gradient = (i: number): number => y[i] * (kernels.dot(i) + wb * B) - 1 + diag * alpha[i];

  // max − min of the projected gradient over every variable at the current α (the convergence certificate).
  const violationNow = (): number => {
    let hi = -Infinity;
    let lo = Infinity;
    for (let i = 0; i < n; i++) {
      const G = gradient(i);
      const pg = alpha[i] === 0 ? Math.min(G, 0) : alpha[i] === upper ? Math.max(G, 0) : G;
      if (pg > hi) hi = pg;
      if (pg < lo) lo = pg;
    }
    return n > 0 ? hi - lo : 0;
  };

  let active = n;
  let pgMaxOld = Infinity;
  let pgMinOld = -Infinity;
  let iterations = 0;
  let converged = false;
  while (iterations < o.maxIterations) {
    let pgMax = -Infinity;
    let pgMin = Infinity;
    for (let i = 0; i < active; i++) {
      const j = i + Math.floor(random() * (active - i));
      const t = index[i];
      index[i] = index[j];
      index[j] = t;
    }
    for (let s = 0; s < active; s++) {
      const i = index[s];
      const G = gradient(i);
      let pg = 0;
      if (alpha[i] === 0) {
        if (o.shrinking && G > pgMaxOld) {
          // At the lower bound and pushing further down: this variable is very likely to stay at 0.
          active--;
          index[s] = index[active];
          index[active] = i;
          s--;
          continue;
        }
        if (G < 0) pg = G;
      } else if (alpha[i] === upper) {
        if (o.shrinking && G < pgMinOld) {
          active--;
          index[s] = index[active];
          index[active] = i;
          s--;
          continue;
        }
        if (G > 0) pg = G;
      } else {
        pg = G;
      }
      if (pg > pgMax) pgMax = pg;
      if (pg < pgMin) pgMin = pg;
      if (Math.abs(pg) > 1e-12) {
        const old = alpha[i];
        // qd[i] = 0 only for an all-zero example without bias: its gradient is constant, so it goes to a bound.
        const next = qd[i] > 0 ? old - G / qd[i] : G < 0 ? upper : 0;
        alpha[i] = Math.min(Math.max(next, 0), upper);
        const step = (alpha[i] - old) * y[i];
        if (step !== 0) {
          kernels.addScaled(i, step);
          wb += step * B;
        }
      }
    }
    iterations++;
    if (active === 0) {
      // Everything was shrunk: re-check all variables with the bounds reset.
      active = n;
      pgMaxOld = Infinity;
      pgMinOld = -Infinity;
      continue;
    }
    if (pgMax - pgMin <= o.tolerance) {
      // The in-pass spread saw each gradient at a different moment; confirm on the final α before stopping.
      if (active === n && violationNow() <= o.tolerance) {
        converged = true;
        break;
      }
      active = n;
      pgMaxOld = Infinity;
      pgMinOld = -Infinity;
      continue;
    }
    pgMaxOld = pgMax <= 0 ? Infinity : pgMax;
    pgMinOld = pgMin >= 0 ? -Infinity : pgMin;
  }

  const violation = violationNow();
  // w is the kernels' buffer, reused by the next solve: the model gets its own copy.
  return { w: Float64Array.from(w), b: wb * B, alpha, iterations, converged: converged || violation <= o.tolerance, violation };
}

function toSigns(y: ArrayLike<number>, n: number): Int8Array {
  if (y.length !== n) throw new Error(`svm: ${y.length} targets for ${n} examples`);
  const out = new Int8Array(n);
  for (let i = 0; i < n; i++) {
    if (y[i] !== 1 && y[i] !== -1) throw new Error(`svm: binary targets must be +1 or −1, got ${y[i]} at ${i}`);
    out[i] = y[i];
  }
  return out;
}

/** Trains a binary linear SVM on targets ±1. */
export function trainBinarySvm(X: FeatureMatrix, y: ArrayLike<number>, options: SvmOptions): BinarySvm {
  const o = checkOptions(options);
  if (X.rows === 0) throw new Error('svm: no training examples');
  const signs = toSigns(y, X.rows);
  return solveDual(X, signs, squaredNorms(X, o.bias ? o.biasScale : 0), o);
}

/** wᵀxᵢ + b for every row. */
export function binaryDecision(model: { w: Float64Array; b: number }, X: FeatureMatrix): Float64Array {
  if (model.w.length !== X.cols) throw new Error(`svm: model has ${model.w.length} weights, features have ${X.cols} columns`);
  const out = new Float64Array(X.rows);
  for (let i = 0; i < X.rows; i++) {
    const off = i * X.cols;
    let s = model.b;
    for (let k = 0; k < X.cols; k++) s += model.w[k] * X.data[off + k];
    out[i] = s;
  }
  return out;
}

export interface OneVsRestSvm {
  numClasses: number;
  dim: number;
  /** numClasses × dim, row-major. */
  weights: Float64Array;
  biases: Float64Array;
  /** Per class: passes, convergence and final violation. */
  diagnostics: { iterations: number; converged: boolean; violation: number }[];
}

/** One binary SVM per class (that class +1, all others −1). Labels are 0..numClasses−1. */
export function trainOneVsRest(X: FeatureMatrix, labels: ArrayLike<number>, numClasses: number, options: SvmOptions): OneVsRestSvm {
  const o = checkOptions(options);
  if (X.rows === 0) throw new Error('svm: no training examples');
  if (labels.length !== X.rows) throw new Error(`svm: ${labels.length} labels for ${X.rows} examples`);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (!Number.isInteger(l) || l < 0 || l >= numClasses) throw new Error(`svm: label ${l} at ${i} is outside 0..${numClasses - 1}`);
  }
  const norms = squaredNorms(X, o.bias ? o.biasScale : 0);
  const weights = new Float64Array(numClasses * X.cols);
  const biases = new Float64Array(numClasses);
  const diagnostics: OneVsRestSvm['diagnostics'] = [];
  const signs = new Int8Array(X.rows);
  const kernels = rowKernels(X.data, X.rows, X.cols);
  for (let c = 0; c < numClasses; c++) {
    for (let i = 0; i < X.rows; i++) signs[i] = labels[i] === c ? 1 : -1;
    const m = solveDual(X, signs, norms, { ...o, seed: o.seed + c }, undefined, kernels);
    weights.set(m.w, c * X.cols);
    biases[c] = m.b;
    diagnostics.push({ iterations: m.iterations, converged: m.converged, violation: m.violation });
  }
  return { numClasses, dim: X.cols, weights, biases, diagnostics };
}

/**
 * One-vs-rest SVMs for several C values at once (a regularisation path): each class's problems are solved
 * in ascending C, each warm-started from the previous solution, which is much cheaper than cold starts and
 * reaches the same optima (the tolerance is checked on every one). Returns the models in the order of `Cs`.
 */
export function trainOneVsRestPath(
  X: FeatureMatrix,
  labels: ArrayLike<number>,
  numClasses: number,
  Cs: number[],
  options: Omit<SvmOptions, 'C'>,
): OneVsRestSvm[] {
  if (Cs.length === 0) throw new Error('svm: no C values');
  const checked = Cs.map((C) => checkOptions({ ...options, C }));
  if (X.rows === 0) throw new Error('svm: no training examples');
  if (labels.length !== X.rows) throw new Error(`svm: ${labels.length} labels for ${X.rows} examples`);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (!Number.isInteger(l) || l < 0 || l >= numClasses) throw new Error(`svm: label ${l} at ${i} is outside 0..${numClasses - 1}`);
  }
  const o0 = checked[0];
  const norms = squaredNorms(X, o0.bias ? o0.biasScale : 0);
  const order = Cs.map((_, k) => k).sort((a, b) => Cs[a] - Cs[b]);
  const models: OneVsRestSvm[] = Cs.map(() => ({
    numClasses,
    dim: X.cols,
    weights: new Float64Array(numClasses * X.cols),
    biases: new Float64Array(numClasses),
    diagnostics: [],
  }));
  const signs = new Int8Array(X.rows);
  const kernels = rowKernels(X.data, X.rows, X.cols);
  for (let c = 0; c < numClasses; c++) {
    for (let i = 0; i < X.rows; i++) signs[i] = labels[i] === c ? 1 : -1;
    let previous: Float64Array | undefined;
    for (const k of order) {
      const m = solveDual(X, signs, norms, { ...checked[k], seed: checked[k].seed + c }, previous, kernels);
      previous = m.alpha;
      models[k].weights.set(m.w, c * X.cols);
      models[k].biases[c] = m.b;
      models[k].diagnostics[c] = { iterations: m.iterations, converged: m.converged, violation: m.violation };
    }
  }
  return models;
}

/** Decision values, rows × numClasses, row-major. */
export function oneVsRestScores(model: OneVsRestSvm, X: FeatureMatrix): Float64Array {
  if (model.dim !== X.cols) throw new Error(`svm: model expects ${model.dim} features, got ${X.cols}`);
  const K = model.numClasses;
  const out = new Float64Array(X.rows * K);
  for (let i = 0; i < X.rows; i++) {
    const off = i * X.cols;
    for (let c = 0; c < K; c++) {
      const wo = c * X.cols;
      let s = model.biases[c];
      for (let k = 0; k < X.cols; k++) s += model.weights[wo + k] * X.data[off + k];
      out[i * K + c] = s;
    }
  }
  return out;
}

/** Index of the largest value in each row of a rows × cols matrix. */
export function argmaxRows(scores: Float64Array | Float32Array, cols: number): Int32Array {
  const rows = scores.length / cols;
  const out = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    let best = 0;
    for (let c = 1; c < cols; c++) if (scores[i * cols + c] > scores[i * cols + best]) best = c;
    out[i] = best;
  }
  return out;
}

export interface Standardizer {
  mean: Float64Array;
  /** Divisor per column: the standard deviation (+ epsilon), or 1 for a constant column. */
  scale: Float64Array;
}

/**
 * Per-column mean and standard deviation of the TRAINING rows only (fit on training data; apply to both
 * sides). `epsilon` is added to the deviation (the reference's ESC protocol uses 1e-2); a constant column
 * gets divisor 1 so that it stays 0 instead of exploding.
 */
export function fitStandardizer(X: FeatureMatrix, rows?: ArrayLike<number>, epsilon = 0): Standardizer {
  const d = X.cols;
  const indices = rows ?? Array.from({ length: X.rows }, (_, i) => i);
  const n = indices.length;
  if (n === 0) throw new Error('standardizer: no rows to fit on');
  const mean = new Float64Array(d);
  for (let r = 0; r < n; r++) {
    const off = indices[r] * d;
    for (let k = 0; k < d; k++) mean[k] += X.data[off + k];
  }
  for (let k = 0; k < d; k++) mean[k] /= n;
  const variance = new Float64Array(d);
  for (let r = 0; r < n; r++) {
    const off = indices[r] * d;
    for (let k = 0; k < d; k++) {
      const v = X.data[off + k] - mean[k];
      variance[k] += v * v;
    }
  }
  const scale = new Float64Array(d);
  for (let k = 0; k < d; k++) {
    const std = Math.sqrt(variance[k] / n);
    scale[k] = std > 0 ? std + epsilon : 1;
  }
  return { mean, scale };
}

/** (x − mean) / scale for the given rows (default all), as a new Float32 matrix. */
export function applyStandardizer(s: Standardizer, X: FeatureMatrix, rows?: ArrayLike<number>): FeatureMatrix {
  const d = X.cols;
  if (s.mean.length !== d) throw new Error(`standardizer: fitted on ${s.mean.length} columns, got ${d}`);
  const indices = rows ?? Array.from({ length: X.rows }, (_, i) => i);
  const out = new Float32Array(indices.length * d);
  for (let r = 0; r < indices.length; r++) {
    const src = indices[r] * d;
    const dst = r * d;
    for (let k = 0; k < d; k++) out[dst + k] = (X.data[src + k] - s.mean[k]) / s.scale[k];
  }
  return { data: out, rows: indices.length, cols: d };
}
