// The data-parallel in-batch case shared by the 2-rank worker and the single-process reference: a global
// batch of 8 unit-norm (video, audio) pairs in float64, shared out ragged over the ranks.
import * as T from '../../../src/tensor/index.js';

export const SHARES = [5, 3];

export function inBatchCase(): { video: T.Tensor; audio: T.Tensor } {
  const g = new T.Generator(21);
  const n = SHARES.reduce((a, b) => a + b, 0);
  return T.tidy(() => ({
    video: T.functional.normalize(T.randn([n, 6], { generator: g, dtype: 'float64' })),
    audio: T.functional.normalize(T.randn([n, 6], { generator: g, dtype: 'float64' })),
  }));
}
