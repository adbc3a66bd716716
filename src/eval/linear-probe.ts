// Linear probe on frozen features (PAPERS.md "Downstream protocols"): multinomial logistic regression
// trained on the clips of the training samples; clip@1 scores every test clip on its own, video@1 averages
// the softmax predictions of a sample's clips. The weight decay is chosen on a validation split of the
// training samples (whole recording groups, seeded), then the probe is refitted on all training samples.
// The features are frozen inputs here: the encoder was run in eval mode by the feature extractor.
import * as T from '../tensor/index.js';
import { Adam } from '../optim/index.js';
import { groupKFold, kFoldSplits } from './folds.js';
import { fitStandardizer, applyStandardizer, type FeatureMatrix } from './svm.js';
import type { ClipFeatures, ProtocolSample } from './svm-protocol.js';

export interface ProbeOptions {
  /** Candidate weight decays (L2 on the weights, not the bias; default 0, 1e-4, 1e-3, 1e-2). One value: no validation. */
  weightDecays?: number[];
  /** Share of the training samples held out to choose the weight decay (default 0.2). */
  validationShare?: number;
  /** Optimisation steps (default 300). */
  steps?: number;
  /** Clips per step; 0 = full batch (default 0). */
  batchSize?: number;
  /** Adam learning rate (default 0.01). */
  lr?: number;
  /** Seed of the initialisation, the mini-batches and the validation split (default 0). */
  seed?: number;
  /** Standardise features with training statistics (default true). */
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
  /** Validation clip@1 per candidate weight decay (empty with a single candidate). */
  validation: { weightDecay: number; clipAccuracy: number; videoAccuracy: number }[];
  /** Mean cross-entropy of the final fit over its training clips, at the last step. */
  finalTrainLoss: number;
}

interface Split {
  trainRows: number[];
  trainLabels: number[];
  scored: number[];
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
  o: Required<Omit<ProbeOptions, 'weightDecays' | 'validationShare' | 'standardize'>>,
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

/** Clip@1 and video@1 of a trained probe on the clips of `scored` samples (rows of X in that order). */
function score(weight: T.Tensor, bias: T.Tensor, X: FeatureMatrix, scored: number[], rowsOf: number[][], samples: ProtocolSample[]) {
  return T.noGrad(() =>
    T.tidy(() => {
      const probabilities = T.functional.softmax(T.functional.linear(T.tensor(X.data as Float32Array, [X.rows, X.cols]), weight, bias), 1);
      const K = weight.shape[0];
      const p = probabilities.toFloat32Array();
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
    }),
  );
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
  const weightDecays = options.weightDecays ?? [0, 1e-4, 1e-3, 1e-2];
  if (weightDecays.length === 0 || weightDecays.some((w) => !(w >= 0))) throw new Error(`linear probe: weightDecays must list values ≥ 0, got [${weightDecays.join(', ')}]`);
  const validationShare = options.validationShare ?? 0.2;
  if (!(validationShare > 0 && validationShare < 1)) throw new Error(`linear probe: validationShare must be in (0, 1), got ${validationShare}`);
  const train = {
    steps: options.steps ?? 300,
    batchSize: options.batchSize ?? 0,
    lr: options.lr ?? 0.01,
    seed: options.seed ?? 0,
  };
  const standardize = options.standardize ?? true;
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

  const prepare = (split: Split) => {
    const scoredRows = split.scored.flatMap((s) => rowsOf[s]);
    const d = clips.features.cols;
    const stats = standardize
      ? fitStandardizer(clips.features, split.trainRows)
      : { mean: new Float64Array(d), scale: new Float64Array(d).fill(1) };
    return { Xtrain: applyStandardizer(stats, clips.features, split.trainRows), Xscored: applyStandardizer(stats, clips.features, scoredRows) };
  };
  const splitOf = (trainIdx: number[], scored: number[]): Split => {
    const trainRows = trainIdx.flatMap((s) => rowsOf[s]);
    return { trainRows, trainLabels: trainRows.map((c) => samples[clips.sampleOfClip[c]].label), scored };
  };
  const fitScore = (split: Split, weightDecay: number) => {
    const { Xtrain, Xscored } = prepare(split);
    const fit = trainSoftmax(Xtrain, split.trainLabels, numClasses, weightDecay, train);
    try {
      return { ...score(fit.weight, fit.bias, Xscored, split.scored, rowsOf, samples), loss: fit.loss };
    } finally {
      fit.weight.dispose();
      fit.bias.dispose();
    }
  };

  let chosenWeightDecay = weightDecays[0];
  const validation: ProbeFit['validation'] = [];
  if (weightDecays.length > 1) {
    const parts = Math.max(2, Math.round(1 / validationShare));
    const [held] = groupKFold(samples, trainSamples, parts, train.seed);
    const split = splitOf(held.train, held.test);
    for (const weightDecay of weightDecays) {
      const r = fitScore(split, weightDecay);
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
  const final = fitScore(splitOf(trainSamples, testSamples), chosenWeightDecay);
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
