// Linear probe on frozen features (PAPERS.md "Downstream protocols"): multinomial logistic regression
// trained on the clips of the training samples; clip@1 scores every test clip on its own, video@1 averages
// the softmax predictions of a sample's clips. The weight decay is chosen on a validation split of the
// training samples (whole recording groups, seeded), then the probe is refitted on all training samples.
// The features are frozen inputs here: the encoder was run in eval mode by the feature extractor.
// Two recipes: 'fixed' (this file's full-batch logistic regression on standardised features) and 'reference'
// (bn-linear-probe.ts: the reference's BatchNorm1d → Linear with its Adam / multistep schedule in mini-batches,
// optionally on a fresh augmented draw of the training clips per epoch).
import * as T from '../tensor/index.js';
import { trainBnLinearProbe, REFERENCE_BN_PROBE_SCHEDULE, type BnProbeSchedule, type TrainingDraw } from './bn-linear-probe.js';
import { Adam } from '../optim/index.js';
import { groupKFold, kFoldSplits } from './folds.js';
import { fitStandardizer, applyStandardizer, type FeatureMatrix } from './svm.js';
import type { ClipFeatures, ProtocolSample } from './svm-protocol.js';

/** 'fixed': full-batch logistic regression on standardised fixed features; 'reference': BN → linear, the reference's schedule. */
export type ProbeRecipe = 'fixed' | 'reference';
export const PROBE_RECIPES: readonly ProbeRecipe[] = ['fixed', 'reference'];

export interface ProbeOptions {
  /** Which trainer (default 'fixed'). */
  recipe?: ProbeRecipe;
  /**
   * Candidate weight decays (default: fixed 0, 1e-4, 1e-3, 1e-2; reference 0). With one value the fixed recipe
   * does no validation; the reference recipe always fits once on the validation split to report its clip@1.
   */
  weightDecays?: number[];
  /** Reference recipe: epochs (default 12). */
  epochs?: number;
  /** Reference recipe: epochs at which the lr drops ×0.1 (default: half and three quarters of the epochs, [6, 9] for 12). */
  milestones?: number[];
  /**
   * Reference recipe: training features per epoch (epoch e uses draw e mod count), each with one or more rows per
   * training sample, e.g. a fresh augmented clip of every video; the scored clips stay `clips`. Default: one
   * draw, the training samples' rows of `clips`.
   */
  trainingDraws?: ClipFeatures[];
  /** Share of the training samples held out to choose the weight decay (default 0.2). */
  validationShare?: number;
  /** Fixed recipe: optimisation steps (default 300). */
  steps?: number;
  /** Clips per step; 0 = full batch (default: fixed 0, reference 64 with the incomplete last batch dropped). */
  batchSize?: number;
  /** Adam learning rate (default: fixed 0.01, reference 1e-4). */
  lr?: number;
  /** Seed of the initialisation, the mini-batches and the validation split (default 0). */
  seed?: number;
  /** Standardise features with training statistics (default: fixed true, reference false: its batch norm does it). */
  standardize?: boolean;
}

export interface ProbeFit {
  /** Each test clip on its own. */
  clipAccuracy: number;
  /** Softmax predictions averaged over each test sample's clips. */
  videoAccuracy: number;
  /**
   * Video-level confusion counts on the test samples: row = true class, column = predicted class (numClasses ×
   * numClasses). Its diagonal over its total is videoAccuracy; kept so a report can show which classes fail.
   */
  videoConfusion: number[][];
  chosenWeightDecay: number;
  /** Validation clip@1 per candidate weight decay (empty with a single candidate in the fixed recipe). */
  validation: { weightDecay: number; clipAccuracy: number; videoAccuracy: number }[];
  /** Mean cross-entropy of the final fit over its training clips, at the last step. */
  finalTrainLoss: number;
}

function clipRows(clips: ClipFeatures, numSamples: number): number[][] {
  if (clips.sampleOfClip.length !== clips.features.rows) {
    throw new Error(`linear probe: ${clips.features.rows} feature rows but ${clips.sampleOfClip.length} clip→sample entries`);
  }
  const out: number[][] = Array.from({ length: numSamples }, () => []);
  for (let c = 0; c < clips.sampleOfClip.length; c++) {
    const s = clips.sampleOfClip[c];
    if (!Number.isInteger(s) || s < 0 || s >= numSamples) throw new Error(`linear probe: clip ${c} points to sample ${s}, outside 0..${numSamples - 1}`);
    out[s].push(c);
  }
  return out;
}

