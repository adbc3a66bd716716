export { Tensor, type TensorLike } from './tensor.js';
export * from './creation.js';
export * from './dtype.js';
export { tidy, keep } from './scope.js';
export { noGrad, enableGrad, isGradEnabled } from './autograd.js';
export { Generator, manualSeed, getDefaultGeneratorState, setDefaultGeneratorState } from './random.js';
export { setNumThreads, getNumThreads, setCallerThreads, memory, cudaIsAvailable, setDeterministic, torchVersion } from './runtime.js';
export * as functional from './functional.js';
