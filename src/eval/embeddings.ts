// Embedding matrices as they reach the evaluation code: either a libtorch tensor (n, d) or a plain
// row-major matrix. Converted here to a float32 tensor so that similarity products run in libtorch.
import * as T from '../tensor/index.js';
import type { FeatureMatrix } from './svm.js';

export type EmbeddingInput = T.Tensor | FeatureMatrix;

/** A new float32 (n, d) tensor holding the embeddings (the caller disposes it). */
export function embeddingTensor(x: EmbeddingInput, what: string): T.Tensor {
  if (x instanceof T.Tensor) {
    if (x.ndim !== 2) throw new Error(`${what}: expected an (n, d) matrix, got shape [${x.shape.join(', ')}]`);
    return x.to('float32');
  }
  if (x.data.length !== x.rows * x.cols) throw new Error(`${what}: ${x.data.length} values do not make ${x.rows}×${x.cols}`);
  const data = x.data instanceof Float32Array ? x.data : Float32Array.from(x.data);
  return T.tensor(data, [x.rows, x.cols]);
}

/**
 * Checks that every row has unit L2 norm (within `tolerance`): the similarity-based protocols are only
 * meaningful on normalised embeddings, and a silent mismatch would bias them towards long vectors.
 */
export function assertUnitRows(x: T.Tensor, what: string, tolerance = 1e-3): void {
  const worst = T.tidy(() => x.norm(2, 1).sub(1).abs().max().item());
  if (!(worst <= tolerance)) {
    throw new Error(`${what}: rows must be L2-normalised (largest |‖row‖ − 1| is ${worst}); normalise them or pass normalize: true`);
  }
}