/** Trains W (K×d), b (K) by Adam on softmax cross-entropy; returns them (caller disposes) and the last loss. */
function trainSoftmax(
  X: FeatureMatrix,
  labels: number[],
  numClasses: number,
  weightDecay: number,
  o: Required<Pick<ProbeOptions, 'steps' | 'batchSize' | 'lr' | 'seed'>>,
): { weight: T.Tensor; bias: T.Tensor; loss: number } {
  const generator = new T.Generator(o.seed);
  const x = T.tensor(X.data as Float32Array, [X.rows, X.cols]);
  const y = T.tensor(Int32Array.from(labels), [labels.length], 'int64');
  // PyTorch's nn.Linear initialisation scale; zeros would do too (the problem is convex), this avoids ties.
  const bound = 1 / Math.sqrt(X.cols);
  const weight = T.keep(T.tidy(() => T.rand([numClasses, X.cols], { generator }).mul(2 * bound).sub(bound))).requiresGrad_(true);
  const bias = T.keep(T.zeros([numClasses])).requiresGrad_(true);
  const optimizer = new Adam(
    [
      { params: [weight], hyper: { weightDecay } },
      { params: [bias], hyper: { weightDecay: 0 } },
    ],
    { lr: o.lr },
  );
  let loss = NaN;
  try {
    const n = X.rows;
    const batch = o.batchSize > 0 && o.batchSize < n ? o.batchSize : n;
    let order: T.Tensor | null = null;
    let position = n;
    for (let step = 0; step < o.steps; step++) {
      T.tidy(() => {
        let xb = x;
        let yb = y;
        if (batch < n) {
          if (position + batch > n) {
            order?.dispose();
            order = T.keep(T.randperm(n, { generator }));
            position = 0;
          }
          const index = order!.narrow(0, position, batch);
          position += batch;
          xb = x.indexSelect(0, index);
          yb = y.indexSelect(0, index);
        }
        const l = T.functional.crossEntropy(T.functional.linear(xb, weight, bias), yb);
        l.backward();
        if (step === o.steps - 1 && batch === n) loss = l.item();
      });
      optimizer.update();
      optimizer.zeroGrad();
    }
    (order as T.Tensor | null)?.dispose();
    if (batch < n) loss = T.noGrad(() => T.tidy(() => T.functional.crossEntropy(T.functional.linear(x, weight, bias), y).item()));
    for (const p of [weight, bias]) {
      p.setGrad(null);
      p.requiresGrad_(false);
    }
    return { weight, bias, loss };
  } catch (error) {
    weight.dispose();
    bias.dispose();
    throw error;
  } finally {
    optimizer.dispose();
    x.dispose();
    y.dispose();
  }
}

/** Clip@1 and video@1 from softmax probabilities (rows × K) of the clips of `scored` samples, in that order. */
function scoreProbabilities(p: Float32Array, K: number, scored: number[], rowsOf: number[][], samples: ProtocolSample[]) {
  let row = 0;
  let clipCorrect = 0;
  let videoCorrect = 0;
  const confusion = Array.from({ length: K }, () => new Array<number>(K).fill(0));
  const mean = new Float64Array(K);
  for (const s of scored) {
    mean.fill(0);
    for (let k = 0; k < rowsOf[s].length; k++, row++) {
      let best = 0;
      for (let c = 0; c < K; c++) {
        mean[c] += p[row * K + c];
        if (p[row * K + c] > p[row * K + best]) best = c;
      }
      if (best === samples[s].label) clipCorrect++;
    }
    let best = 0;
    for (let c = 1; c < K; c++) if (mean[c] > mean[best]) best = c;
    if (best === samples[s].label) videoCorrect++;
    confusion[samples[s].label][best]++;
  }
  return { clipAccuracy: clipCorrect / row, videoAccuracy: videoCorrect / scored.length, videoConfusion: confusion };
}

/** Softmax probabilities of a logistic-regression probe (W, b) on the rows of X. */
function softmaxProbabilities(weight: T.Tensor, bias: T.Tensor, X: FeatureMatrix): Float32Array {
  return T.noGrad(() => T.tidy(() => T.functional.softmax(T.functional.linear(T.tensor(X.data as Float32Array, [X.rows, X.cols]), weight, bias), 1).toFloat32Array()));
}

