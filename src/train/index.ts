export { Trainer, NonFiniteLossError, type TrainerOptions, type TrainResult, type Distributed } from './trainer.js';
export { pretrain, loadTrainingManifest, type PretrainOptions } from './pretrain.js';
export { MediaBatchSource, createTrainingSource } from './media-batch-source.js';
export type { BatchSource, TrainBatch } from './batch-source.js';
export { modelFromConfig, objectiveFromConfig, optimizerFromConfig, scheduleFromConfig } from './from-config.js';
export { joinFromEnvironment, type DataParallel } from './data-parallel.js';
export { Progress } from './progress.js';
