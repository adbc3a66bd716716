// SGD with momentum, dampening, Nesterov and L2 weight decay (torch.optim.SGD).
import { Tensor } from '../tensor/index.js';
import { native } from '../tensor/native.js';
import { Optimizer } from './optimizer.js';

export interface SgdHyper {
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
}

type Groups = Tensor[] | { params: Tensor[]; lr?: number; hyper?: Partial<SgdHyper> }[];

export class SGD extends Optimizer<SgdHyper> {
  constructor(params: Groups, o: { lr: number; momentum?: number; dampening?: number; weightDecay?: number; nesterov?: boolean }) {
    const groups = params.length > 0 && params[0] instanceof Tensor ? [{ params: params as Tensor[] }] : (params as { params: Tensor[] }[]);
    super(groups, { lr: o.lr, momentum: o.momentum ?? 0, dampening: o.dampening ?? 0, weightDecay: o.weightDecay ?? 0, nesterov: o.nesterov ?? false }, ['momentum_buffer']);
    if (o.nesterov && ((o.momentum ?? 0) <= 0 || (o.dampening ?? 0) !== 0)) {
      throw new Error('SGD: Nesterov momentum requires momentum > 0 and dampening 0');
    }
  }
  update(): void {
    this.step += 1;
    this.groups.forEach((g, i) => {
      native.sgdStep(
        this.handles(g.params),
        this.handles(this.slots[i].get('momentum_buffer')!),
        g.lr,
        g.hyper.momentum,
        g.hyper.dampening,
        g.hyper.weightDecay,
        g.hyper.nesterov,
        this.step === 1,
      );
    });
  }
}
