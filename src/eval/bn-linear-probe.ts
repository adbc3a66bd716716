// The reference's linear-evaluation head and schedule, on frozen features: BatchNorm1d(feat_dim) → Linear.
// Followed (not copied) from AVID-CMA: utils/eval_utils.py (`Classifier` with use_bn: batch norm, affine, before
// the linear layer; `MOSTModel` keeps the encoder frozen), eval-action-recg-linear.py and
// configs/benchmark/kinetics/8x224x224-linear.yaml: Adam, base lr 1e-4, weight decay 0, 12 epochs, multistep
// lr ×0.1 at epochs 6 and 9, batch 64 with drop_last and shuffle, and a fresh clip of every training video per
// epoch (clips_per_video: 1). Batch norm normalises with the batch's statistics while training and with its
// running statistics (momentum 0.1, as PyTorch) at test, so a test clip's prediction never depends on the
// other clips scored with it.
import * as T from '../tensor/index.js';
import { BatchNorm, Linear } from '../nn/layers.js';
import { Adam } from '../optim/index.js';
import { multistep } from '../optim/schedules.js';
import type { FeatureMatrix } from './svm.js';

export interface BnProbeSchedule {
  /** Passes over the training draws (the reference: 12). */
  epochs: number;
  /** Epochs at which the learning rate is multiplied by `gamma` (the reference: 6 and 9). */
  milestones: number[];
  gamma: number;
  /** Adam's base learning rate (the reference: 1e-4). */
  lr: number;
  /** Clips per step; an incomplete last batch is dropped (the reference: 64, drop_last). */
  batchSize: number;
  /** Adam's L2 weight decay on every parameter, as torch.optim.Adam (the reference: 0). */
  weightDecay: number;
  /** Seed of the linear layer's initialisation and of the shuffles. */
  seed: number;
}

/** The literal schedule of configs/benchmark/kinetics/8x224x224-linear.yaml (the seed is the caller's). */
export const REFERENCE_BN_PROBE_SCHEDULE: Omit<BnProbeSchedule, 'seed'> = { epochs: 12, milestones: [6, 9], gamma: 0.1, lr: 1e-4, batchSize: 64, weightDecay: 0 };

/** One epoch's training rows: one feature row per clip and its class. */
export interface TrainingDraw {
  features: FeatureMatrix;
  labels: number[];
}

/** A trained BN + linear head. Call dispose() when done. */
export interface BnLinearProbe {
  /** Softmax probabilities (rows × classes), batch norm with its running statistics. */
  predict(features: FeatureMatrix): Float32Array;
  dispose(): void;
}

export interface BnProbeTraining {
  probe: BnLinearProbe;
  /** The learning rate in force during each epoch. */
  lrByEpoch: number[];
  /** Mean L2 norm of the linear weight's change per optimisation step, per epoch (what the lr scales). */
  updateNormByEpoch: number[];
  /** Optimisation steps taken (epochs × ⌊rows / batch⌋). */
  steps: number;
  /** Mean cross-entropy over the last epoch's batches (batch-norm in training mode). */
  finalTrainLoss: number;
}

/** Checks a schedule; the messages name the option and what was wrong. */
export function checkBnProbeSchedule(s: BnProbeSchedule): void {
  if (!(Number.isInteger(s.epochs) && s.epochs >= 1)) throw new Error(`probe schedule: epochs must be an integer ≥ 1, got ${s.epochs}`);
  if (!(s.lr > 0 && Number.isFinite(s.lr))) throw new Error(`probe schedule: lr must be a finite number > 0, got ${s.lr}`);
  if (!(s.gamma > 0 && s.gamma <= 1)) throw new Error(`probe schedule: gamma must be in (0, 1], got ${s.gamma}`);
  if (!(Number.isInteger(s.batchSize) && s.batchSize >= 2)) throw new Error(`probe schedule: batchSize must be an integer ≥ 2 (batch norm needs two clips per batch), got ${s.batchSize}`);
  if (!(s.weightDecay >= 0 && Number.isFinite(s.weightDecay))) throw new Error(`probe schedule: weightDecay must be ≥ 0, got ${s.weightDecay}`);
  if (!Number.isInteger(s.seed)) throw new Error(`probe schedule: seed must be an integer, got ${s.seed}`);
  s.milestones.forEach((m, i) => {
    if (!(Number.isInteger(m) && m >= 1 && m < s.epochs)) throw new Error(`probe schedule: milestone ${m} must be an integer epoch in 1..${s.epochs - 1}`);
    if (i > 0 && m <= s.milestones[i - 1]) throw new Error(`probe schedule: milestones must increase, got [${s.milestones.join(', ')}]`);
  });
}

