// Adam (L2 weight decay added to the gradient, as torch.optim.Adam) and AdamW (decoupled weight decay).
import { Tensor } from '../tensor/index.js';
import { native } from '../tensor/native.js';
import { Optimizer } from './optimizer.js';

export interface AdamHyper {
  betas: [number, number];
  eps: number;
  weightDecay: number;
}

type Groups = Tensor[] | { params: Tensor[]; lr?: number; hyper?: Partial<AdamHyper> }[];
const asGroups = (g: Groups) => (g.length > 0 && g[0] instanceof Tensor ? [{ params: g as Tensor[] }] : (g as { params: Tensor[] }[]));

export class Adam extends Optimizer<AdamHyper> {
  constructor(
    params: Groups,
    o: { lr?: number; betas?: [number, number]; eps?: number; weightDecay?: number } = {},
    private readonly decoupled = false,
  ) {
    super(asGroups(params), { lr: o.lr ?? 1e-3, betas: o.betas ?? [0.9, 0.999], eps: o.eps ?? 1e-8, weightDecay: o.weightDecay ?? 0 }, ['exp_avg', 'exp_avg_sq']);
  }
  update(): void {
    this.step += 1;
    this.groups.forEach((g, i) => {
      const slots = this.slots[i];
      native.adamStep(
        this.handles(g.params),
        this.handles(slots.get('exp_avg')!),
        this.handles(slots.get('exp_avg_sq')!),
        this.step,
        g.lr,
        g.hyper.betas[0],
        g.hyper.betas[1],
        g.hyper.eps,
        g.hyper.weightDecay,
        this.decoupled,
      );
    });
  }
}

export class AdamW extends Adam {
  constructor(params: Groups, o: { lr?: number; betas?: [number, number]; eps?: number; weightDecay?: number } = {}) {
    super(params, { weightDecay: 1e-2, ...o }, true);
  }
}
