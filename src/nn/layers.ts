// The standard layers, with PyTorch's attribute names (weight, bias, running_mean, ...) and defaults.
import { Tensor, empty, zeros, ones, full, functional as F, type Generator } from '../tensor/index.js';
import { Layer } from './module.js';
import { defaultBiasInit_, defaultWeightInit_ } from './init.js';
import { syncBatchNorm } from '../distributed/sync-batch-norm.js';

type Ints = number | number[];
const tuple = (v: Ints, n: number) => (typeof v === 'number' ? new Array<number>(n).fill(v) : v);

export interface ConvOptions {
  stride?: Ints;
  padding?: Ints;
  dilation?: Ints;
  groups?: number;
  bias?: boolean;
  generator?: Generator;
}

abstract class ConvNd extends Layer {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly stride: number[];
  readonly padding: number[];
  readonly dilation: number[];
  readonly groups: number;

  constructor(dims: number, inChannels: number, outChannels: number, kernel: Ints, o: ConvOptions) {
    super();
    this.stride = tuple(o.stride ?? 1, dims);
    this.padding = tuple(o.padding ?? 0, dims);
    this.dilation = tuple(o.dilation ?? 1, dims);
    this.groups = o.groups ?? 1;
    const shape = [outChannels, inChannels / this.groups, ...tuple(kernel, dims)];
    this.weight = this.registerParameter('weight', defaultWeightInit_(empty(shape), o.generator))!;
    this.bias = this.registerParameter('bias', o.bias === false ? null : defaultBiasInit_(empty([outChannels]), shape, o.generator));
  }
  protected convOptions(): F.ConvOptions {
    return { stride: this.stride, padding: this.padding, dilation: this.dilation, groups: this.groups };
  }
}

export class Conv2d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernel: Ints, o: ConvOptions = {}) {
    super(2, inChannels, outChannels, kernel, o);
  }
  forward(x: Tensor): Tensor {
    return F.conv2d(x, this.weight, this.bias, this.convOptions());
  }
}

export class Conv3d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernel: Ints, o: ConvOptions = {}) {
    super(3, inChannels, outChannels, kernel, o);
  }
  forward(x: Tensor): Tensor {
    return F.conv3d(x, this.weight, this.bias, this.convOptions());
  }
}

/** Batch norm over the channel dim of (N, C, ...): eps 1e-5, momentum 0.1, int64 num_batches_tracked. */
export class BatchNorm extends Layer {
  readonly weight: Tensor;
  readonly bias: Tensor;
  readonly runningMean: Tensor;
  readonly runningVar: Tensor;
  readonly numBatchesTracked: Tensor;
  /** Normalise with the statistics of the global batch across data-parallel ranks (SyncBatchNorm). */
  sync = false;

  constructor(
    readonly numFeatures: number,
    readonly eps = 1e-5,
    readonly momentum = 0.1,
  ) {
    super();
    this.weight = this.registerParameter('weight', ones([numFeatures]))!;
    this.bias = this.registerParameter('bias', zeros([numFeatures]))!;
    this.runningMean = this.registerBuffer('running_mean', zeros([numFeatures]));
    this.runningVar = this.registerBuffer('running_var', ones([numFeatures]));
    this.numBatchesTracked = this.registerBuffer('num_batches_tracked', full([], 0, { dtype: 'int64' }));
  }
  forward(x: Tensor): Tensor {
    if (this.training) this.numBatchesTracked.add_(1);
    return (this.sync && this.training ? syncBatchNorm : F.batchNorm)(x, {
      weight: this.weight,
      bias: this.bias,
      runningMean: this.runningMean,
      runningVar: this.runningVar,
      training: this.training,
      momentum: this.momentum,
      eps: this.eps,
    });
  }
}
export class BatchNorm2d extends BatchNorm {}
export class BatchNorm3d extends BatchNorm {}

export class Linear extends Layer {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  constructor(inFeatures: number, outFeatures: number, o: { bias?: boolean; generator?: Generator } = {}) {
    super();
    const shape = [outFeatures, inFeatures];
    this.weight = this.registerParameter('weight', defaultWeightInit_(empty(shape), o.generator))!;
    this.bias = this.registerParameter('bias', o.bias === false ? null : defaultBiasInit_(empty([outFeatures]), shape, o.generator));
  }
  forward(x: Tensor): Tensor {
    return F.linear(x, this.weight, this.bias);
  }
}

export class ReLU extends Layer {
  forward(x: Tensor): Tensor {
    return x.relu();
  }
}

export class Identity extends Layer {
  forward(x: Tensor): Tensor {
    return x.alias();
  }
}

export class MaxPool2d extends Layer {
  constructor(
    readonly kernel: Ints,
    readonly options: F.PoolOptions = {},
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.maxPool2d(x, this.kernel, this.options);
  }
}

export class MaxPool3d extends Layer {
  constructor(
    readonly kernel: Ints,
    readonly options: F.PoolOptions = {},
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.maxPool3d(x, this.kernel, this.options);
  }
}

export class AdaptiveMaxPool2d extends Layer {
  constructor(readonly outputSize: Ints) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.adaptiveMaxPool2d(x, this.outputSize);
  }
}

export class AdaptiveMaxPool3d extends Layer {
  constructor(readonly outputSize: Ints) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.adaptiveMaxPool3d(x, this.outputSize);
  }
}

export class Dropout extends Layer {
  constructor(readonly p = 0.5) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.dropout(x, this.p, this.training);
  }
}
