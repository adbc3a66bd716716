// The deterministic "hash fill" of the encoder parity spec (shared/spec/ENCODERS.md), used to compare our
// encoders with the reference's golden outputs without shipping weights.
import { Tensor, tensor, noGrad } from '../tensor/index.js';
import type { StateDict } from '../nn/index.js';

const TWO32 = 4294967296;

/** h = 2u − 1 for element i of entry k, computed exactly (all products stay below 2^53). */
export function hashValues(n: number, k: number): Float64Array {
  const out = new Float64Array(n);
  const offset = ((((k + 1) * 97531) % TWO32) + TWO32) % TWO32;
  for (let i = 0; i < n; i++) {
    const product = (i * 2654435761) % TWO32;
    out[i] = (2 * ((product + offset) % TWO32)) / TWO32 - 1;
  }
  return out;
}

/** A float32 tensor of `shape` filled with the input formula (k = −1 video, k = −2 audio). */
export function hashFill(shape: number[], k: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(Float32Array.from(hashValues(n, k)), shape);
}

/** Fills every entry of a state dict in its listed order, as the spec says. */
export function hashFillStateDict(state: StateDict): void {
  let k = 0;
  noGrad(() => {
    for (const [name, t] of state) {
      const leaf = name.split('.').pop()!;
      const shape = t.shape;
      const n = shape.reduce((a, b) => a * b, 1);
      const h = hashValues(n, k);
      const values = new Float32Array(n);
      if (leaf === 'num_batches_tracked') values.fill(0);
      else if (leaf === 'running_mean') h.forEach((v, i) => (values[i] = 0.1 * v));
      else if (leaf === 'running_var') h.forEach((v, i) => (values[i] = 1 + 0.5 * Math.abs(v)));
      else if (shape.length === 1 && leaf === 'weight') h.forEach((v, i) => (values[i] = 1 + 0.1 * v));
      else if (shape.length === 1 && leaf === 'bias') h.forEach((v, i) => (values[i] = 0.1 * v));
      else {
        const fanIn = shape.slice(1).reduce((a, b) => a * b, 1);
        const scale = Math.sqrt(6 / fanIn);
        h.forEach((v, i) => (values[i] = scale * v));
      }
      const filled = tensor(values, shape);
      t.copy_(filled);
      filled.dispose();
      k += 1;
    }
  });
}
