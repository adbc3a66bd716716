export { Optimizer, type ParamGroup, type OptimizerState } from './optimizer.js';
export { Adam, AdamW, type AdamHyper } from './adam.js';
export { SGD, type SgdHyper } from './sgd.js';
export * as schedules from './schedules.js';
export { clipGradNorm } from './clip.js';
