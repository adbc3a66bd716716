// R(2+1)D video network of the AVID/CMA reference: a 3-D stem, then stages of (2+1)D residual blocks, then a
// global max-pool. Attribute names are the reference's checkpoint keys (conv1.0, conv2x.spt_conv1, ...).
import { Tensor, tidy, functional as F } from '../tensor/index.js';
import { Module, Layer, Sequential, Conv3d, BatchNorm3d, ReLU, MaxPool3d } from '../nn/index.js';

/**
 * Spatial conv (1×3×3, stride 1×s×s) → BN → ReLU → temporal conv (3×1×1, stride t×1×1) → BN → ReLU →
 * spatial conv → BN → ReLU → temporal conv, then BN(main + residual) → ReLU. The residual is a 1×1×1 conv
 * with the block's stride when the shape changes, else the identity.
 */
export class R2Plus1DBlock extends Layer {
  readonly spt_conv1: Conv3d;
  readonly spt_bn1: BatchNorm3d;
  readonly tmp_conv1: Conv3d;
  readonly tmp_bn1: BatchNorm3d;
  readonly spt_conv2: Conv3d;
  readonly spt_bn2: BatchNorm3d;
  readonly tmp_conv2: Conv3d;
  readonly out_bn: BatchNorm3d;
  readonly res_conv: Conv3d | null;

  constructor(inChannels: number, outChannels: number, stride: number) {
    super();
    const noBias = { bias: false };
    this.spt_conv1 = this.registerModule('spt_conv1', new Conv3d(inChannels, outChannels, [1, 3, 3], { stride: [1, stride, stride], padding: [0, 1, 1], ...noBias }));
    this.spt_bn1 = this.registerModule('spt_bn1', new BatchNorm3d(outChannels));
    this.tmp_conv1 = this.registerModule('tmp_conv1', new Conv3d(outChannels, outChannels, [3, 1, 1], { stride: [stride, 1, 1], padding: [1, 0, 0], ...noBias }));
    this.tmp_bn1 = this.registerModule('tmp_bn1', new BatchNorm3d(outChannels));
    this.spt_conv2 = this.registerModule('spt_conv2', new Conv3d(outChannels, outChannels, [1, 3, 3], { padding: [0, 1, 1], ...noBias }));
    this.spt_bn2 = this.registerModule('spt_bn2', new BatchNorm3d(outChannels));
    this.tmp_conv2 = this.registerModule('tmp_conv2', new Conv3d(outChannels, outChannels, [3, 1, 1], { padding: [1, 0, 0], ...noBias }));
    this.out_bn = this.registerModule('out_bn', new BatchNorm3d(outChannels));
    const changesShape = inChannels !== outChannels || stride !== 1;
    this.res_conv = changesShape ? this.registerModule('res_conv', new Conv3d(inChannels, outChannels, 1, { stride, ...noBias })) : null;
  }

  forward(x: Tensor): Tensor {
    return tidy(() => {
      let h = this.spt_bn1.forward(this.spt_conv1.forward(x)).relu_();
      h = this.tmp_bn1.forward(this.tmp_conv1.forward(h)).relu_();
      h = this.spt_bn2.forward(this.spt_conv2.forward(h)).relu_();
      h = this.tmp_conv2.forward(h);
      const residual = this.res_conv ? this.res_conv.forward(x) : x;
      return this.out_bn.forward(h.add_(residual)).relu_();
    });
  }
}

export const VIDEO_BLOCKS = ['conv1', 'conv2x', 'conv3x', 'conv4x', 'conv5x', 'pool'] as const;
export type VideoBlockName = (typeof VIDEO_BLOCKS)[number];

export interface R2Plus1DOptions {
  /** Blocks per stage conv2x..conv5x: [1,1,1,1] (depth 10), [2,2,2,2] (18), [3,4,6,3] (34). */
  layers: number[];
  /** Channel multiplier: 1 is the paper's 64-128-256-512; 0.25 gives a CPU-sized network. */
  width?: number;
  inChannels?: number;
}

export class R2Plus1D extends Module {
  readonly conv1: Sequential;
  readonly stages: Layer[];
  readonly outChannels: number;

  constructor(o: R2Plus1DOptions) {
    super();
    const width = o.width ?? 1;
    const channels = [64, 128, 256, 512].map((c) => Math.max(1, Math.round(c * width)));
    this.conv1 = this.registerModule(
      'conv1',
      new Sequential(
        new Conv3d(o.inChannels ?? 3, channels[0], [3, 7, 7], { stride: [1, 2, 2], padding: [1, 3, 3], bias: false }),
        new BatchNorm3d(channels[0]),
        new ReLU(),
        new MaxPool3d([1, 3, 3], { stride: [1, 2, 2], padding: [0, 1, 1] }),
      ),
    );
    let inChannels = channels[0];
    this.stages = o.layers.map((count, stage) => {
      const stride = stage === 0 ? 1 : 2;
      const blocks: Layer[] = [];
      for (let b = 0; b < count; b++) {
        blocks.push(new R2Plus1DBlock(b === 0 ? inChannels : channels[stage], channels[stage], b === 0 ? stride : 1));
      }
      inChannels = channels[stage];
      // One block per stage is registered directly (keys `conv2x.spt_conv1`), several as a Sequential
      // (`conv2x.0.spt_conv1`), exactly as the reference builds them.
      return this.registerModule(`conv${stage + 2}x`, blocks.length === 1 ? blocks[0] : new Sequential(...blocks));
    });
    this.outChannels = inChannels;
  }

  /** Every block's output: conv1 (after the stem's max-pool), conv2x..conv5x, and the global max-pool. */
  forwardBlocks(x: Tensor): Record<VideoBlockName, Tensor> {
    return tidy(() => {
      const out = { conv1: this.conv1.forward(x) } as Record<VideoBlockName, Tensor>;
      let h = out.conv1;
      this.stages.forEach((stage, i) => {
        h = stage.forward(h);
        out[`conv${i + 2}x` as VideoBlockName] = h;
      });
      out.pool = F.adaptiveMaxPool3d(h, 1);
      return out;
    });
  }

  /** The pooled features (N, C). */
  forward(x: Tensor): Tensor {
    return tidy(() => {
      let h = this.conv1.forward(x);
      for (const stage of this.stages) h = stage.forward(h);
      return F.adaptiveMaxPool3d(h, 1).flatten(1);
    });
  }
}

export const R2PLUS1D_LAYERS: Record<number, number[]> = { 10: [1, 1, 1, 1], 18: [2, 2, 2, 2], 34: [3, 4, 6, 3] };
