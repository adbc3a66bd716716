export * from './probe.js';
export * from './decode.js';
export * from './video-tensor.js';
export { writePngFrames } from './write-frames.js';
