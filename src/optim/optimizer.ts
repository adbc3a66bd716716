// Optimizer base: parameter groups with their own hyper-parameters, per-parameter state tensors, and a
// state dict (tensors by name + JSON-able scalars) that checkpoints can save and restore.
import { Tensor, zerosLike, keep } from '../tensor/index.js';
import { native } from '../tensor/native.js';

export interface ParamGroup<H> {
  params: Tensor[];
  hyper: H;
  /** The learning rate in force (schedules write it). */
  lr: number;
  /** The group's base learning rate, from which schedules scale. */
  baseLr: number;
}

export interface OptimizerState {
  tensors: Map<string, Tensor>;
  scalars: { step: number; groups: { lr: number; baseLr: number }[] };
}

export abstract class Optimizer<H extends object> {
  readonly groups: ParamGroup<H>[];
  step = 0;
  protected readonly slots: Map<string, Tensor[]>[];

  constructor(
    groups: { params: Tensor[]; lr?: number; hyper?: Partial<H> }[],
    defaults: H & { lr: number },
    private readonly slotNames: string[],
  ) {
    this.groups = groups.map((g) => {
      const lr = g.lr ?? defaults.lr;
      return { params: g.params, hyper: { ...defaults, ...(g.hyper ?? {}) }, lr, baseLr: lr };
    });
    this.slots = this.groups.map((g) => new Map(slotNames.map((name) => [name, g.params.map((p) => keep(zerosLike(p)))])));
  }

  /** Applies one update from the parameters' accumulated gradients. */
  abstract update(): void;

  zeroGrad(): void {
    for (const g of this.groups) native.zeroGrads(g.params.map((p) => p.handle));
  }

  setLrScale(scale: number): void {
    for (const g of this.groups) g.lr = g.baseLr * scale;
  }

  stateDict(): OptimizerState {
    const tensors = new Map<string, Tensor>();
    this.slots.forEach((slots, gi) => {
      for (const [name, list] of slots) list.forEach((t, pi) => tensors.set(`${gi}.${pi}.${name}`, t));
    });
    return { tensors, scalars: { step: this.step, groups: this.groups.map((g) => ({ lr: g.lr, baseLr: g.baseLr })) } };
  }

  loadStateDict(state: OptimizerState): void {
    this.slots.forEach((slots, gi) => {
      for (const [name, list] of slots) {
        list.forEach((t, pi) => {
          const key = `${gi}.${pi}.${name}`;
          const value = state.tensors.get(key);
          if (!value) throw new Error(`optimizer state is missing '${key}'`);
          t.copy_(value);
        });
      }
    });
    this.step = state.scalars.step;
    state.scalars.groups.forEach((g, i) => {
      if (this.groups[i]) Object.assign(this.groups[i], g);
    });
  }

  dispose(): void {
    for (const slots of this.slots) for (const list of slots.values()) list.forEach((t) => t.dispose());
  }

  protected handles(list: Tensor[]): unknown[] {
    return list.map((t) => t.handle);
  }
  protected get slotNamesList(): string[] {
    return this.slotNames;
  }
}
