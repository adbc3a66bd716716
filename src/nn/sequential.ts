// Sequential: children named '0', '1', ... as in torch.nn.Sequential, so keys read `conv1.0.weight`.
import { Tensor, tidy } from '../tensor/index.js';
import { Layer } from './module.js';

export class Sequential extends Layer {
  readonly layers: Layer[];
  constructor(...layers: Layer[]) {
    super();
    this.layers = layers;
    layers.forEach((layer, i) => this.registerModule(String(i), layer));
  }
  forward(x: Tensor): Tensor {
    // Intermediate activations are freed as soon as the next layer has consumed them... unless autograd
    // still needs them, in which case libtorch keeps its own reference: disposing our handle is always safe.
    return tidy(() => this.layers.reduce((h, layer) => layer.forward(h), x));
  }
}
