// The MLP projection head: three fully-connected layers (512 → 512 → 512 → 128 in the papers: two hidden
// layers of the feature width), ReLU between, none after the last. Keys: projection.0/2/4.
import { Tensor } from '../tensor/index.js';
import { Layer, Sequential, Linear, ReLU } from '../nn/index.js';

export class ProjectionHead extends Layer {
  readonly projection: Sequential;
  constructor(inFeatures: number, hidden: number, outFeatures: number) {
    super();
    this.projection = this.registerModule('projection', new Sequential(new Linear(inFeatures, hidden), new ReLU(), new Linear(hidden, hidden), new ReLU(), new Linear(hidden, outFeatures)));
  }
  /** The head's output before L2 normalisation. */
  forward(x: Tensor): Tensor {
    return this.projection.forward(x);
  }
}
