export { Module, Layer, StateDictError, buildModule, type StateDict } from './module.js';
export * from './layers.js';
export { Sequential } from './sequential.js';
export { useSyncBatchNorm } from './sync.js';
export * as init from './init.js';
