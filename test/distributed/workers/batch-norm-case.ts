// The synchronised batch-norm case shared by the 2-rank worker and the single-process reference: a global
// batch of 8, each rank normalising its share; loss = mean over the batch of sum(y * r).
import * as T from '../../../src/tensor/index.js';

export const N = 8;
export const SHAPE = [N, 3, 5];

export function makeCase(): { x: T.Tensor; r: T.Tensor; weight: T.Tensor; bias: T.Tensor } {
  const g = new T.Generator(11);
  return T.tidy(() => ({
    x: T.randn(SHAPE, { generator: g, dtype: 'float64' }).mul(2).add(0.5),
    r: T.randn(SHAPE, { generator: g, dtype: 'float64' }),
    weight: T.randn([3], { generator: g, dtype: 'float64' }).requiresGrad_(),
    bias: T.randn([3], { generator: g, dtype: 'float64' }).requiresGrad_(),
  }));
}

export function rows(t: T.Tensor, from: number, to: number): T.Tensor {
  return t.narrow(0, from, to - from);
}

export const toList = (t: T.Tensor) => Array.from(t.data() as Float64Array);
