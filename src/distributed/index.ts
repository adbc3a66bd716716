// Data-parallel training over processes and machines (libtorch's c10d). See environment.ts for the variables
// `avid launch` (or torchrun) sets, process-group.ts for joining, collectives.ts for the exchanges.
export { fromEnvironment, DEFAULT_TIMEOUT_MS, type Backend, type ProcessGroupOptions, type DistEnvironment } from './environment.js';
export {
  initProcessGroup,
  processGroupInfo,
  isInitialized,
  getRank,
  getWorldSize,
  barrier,
  destroy,
  availableBackends,
  type ProcessGroupInfo,
} from './process-group.js';
export {
  allReduce,
  allReduceAsync,
  allReduceGradients,
  allReduceGradientsAsync,
  broadcast,
  broadcastParameters,
  allGatherTensor,
  allReduceWithGrad,
  DEFAULT_BUCKET_BYTES,
  type AllReduceOptions,
  type PendingAllReduce,
  type ParameterSource,
} from './collectives.js';
export { OverlappedGradients, DEFAULT_FIRST_BUCKET_BYTES, type OverlappedGradientsOptions } from './overlapped-gradients.js';
export { syncBatchNorm, type SyncBatchNormOptions } from './sync-batch-norm.js';
export { shardIndices, type ShardOptions } from './shard.js';
export { launch, type LaunchOptions, type LaunchResult, type RankExit } from './launcher.js';
export { freePort } from './free-port.js';
