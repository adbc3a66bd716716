// The AVTS supplement's analyses: downstream accuracy against pre-training epochs (every kept checkpoint) and
// against the amount of pre-training data (one run per nested fraction), each against a random init.
export * from './protocol.js';
export * from './by-epoch.js';
export * from './data-size.js';
export * from './nested-subsets.js';
export { StageEta } from './stage-eta.js';
