export { R2Plus1D, R2Plus1DBlock, R2PLUS1D_LAYERS, VIDEO_BLOCKS, type VideoBlockName } from './r2plus1d.js';
export { AudioConv2d, AudioConvBlock, AUDIO_BLOCKS, type AudioBlockName } from './audio-conv2d.js';
export { ProjectionHead } from './heads.js';
export { AVModel, type AVEmbeddings } from './av-model.js';
export { createModel, MODEL_NAMES, type ModelName, type ModelOptions } from './registry.js';
export { hashFill, hashFillStateDict } from './hash-fill.js';
export { inferArchitecture, type Architecture, type VideoDepth } from './infer-architecture.js';
