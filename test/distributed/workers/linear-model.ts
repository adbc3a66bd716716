// A tiny linear regression shared by the data-parallel worker and the single-process reference: the
// distributed run must reproduce the reference exactly up to float rounding.
import * as T from '../../../src/tensor/index.js';

export const BATCH = 8;
export const STEPS = 3;
export const LR = 0.1;

/** The global batch: identical in every process (fixed seed). */
export function makeBatch(): { x: T.Tensor; y: T.Tensor } {
  const g = new T.Generator(7);
  return { x: T.randn([BATCH, 4], { generator: g }), y: T.randn([BATCH, 3], { generator: g }) };
}

/** Weight [3, 4] and bias [3], initialised from `seed` (ranks start different on purpose). */
export function makeParams(seed: number): T.Tensor[] {
  const g = new T.Generator(seed);
  return [T.randn([3, 4], { generator: g }).requiresGrad_(), T.randn([3], { generator: g }).requiresGrad_()];
}

/** Mean squared error over the rows [from, to) of the batch; backward() fills the parameters' gradients. */
export function backwardOnRows(params: T.Tensor[], batch: { x: T.Tensor; y: T.Tensor }, from: number, to: number): void {
  T.tidy(() => {
    const rows = T.arange(from, to);
    const pred = T.functional.linear(batch.x.indexSelect(0, rows), params[0], params[1]);
    T.functional.mseLoss(pred, batch.y.indexSelect(0, rows)).backward();
  });
}

export function gradients(params: T.Tensor[]): number[][] {
  return params.map((p) => T.tidy(() => Array.from(p.grad!.toFloat32Array())));
}

export function sgdStep(params: T.Tensor[]): void {
  T.noGrad(() => {
    for (const p of params) {
      const g = p.grad!;
      p.sub_(g, LR);
      g.dispose();
      p.setGrad(null);
    }
  });
}