/** The reference recipe's schedule from the options; bad values are errors naming the option. */
function referenceSchedule(options: ProbeOptions, weightDecay: number, seed: number): BnProbeSchedule {
  const epochs = options.epochs ?? REFERENCE_BN_PROBE_SCHEDULE.epochs;
  // The reference's milestones [6, 9] of 12 epochs, kept at the same fractions when the epochs change.
  const milestones = options.milestones ?? [...new Set([Math.round(epochs / 2), Math.round((3 * epochs) / 4)])].filter((m) => m >= 1 && m < epochs);
  return {
    epochs,
    milestones,
    gamma: REFERENCE_BN_PROBE_SCHEDULE.gamma,
    lr: options.lr ?? REFERENCE_BN_PROBE_SCHEDULE.lr,
    batchSize: options.batchSize ?? REFERENCE_BN_PROBE_SCHEDULE.batchSize,
    weightDecay,
    seed,
  };
}

/** Trains a linear probe on the clips of `trainSamples` and scores the clips of `testSamples`. */
export function linearProbe(
  samples: ProtocolSample[],
  clips: ClipFeatures,
  trainSamples: number[],
  testSamples: number[],
  numClasses: number,
  options: ProbeOptions = {},
): ProbeFit {
  const recipe = options.recipe ?? 'fixed';
  if (!PROBE_RECIPES.includes(recipe)) throw new Error(`linear probe: recipe must be one of ${PROBE_RECIPES.join(', ')}, got '${recipe}'`);
  const reference = recipe === 'reference';
  if (reference && options.steps !== undefined) throw new Error('linear probe: steps applies to the fixed recipe; the reference recipe counts epochs (epochs, milestones)');
  if (!reference) {
    for (const key of ['epochs', 'milestones', 'trainingDraws'] as const) {
      if (options[key] !== undefined) throw new Error(`linear probe: ${key} applies to the reference recipe, not '${recipe}'`);
    }
  }
  const weightDecays = options.weightDecays ?? (reference ? [REFERENCE_BN_PROBE_SCHEDULE.weightDecay] : [0, 1e-4, 1e-3, 1e-2]);
  if (weightDecays.length === 0 || weightDecays.some((w) => !(w >= 0))) throw new Error(`linear probe: weightDecays must list values ≥ 0, got [${weightDecays.join(', ')}]`);
  const validationShare = options.validationShare ?? 0.2;
  if (!(validationShare > 0 && validationShare < 1)) throw new Error(`linear probe: validationShare must be in (0, 1), got ${validationShare}`);
  const train = {
    steps: options.steps ?? 300,
    batchSize: options.batchSize ?? 0,
    lr: options.lr ?? 0.01,
    seed: options.seed ?? 0,
  };
  const standardize = options.standardize ?? !reference;
  const rowsOf = clipRows(clips, samples.length);
  for (const s of [...trainSamples, ...testSamples]) {
    if (!samples[s]) throw new Error(`linear probe: sample index ${s} is outside 0..${samples.length - 1}`);
    if (!Number.isInteger(samples[s].label) || samples[s].label < 0 || samples[s].label >= numClasses) {
      throw new Error(`linear probe: sample ${s} has label ${samples[s].label}, outside 0..${numClasses - 1}`);
    }
    if (rowsOf[s].length === 0) throw new Error(`linear probe: sample ${s} has no clips`);
  }
  const testSet = new Set(testSamples);
  const overlap = trainSamples.find((s) => testSet.has(s));
  if (overlap !== undefined) throw new Error(`linear probe: sample ${overlap} is in both the training and the test set`);
  // Each training draw: its rows per sample, and every training sample present (an epoch sees every video).
  const draws = (options.trainingDraws ?? [clips]).map((draw, d) => {
    if (draw.features.cols !== clips.features.cols) throw new Error(`linear probe: training draw ${d} has ${draw.features.cols} features, the scored clips ${clips.features.cols}`);
    const rows = clipRows(draw, samples.length);
    const missing = trainSamples.find((s) => rows[s].length === 0);
    if (missing !== undefined) throw new Error(`linear probe: training draw ${d} has no clip of training sample ${missing}`);
    return { features: draw.features, sampleOfClip: draw.sampleOfClip, rows };
  });

  const fitScore = (trainIdx: number[], scored: number[], weightDecay: number) => {
    const scoredRows = scored.flatMap((s) => rowsOf[s]);
    const trainRowsOf = (draw: (typeof draws)[number]) => trainIdx.flatMap((s) => draw.rows[s]);
    const d = clips.features.cols;
    // Standardising statistics come from the first draw's training rows (the fixed recipe has only that one).
    const stats = standardize ? fitStandardizer(draws[0].features, trainRowsOf(draws[0])) : { mean: new Float64Array(d), scale: new Float64Array(d).fill(1) };
    const Xscored = applyStandardizer(stats, clips.features, scoredRows);
    let probabilities: Float32Array;
    let loss: number;
    if (reference) {
      const trainingDraws: TrainingDraw[] = draws.map((draw) => {
        const rows = trainRowsOf(draw);
        return { features: applyStandardizer(stats, draw.features, rows), labels: rows.map((r) => samples[draw.sampleOfClip[r]].label) };
      });
      const fit = trainBnLinearProbe(trainingDraws, numClasses, referenceSchedule(options, weightDecay, train.seed));
      try {
        probabilities = fit.probe.predict(Xscored);
      } finally {
        fit.probe.dispose();
      }
      loss = fit.finalTrainLoss;
    } else {
      const trainRows = trainRowsOf(draws[0]);
      const fit = trainSoftmax(applyStandardizer(stats, clips.features, trainRows), trainRows.map((c) => samples[clips.sampleOfClip[c]].label), numClasses, weightDecay, train);
      try {
        probabilities = softmaxProbabilities(fit.weight, fit.bias, Xscored);
      } finally {
        fit.weight.dispose();
        fit.bias.dispose();
      }
      loss = fit.loss;
    }
    return { ...scoreProbabilities(probabilities, numClasses, scored, rowsOf, samples), loss };
  };

  let chosenWeightDecay = weightDecays[0];
  const validation: ProbeFit['validation'] = [];
  if (weightDecays.length > 1 || reference) {
    const parts = Math.max(2, Math.round(1 / validationShare));
    const [held] = groupKFold(samples, trainSamples, parts, train.seed);
    for (const weightDecay of weightDecays) {
      const r = fitScore(held.train, held.test, weightDecay);
      validation.push({ weightDecay, clipAccuracy: r.clipAccuracy, videoAccuracy: r.videoAccuracy });
    }
    // Best validation clip@1; ties go to the larger weight decay (the simpler model).
    let best = 0;
    for (let k = 1; k < validation.length; k++) {
      const [a, b] = [validation[k], validation[best]];
      if (a.clipAccuracy > b.clipAccuracy || (a.clipAccuracy === b.clipAccuracy && a.weightDecay > b.weightDecay)) best = k;
    }
    chosenWeightDecay = validation[best].weightDecay;
  }
  const final = fitScore(trainSamples, testSamples, chosenWeightDecay);
  return { clipAccuracy: final.clipAccuracy, videoAccuracy: final.videoAccuracy, videoConfusion: final.videoConfusion, chosenWeightDecay, validation, finalTrainLoss: final.loss };
}

