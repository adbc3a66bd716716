export { MemoryBank, meanRandomPairSimilarity } from './memory-bank.js';
export { NCENormaliser, nceLoss } from './nce.js';
export { sampleNegatives, sampleOutside, shardedDraw, type Shard } from './negatives.js';
export { AvidObjective, type AvidOptions, type AvidVariant } from './avid.js';
export { CmaObjective, type CmaOptions } from './cma.js';
export { minePositives, blockScores, positivePrecision, type AgreementKind, type MineOptions, type MiningSplit, type ScoreNormalisation } from './cma-mining.js';
export { AvtsObjective, avtsLoss, syncPairAccuracy, hardShareAt, type AvtsOptions } from './avts.js';
export type { Objective, ObjectiveOutput, ObjectiveState, EmbeddedBatch, StepContext } from './objective.js';
export * from './cma-measures.js';
