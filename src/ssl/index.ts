export { MemoryBank, meanRandomPairSimilarity } from './memory-bank.js';
export { NCENormaliser, nceLoss } from './nce.js';
export { sampleNegatives, sampleOutside, shardedDraw, type Shard } from './negatives.js';
export { AvidObjective, makeNormalisers, combineLogZ, type AvidOptions, type AvidVariant, type NormaliserTerm } from './avid.js';
export { InBatchObjective, gatherWithGrad, MIN_LEARNED_TAU, type InBatchOptions } from './in-batch-nce.js';
export { CmaObjective, type CmaOptions } from './cma.js';
export { minePositives, blockScores, positivePrecision, type AgreementKind, type MineOptions, type MiningSplit, type ScoreNormalisation } from './cma-mining.js';
export { AvtsObjective, avtsLoss, syncPairAccuracy, hardShareAt, type AvtsOptions } from './avts.js';
export type { Objective, ObjectiveOutput, ObjectiveState, EmbeddedBatch, StepContext } from './objective.js';
