// Builds a run's parts (model, objective, optimizer, schedule) from a validated config.
import type { PretrainConfig } from '../config/schema.js';
import { Tensor } from '../tensor/index.js';
import { createModel, type AVModel } from '../models/index.js';
import { Adam, AdamW, SGD, schedules, type Optimizer } from '../optim/index.js';
import type { Schedule } from '../optim/schedules.js';
import { AvidObjective } from '../ssl/avid.js';
import { CmaObjective } from '../ssl/cma.js';
import type { Objective } from '../ssl/objective.js';
import { AvtsObjective } from '../ssl/avts.js';
import { InBatchObjective } from '../ssl/in-batch-nce.js';
import type { MiningSplit } from '../ssl/cma-mining.js';
import type { Device } from '../tensor/index.js';
import { resolveDevice } from './device-transfer.js';
import { checkPrecision, type Precision } from './mixed-precision.js';

export function modelFromConfig(config: PretrainConfig): AVModel {
  const m = config.model;
  return createModel(m.name, { width: m.width, audioWidth: m.audioWidth, embeddingDim: m.embeddingDim });
}

/** `miningSplit` (data-parallel runs) shares CMA mining out over the ranks. */
export function objectiveFromConfig(config: PretrainConfig, numInstances: number, onMineProgress?: (done: number, total: number) => void, miningSplit?: MiningSplit): Objective {
  const o = config.objective;
  const common = { numInstances, dim: config.model.embeddingDim, tau: o.tau, negatives: o.negatives, memoryMomentum: o.memoryMomentum, crossWeight: o.crossWeight, selfWeight: o.selfWeight, sharedNormaliser: o.sharedNormaliser, normaliserEstimate: o.normaliserEstimate, seed: config.seed };
  switch (o.kind) {
    case 'avid':
      return new AvidObjective({ ...common, variant: o.variant });
    case 'cma':
      return new CmaObjective({
        ...common,
        positives: o.cma.positives,
        candidates: o.cma.candidates,
        wmpdNegatives: o.cma.negatives,
        lambda: o.cma.lambda,
        agreement: o.cma.agreement,
        remineEveryEpochs: o.cma.remineEveryEpochs,
        blockSize: o.cma.blockSize,
        onMineProgress,
        miningSplit,
      });
    case 'in-batch':
      return new InBatchObjective({ tau: o.tau, learnTemperature: o.inBatch.learnTemperature, bankNegatives: o.inBatch.bankNegatives, numInstances, dim: config.model.embeddingDim, memoryMomentum: o.memoryMomentum, seed: config.seed });
    case 'avts':
      return new AvtsObjective({ margin: o.avts.margin, hardNegativeShare: o.avts.hardNegativeShare, curriculumEpochs: o.avts.curriculumEpochs });
  }
}

/**
 * `objectiveParams` (a learned temperature) form a second group without weight decay: decay would pull
 * log τ towards 0 (τ = 1), which is no regulariser of the representation.
 */
export function optimizerFromConfig(config: PretrainConfig, params: Tensor[], objectiveParams: Tensor[] = []): Optimizer<object> {
  const o = config.optim;
  const groups = [{ params }, ...(objectiveParams.length > 0 ? [{ params: objectiveParams, hyper: { weightDecay: 0 } }] : [])];
  switch (o.name) {
    case 'adam':
      return new Adam(groups, { lr: o.lr, weightDecay: o.weightDecay, betas: o.betas });
    case 'adamw':
      return new AdamW(groups, { lr: o.lr, weightDecay: o.weightDecay, betas: o.betas });
    case 'sgd':
      return new SGD(groups, { lr: o.lr, momentum: o.momentum, weightDecay: o.weightDecay });
  }
}

/** The learning-rate factor as a function of the fractional epoch. */
export function scheduleFromConfig(config: PretrainConfig): Schedule {
  const s = config.optim.schedule;
  const total = config.train.epochs;
  const w = s.warmupEpochs;
  // linearWarmup hands `after` the epochs since the warm-up ended: cosine decays over what is left, while
  // multistep milestones stay absolute epochs.
  const after: Schedule =
    s.kind === 'multistep' ? (e) => schedules.multistep(s.milestones, s.gamma)(e + w) : s.kind === 'cosine' ? schedules.cosine(total - w, s.minFactor) : schedules.constant;
  return w > 0 ? schedules.linearWarmup(w, s.warmupStartFactor, after) : after;
}

/**
 * The run's device and precision from train.device and train.precision, checked against this build and
 * machine (a CUDA device on a CPU-only build fails here, before any work). `localRank` picks the GPU for a
 * plain 'cuda' in a data-parallel run.
 */
export function deviceFromConfig(config: PretrainConfig, localRank = 0): { device: Device; precision: Precision } {
  const device = resolveDevice(config.train.device, { localRank, what: 'train.device' });
  return { device, precision: checkPrecision(config.train.precision, device, 'train.precision') };
}