function checkDraws(draws: TrainingDraw[], numClasses: number): number {
  if (draws.length === 0) throw new Error('probe: no training draws');
  const cols = draws[0].features.cols;
  draws.forEach((d, i) => {
    if (d.features.cols !== cols) throw new Error(`probe: training draw ${i} has ${d.features.cols} features, draw 0 has ${cols}`);
    if (d.labels.length !== d.features.rows) throw new Error(`probe: training draw ${i} has ${d.features.rows} rows but ${d.labels.length} labels`);
    if (d.features.rows < 2) throw new Error(`probe: training draw ${i} has ${d.features.rows} row(s); batch norm needs at least 2`);
    const bad = d.labels.findIndex((l) => !(Number.isInteger(l) && l >= 0 && l < numClasses));
    if (bad >= 0) throw new Error(`probe: training draw ${i}, row ${bad} has label ${d.labels[bad]}, outside 0..${numClasses - 1}`);
  });
  return cols;
}

/**
 * Trains BatchNorm1d → Linear with Adam on softmax cross-entropy. Epoch e trains on draws[e mod draws.length]
 * (a fresh augmented clip of every training video per epoch when the caller has one draw per epoch), shuffled,
 * in batches of min(batchSize, rows) with the incomplete last batch dropped: a training set smaller than the
 * batch still takes one step per epoch instead of none.
 */
export function trainBnLinearProbe(draws: TrainingDraw[], numClasses: number, schedule: BnProbeSchedule): BnProbeTraining {
  checkBnProbeSchedule(schedule);
  if (!(Number.isInteger(numClasses) && numClasses >= 2)) throw new Error(`probe: numClasses must be an integer ≥ 2, got ${numClasses}`);
  const cols = checkDraws(draws, numClasses);
  const generator = new T.Generator(schedule.seed);
  const bn = new BatchNorm(cols);
  const linear = new Linear(cols, numClasses, { generator });
  const params = [...bn.parameters(), ...linear.parameters()];
  const optimizer = new Adam(params, { lr: schedule.lr, weightDecay: schedule.weightDecay });
  const lrScale = multistep(schedule.milestones, schedule.gamma);
  const forward = (x: T.Tensor) => linear.forward(bn.forward(x));
  const lrByEpoch: number[] = [];
  const updateNormByEpoch: number[] = [];
  let steps = 0;
  let finalTrainLoss = NaN;
  const dispose = () => {
    bn.dispose();
    linear.dispose();
  };
  try {
    bn.train();
    for (let epoch = 0; epoch < schedule.epochs; epoch++) {
      optimizer.setLrScale(lrScale(epoch));
      lrByEpoch.push(optimizer.groups[0].lr);
      const draw = draws[epoch % draws.length];
      const n = draw.features.rows;
      const batch = Math.min(schedule.batchSize, n);
      const batches = Math.floor(n / batch);
      const x = T.tensor(draw.features.data as Float32Array, [n, cols]);
      const y = T.tensor(Int32Array.from(draw.labels), [n], 'int64');
      let updateNorm = 0;
      let lossSum = 0;
      try {
        const order = T.randperm(n, { generator });
        try {
          for (let b = 0; b < batches; b++) {
            lossSum += T.tidy(() => {
              const index = order.narrow(0, b * batch, batch);
              const loss = T.functional.crossEntropy(forward(x.indexSelect(0, index)), y.indexSelect(0, index));
              loss.backward();
              return loss.item();
            });
            const previous = T.noGrad(() => T.keep(linear.weight.clone()));
            optimizer.update();
            optimizer.zeroGrad();
            updateNorm += T.noGrad(() => T.tidy(() => linear.weight.sub(previous).norm().item()));
            previous.dispose();
            steps++;
          }
        } finally {
          order.dispose();
        }
      } finally {
        x.dispose();
        y.dispose();
      }
      updateNormByEpoch.push(updateNorm / batches);
      finalTrainLoss = lossSum / batches;
    }
  } catch (error) {
    optimizer.dispose();
    dispose();
    throw error;
  }
  optimizer.dispose();
  for (const p of params) {
    p.setGrad(null);
    p.requiresGrad_(false);
  }
  bn.eval();
  const probe: BnLinearProbe = {
    predict(features) {
      if (features.cols !== cols) throw new Error(`probe: ${features.cols} features to score, the probe was trained on ${cols}`);
      return T.noGrad(() => T.tidy(() => T.functional.softmax(forward(T.tensor(features.data as Float32Array, [features.rows, cols])), 1).toFloat32Array()));
    },
    dispose,
  };
  return { probe, lrByEpoch, updateNormByEpoch, steps, finalTrainLoss };
}
