// The public API: `import * as avid from 'avid'`.
export * from './tensor/index.js';
export * as nn from './nn/index.js';
export * as optim from './optim/index.js';
export * as io from './io/index.js';
export * as models from './models/index.js';
export * as media from './media/index.js';
export * as data from './data/index.js';
export * as synth from './data/synth/index.js';
export * as ssl from './ssl/index.js';
export * as train from './train/index.js';
export * as report from './report/index.js';
export * as distributed from './distributed/index.js';
export * as config from './config/index.js';
export * as analyses from './analyses/index.js';
// `eval` is a reserved name for a binding, not for an export: re-export the namespace under it.
import * as evaluation from './eval/index.js';
export { evaluation, evaluation as eval };
// What the tool writes, loaded for a script: avid.load(run | checkpoint) → a model with its preprocessing.
export { load, type LoadedAVModel, type FileEmbeddings, type EmbedFileOptions } from './eval/load.js';
