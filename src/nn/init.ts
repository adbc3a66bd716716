// PyTorch's default initialisers (torch.nn.init), drawing from the global generator unless one is given.
import { Tensor, noGrad, type Generator } from '../tensor/index.js';

/** fan_in and fan_out of a weight shaped (out, in, *kernel) as torch.nn.init computes them. */
export function fans(shape: number[]): { fanIn: number; fanOut: number } {
  const receptive = shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: (shape[1] ?? 1) * receptive, fanOut: shape[0] * receptive };
}

export function uniform_(t: Tensor, low: number, high: number, generator?: Generator): Tensor {
  noGrad(() => t.uniform_(low, high, generator));
  return t;
}

/** kaiming_uniform_(a=√5), the default for Conv and Linear weights: U(±1/√fan_in). */
export function defaultWeightInit_(t: Tensor, generator?: Generator): Tensor {
  const bound = 1 / Math.sqrt(fans(t.shape).fanIn);
  return uniform_(t, -bound, bound, generator);
}

/** The default bias init of Conv and Linear: U(±1/√fan_in of the weight). */
export function defaultBiasInit_(bias: Tensor, weightShape: number[], generator?: Generator): Tensor {
  const fanIn = fans(weightShape).fanIn;
  const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
  return uniform_(bias, -bound, bound, generator);
}

/** kaiming_normal_(mode='fan_out', nonlinearity='relu'), as torchvision's video ResNets initialise convs. */
export function kaimingNormalFanOut_(t: Tensor, generator?: Generator): Tensor {
  const std = Math.sqrt(2 / fans(t.shape).fanOut);
  noGrad(() => t.normal_(0, std, generator));
  return t;
}
