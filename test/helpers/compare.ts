// Tensor comparison for parity tests.
import assert from 'node:assert/strict';
import type * as T from '../../src/tensor/index.js';

export interface CloseOptions {
  /** Allowed max |actual − expected| as a fraction of max |expected| (norm-relative, robust to near-zero elements). */
  rtol?: number;
  /** Added to the allowance, for tensors that are all (nearly) zero. */
  atol?: number;
}

/** The largest absolute difference, the largest |expected| (scale), and their ratio. */
export function maxDifference(actual: T.Tensor, expected: T.Tensor): { abs: number; rel: number; scale: number } {
  const a = actual.dtype === 'float64' ? (actual.data() as Float64Array) : actual.toFloat32Array();
  const b = expected.dtype === 'float64' ? (expected.data() as Float64Array) : expected.toFloat32Array();
  let abs = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    abs = Number.isNaN(d) && !(Number.isNaN(a[i]) && Number.isNaN(b[i])) ? Infinity : Math.max(abs, Number.isNaN(d) ? 0 : d);
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return { abs, rel: scale > 0 ? abs / scale : abs, scale };
}

/** Asserts equal shapes and max |actual − expected| ≤ atol + rtol · max |expected|. */
export function assertClose(actual: T.Tensor, expected: T.Tensor, name: string, options: CloseOptions = {}): void {
  const rtol = options.rtol ?? 1e-4;
  const atol = options.atol ?? 1e-7;
  assert.deepEqual(actual.shape, expected.shape, `${name}: shape`);
  const { abs, scale } = maxDifference(actual, expected);
  assert.ok(abs <= atol + rtol * scale, `${name}: max |difference| ${abs.toExponential(3)} exceeds ${(atol + rtol * scale).toExponential(3)} (max |expected| ${scale.toExponential(3)})`);
}