export interface ProbeFoldResult extends ProbeFit {
  fold: number;
  trainSamples: number;
  testSamples: number;
  seconds: number;
}

/** The linear probe over the folds of the labels (each fold held out in turn, or only `testFolds`). */
export function linearProbeFolds(
  samples: ProtocolSample[],
  clips: ClipFeatures,
  numClasses: number,
  options: ProbeOptions & { testFolds?: number[]; log?: (line: string) => void } = {},
): { folds: ProbeFoldResult[]; meanClipAccuracy: number; meanVideoAccuracy: number } {
  const folds = kFoldSplits(samples, options.testFolds).map((split) => {
    const started = performance.now();
    const fit = linearProbe(samples, clips, split.train, split.test, numClasses, options);
    const r = { fold: split.heldOutFold, trainSamples: split.train.length, testSamples: split.test.length, ...fit, seconds: (performance.now() - started) / 1000 };
    options.log?.(
      `fold ${r.fold}: clip@1 ${(100 * r.clipAccuracy).toFixed(1)}%, video@1 ${(100 * r.videoAccuracy).toFixed(1)}%, weight decay ${r.chosenWeightDecay}, ${r.seconds.toFixed(1)} s`,
    );
    return r;
  });
  const mean = (f: (r: ProbeFoldResult) => number) => folds.reduce((a, r) => a + f(r), 0) / folds.length;
  return { folds, meanClipAccuracy: mean((r) => r.clipAccuracy), meanVideoAccuracy: mean((r) => r.videoAccuracy) };
}
