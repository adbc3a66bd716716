// Seedable random number generators. Model-side randomness draws from explicit generators so that a
// resumed run continues exactly; the global seed only covers code that passes none.
import { native } from './native.js';
import { Tensor } from './tensor.js';

export class Generator {
  readonly handle: unknown;
  constructor(seed: number) {
    this.handle = native.createGenerator(seed);
  }
  /** The generator's full state (a uint8 tensor), for checkpoints. */
  getState(): Tensor {
    return new Tensor(native.generatorGetState(this.handle));
  }
  setState(state: Tensor): void {
    native.generatorSetState(this.handle, state.handle);
  }
}

export function manualSeed(seed: number): void {
  native.manualSeed(seed);
}
export function getDefaultGeneratorState(): Tensor {
  return new Tensor(native.generatorGetState(undefined));
}
export function setDefaultGeneratorState(state: Tensor): void {
  native.generatorSetState(undefined, state.handle);
}
