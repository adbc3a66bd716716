// The 2-D audio network of the AVID/CMA reference: conv1 7×7/2, then four blocks of two 3×3 convs (no
// residual), strides 2, 2, 2, 1, then a global max-pool. Input: log spectrogram (N, 1, time, frequency).
import { Tensor, tidy, functional as F } from '../tensor/index.js';
import { Module, Layer, Sequential, Conv2d, BatchNorm2d, ReLU } from '../nn/index.js';

export class AudioConvBlock extends Layer {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  constructor(inChannels: number, outChannels: number, stride: number) {
    super();
    this.conv1 = this.registerModule('conv1', new Conv2d(inChannels, outChannels, 3, { stride, padding: 1, bias: false }));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(outChannels));
    this.conv2 = this.registerModule('conv2', new Conv2d(outChannels, outChannels, 3, { padding: 1, bias: false }));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(outChannels));
  }
  forward(x: Tensor): Tensor {
    return tidy(() => {
      const h = this.bn1.forward(this.conv1.forward(x)).relu_();
      return this.bn2.forward(this.conv2.forward(h)).relu_();
    });
  }
}

/** Block outputs are named as the video network's stages, so probes address both alike. */
export const AUDIO_BLOCKS = ['conv1', 'conv2x', 'conv3x', 'conv4x', 'conv5x', 'pool'] as const;
export type AudioBlockName = (typeof AUDIO_BLOCKS)[number];

export interface AudioConv2dOptions {
  width?: number;
}

export class AudioConv2d extends Module {
  readonly conv1: Sequential;
  readonly blocks: AudioConvBlock[];
  readonly outChannels: number;

  constructor(o: AudioConv2dOptions = {}) {
    super();
    const width = o.width ?? 1;
    const channels = [64, 64, 128, 256, 512].map((c) => Math.max(1, Math.round(c * width)));
    this.conv1 = this.registerModule('conv1', new Sequential(new Conv2d(1, channels[0], 7, { stride: 2, padding: 3, bias: false }), new BatchNorm2d(channels[0]), new ReLU()));
    const strides = [2, 2, 2, 1];
    this.blocks = strides.map((stride, i) => this.registerModule(`block${i + 1}`, new AudioConvBlock(channels[i], channels[i + 1], stride)));
    this.outChannels = channels[4];
  }

  forwardBlocks(x: Tensor): Record<AudioBlockName, Tensor> {
    return tidy(() => {
      const out = { conv1: this.conv1.forward(x) } as Record<AudioBlockName, Tensor>;
      let h = out.conv1;
      this.blocks.forEach((block, i) => {
        h = block.forward(h);
        out[`conv${i + 2}x` as AudioBlockName] = h;
      });
      out.pool = F.adaptiveMaxPool2d(h, 1);
      return out;
    });
  }

  forward(x: Tensor): Tensor {
    return tidy(() => {
      let h = this.conv1.forward(x);
      for (const block of this.blocks) h = block.forward(h);
      return F.adaptiveMaxPool2d(h, 1).flatten(1);
    });
  }
}
