// Named model factories: createModel('av-r2plus1d-18', { width: 0.25 }).
import { Module, buildModule } from '../nn/index.js';
import { R2Plus1D, R2PLUS1D_LAYERS } from './r2plus1d.js';
import { AudioConv2d } from './audio-conv2d.js';
import { AVModel } from './av-model.js';

export interface ModelOptions {
  /** Channel multiplier of the encoders (1 = the papers' widths). */
  width?: number;
  /** Separate multiplier for the audio encoder (defaults to width). */
  audioWidth?: number;
  /** Embedding size of the projection heads (128 in the papers). */
  embeddingDim?: number;
}

const factories = {
  'r2plus1d-10': (o: ModelOptions) => new R2Plus1D({ layers: R2PLUS1D_LAYERS[10], width: o.width }),
  'r2plus1d-18': (o: ModelOptions) => new R2Plus1D({ layers: R2PLUS1D_LAYERS[18], width: o.width }),
  'r2plus1d-34': (o: ModelOptions) => new R2Plus1D({ layers: R2PLUS1D_LAYERS[34], width: o.width }),
  'audio-conv2d': (o: ModelOptions) => new AudioConv2d({ width: o.audioWidth ?? o.width }),
  'av-r2plus1d-10': (o: ModelOptions) => avModel(10, o),
  'av-r2plus1d-18': (o: ModelOptions) => avModel(18, o),
  'av-r2plus1d-34': (o: ModelOptions) => avModel(34, o),
} satisfies Record<string, (o: ModelOptions) => Module>;

export type ModelName = keyof typeof factories;
export const MODEL_NAMES = Object.keys(factories) as ModelName[];

function avModel(depth: number, o: ModelOptions): AVModel {
  const video = new R2Plus1D({ layers: R2PLUS1D_LAYERS[depth], width: o.width });
  const audio = new AudioConv2d({ width: o.audioWidth ?? o.width });
  return new AVModel(video, audio, o.embeddingDim ?? 128);
}

export function createModel<N extends ModelName>(name: N, options: ModelOptions = {}): ReturnType<(typeof factories)[N]> {
  const factory = factories[name];
  if (!factory) throw new Error(`unknown model '${name}' (allowed: ${MODEL_NAMES.join(', ')})`);
  return buildModule(() => factory(options)) as ReturnType<(typeof factories)[N]>;
}

export function isAVModelName(name: string): name is 'av-r2plus1d-10' | 'av-r2plus1d-18' | 'av-r2plus1d-34' {
  return name.startsWith('av-');
}
