export * from './manifest.js';
export * from './labels.js';
export { hash32, mulberry32, Rng, rngFor } from './rng.js';
export * from './dataset.js';
export * from './loader.js';
export * from './sampler.js';
