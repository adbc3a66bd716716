// The sound-classification protocol of the papers (ESC-50 / DCASE, PAPERS.md "Downstream protocols"):
// a one-vs-rest linear SVM on per-clip features, cross-validated over the dataset's folds.
// - Training: every clip of every training sample is its own example, labelled with its sample's class.
// - Test: the SVM scores of a sample's clips are averaged, and the sample is assigned the argmax.
// - C is chosen by an inner cross-validation on the training folds only (same clip averaging), then the SVM
//   is refitted on all training folds with that C. The test fold is never seen before the final scoring.
// - Features are standardised with statistics of the training clips of each fit.
import { kFoldSplits, innerSplits, type FoldSplit } from './folds.js';
import {
  trainOneVsRestPath,
  oneVsRestScores,
  fitStandardizer,
  applyStandardizer,
  type FeatureMatrix,
  type SvmLoss,
} from './svm.js';

export interface ProtocolSample {
  label: number;
  fold: number;
  group: string;
}

/** Per-clip features and the sample each clip was cut from. */
export interface ClipFeatures {
  /** clips × dim. */
  features: FeatureMatrix;
  /** sampleOfClip[c] = index of the sample (into the samples array) that clip c belongs to. */
  sampleOfClip: ArrayLike<number>;
}

export interface FitEvent {
  /** 'inner': a fit for choosing C; 'final': the fit scored on the test fold. */
  stage: 'inner' | 'final';
  outerFold: number;
  /** The held-out inner fold (inner fits only). */
  innerFold?: number;
  C: number;
  /** Samples whose clips trained this fit. */
  trainSamples: number[];
  /** Samples scored by this fit (inner validation or outer test). */
  scoredSamples: number[];
}

export interface SvmProtocolOptions {
  /** Candidate C values (default 1e-3, 1e-2, 1e-1, 1, 10, 100). One value: no inner cross-validation. */
  cGrid?: number[];
  loss?: SvmLoss;
  /** Solver tolerance on the projected gradient (default 1e-3). */
  tolerance?: number;
  /** Solver pass cap (default 1000). */
  maxIterations?: number;
  /** Seed of the solver and of group k-fold inner splits (default 0). */
  seed?: number;
  /** Standardise features on each fit's training clips (default true). */
  standardize?: boolean;
  /** Added to the standard deviation (the reference used 1e-2; default 0). */
  standardizeEpsilon?: number;
  /** Parts of the inner group k-fold when the training set has a single fold (default 4). */
  innerFolds?: number;
  /** Only hold out these folds (DCASE-style given splits); default every fold. */
  testFolds?: number[];
  /** Separate clips to score test samples with (e.g. 10 uniformly spaced clips); default `clips`. */
  testClips?: ClipFeatures;
  /** Called before every fit: the hook that lets tests prove no test sample reaches training. */
  onFit?: (event: FitEvent) => void;
  /** Progress lines. */
  log?: (line: string) => void;
}

export interface SvmFoldResult {
  fold: number;
  /** Sample-level accuracy on the test fold (scores averaged over each sample's clips). */
  accuracy: number;
  /** Clip-level accuracy on the test fold (each clip on its own). */
  clipAccuracy: number;
  chosenC: number;
  /** Mean inner-validation accuracy per candidate C (empty with a single C). */
  innerAccuracy: { C: number; accuracy: number }[];
  trainSamples: number;
  trainClips: number;
  testSamples: number;
  /** Binary SVMs of the final fit that hit the iteration cap before the tolerance. */
  unconverged: number;
  /** The same over all inner (C-selection) fits. */
  innerUnconverged: number;
  seconds: number;
}

export interface SvmProtocolResult {
  folds: SvmFoldResult[];
  meanAccuracy: number;
  stdAccuracy: number;
  meanClipAccuracy: number;
  numClasses: number;
  dim: number;
  options: { cGrid: number[]; loss: SvmLoss; tolerance: number; maxIterations: number; standardize: boolean; standardizeEpsilon: number };
}

/** clipsOf[s] = rows of the clips of sample s. */
function clipsBySample(clips: ClipFeatures, numSamples: number, what: string): number[][] {
  const out: number[][] = Array.from({ length: numSamples }, () => []);
  if (clips.sampleOfClip.length !== clips.features.rows) {
    throw new Error(`svm protocol: ${what} has ${clips.features.rows} feature rows but ${clips.sampleOfClip.length} clip→sample entries`);
  }
  for (let c = 0; c < clips.sampleOfClip.length; c++) {
    const s = clips.sampleOfClip[c];
    if (!Number.isInteger(s) || s < 0 || s >= numSamples) throw new Error(`svm protocol: ${what} clip ${c} points to sample ${s}, outside 0..${numSamples - 1}`);
    out[s].push(c);
  }
  return out;
}

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
}

export function runSvmProtocol(
  samples: ProtocolSample[],
  clips: ClipFeatures,
  numClasses: number,
  options: SvmProtocolOptions = {},
): SvmProtocolResult {
  const cGrid = options.cGrid ?? [1e-3, 1e-2, 1e-1, 1, 10, 100];
  if (cGrid.length === 0 || cGrid.some((c) => !(c > 0))) throw new Error(`svm protocol: cGrid must list positive values, got [${cGrid.join(', ')}]`);
  const loss = options.loss ?? 'hinge';
  const tolerance = options.tolerance ?? 1e-3;
  const maxIterations = options.maxIterations ?? 1000;
  const seed = options.seed ?? 0;
  const standardize = options.standardize ?? true;
  const standardizeEpsilon = options.standardizeEpsilon ?? 0;
  const log = options.log ?? (() => {});
  const testClips = options.testClips ?? clips;
  if (testClips.features.cols !== clips.features.cols) {
    throw new Error(`svm protocol: test clips have ${testClips.features.cols} features, training clips ${clips.features.cols}`);
  }
  for (const [i, s] of samples.entries()) {
    if (!Number.isInteger(s.label) || s.label < 0 || s.label >= numClasses) throw new Error(`svm protocol: sample ${i} has label ${s.label}, outside 0..${numClasses - 1}`);
  }
  const trainClipsOf = clipsBySample(clips, samples.length, 'clips');
  const testClipsOf = testClips === clips ? trainClipsOf : clipsBySample(testClips, samples.length, 'testClips');
  for (let s = 0; s < samples.length; s++) {
    if (trainClipsOf[s].length === 0) throw new Error(`svm protocol: sample ${s} has no clips`);
    if (testClipsOf[s].length === 0) throw new Error(`svm protocol: sample ${s} has no test clips`);
  }

  /** Fits on the clips of `train` samples for each C; returns per C the sample and clip accuracy on `scored`. */
  const fitAndScore = (
    train: number[],
    scored: number[],
    Cs: number[],
    scoredClipsOf: number[][],
    scoredSet: ClipFeatures,
    event: Omit<FitEvent, 'C' | 'trainSamples' | 'scoredSamples'>,
  ) => {
    const trainRows = train.flatMap((s) => trainClipsOf[s]);
    const trainLabels = trainRows.map((c) => samples[clips.sampleOfClip[c]].label);
    const scoredRows = scored.flatMap((s) => scoredClipsOf[s]);
    // Statistics from the training clips only; without standardisation an identity transform gathers the rows.
    const d = clips.features.cols;
    const stats = standardize
      ? fitStandardizer(clips.features, trainRows, standardizeEpsilon)
      : { mean: new Float64Array(d), scale: new Float64Array(d).fill(1) };
    const Xtrain = applyStandardizer(stats, clips.features, trainRows);
    const Xscored = applyStandardizer(stats, scoredSet.features, scoredRows);
    for (const C of Cs) options.onFit?.({ ...event, C, trainSamples: train.slice(), scoredSamples: scored.slice() });
    const models = trainOneVsRestPath(Xtrain, trainLabels, numClasses, Cs, { loss, tolerance, maxIterations, seed });
    return Cs.map((C, k) => {
      const model = models[k];
      const scores = oneVsRestScores(model, Xscored);
      let row = 0;
      let correctSamples = 0;
      let correctClips = 0;
      let totalClips = 0;
      const averaged = new Float64Array(numClasses);
      for (const s of scored) {
        averaged.fill(0);
        for (let k = 0; k < scoredClipsOf[s].length; k++, row++) {
          let best = 0;
          for (let c = 0; c < numClasses; c++) {
            const v = scores[row * numClasses + c];
            averaged[c] += v;
            if (v > scores[row * numClasses + best]) best = c;
          }
          if (best === samples[s].label) correctClips++;
          totalClips++;
        }
        let best = 0;
        for (let c = 1; c < numClasses; c++) if (averaged[c] > averaged[best]) best = c;
        if (best === samples[s].label) correctSamples++;
      }
      return {
        C,
        accuracy: correctSamples / scored.length,
        clipAccuracy: correctClips / totalClips,
        unconverged: model.diagnostics.filter((d) => !d.converged).length,
        trainClips: trainRows.length,
      };
    });
  };

  const folds: SvmFoldResult[] = [];
  for (const split of kFoldSplits(samples, options.testFolds)) {
    const started = performance.now();
    const outerFold = split.heldOutFold;
    let chosenC = cGrid[0];
    const innerAccuracy: { C: number; accuracy: number }[] = [];
    let innerUnconverged = 0;
    if (cGrid.length > 1) {
      const inner: FoldSplit[] = innerSplits(samples, split.train, options.innerFolds ?? 4, seed);
      const perC = cGrid.map(() => [] as number[]);
      for (const part of inner) {
        const results = fitAndScore(part.train, part.test, cGrid, trainClipsOf, clips, { stage: 'inner', outerFold, innerFold: part.heldOutFold });
        results.forEach((r, k) => {
          perC[k].push(r.accuracy);
          innerUnconverged += r.unconverged;
        });
      }
      cGrid.forEach((C, k) => innerAccuracy.push({ C, accuracy: mean(perC[k]) }));
      // Best inner accuracy; ties go to the smaller C (the more regularised model).
      let best = 0;
      for (let k = 1; k < cGrid.length; k++) {
        const a = innerAccuracy[k].accuracy;
        const b = innerAccuracy[best].accuracy;
        if (a > b || (a === b && cGrid[k] < cGrid[best])) best = k;
      }
      chosenC = cGrid[best];
    }
    const [final] = fitAndScore(split.train, split.test, [chosenC], testClipsOf, testClips, { stage: 'final', outerFold });
    const result: SvmFoldResult = {
      fold: outerFold,
      accuracy: final.accuracy,
      clipAccuracy: final.clipAccuracy,
      chosenC,
      innerAccuracy,
      trainSamples: split.train.length,
      trainClips: final.trainClips,
      testSamples: split.test.length,
      unconverged: final.unconverged,
      innerUnconverged,
      seconds: (performance.now() - started) / 1000,
    };
    folds.push(result);
    log(
      `fold ${outerFold}: accuracy ${(100 * result.accuracy).toFixed(1)}% (clip ${(100 * result.clipAccuracy).toFixed(1)}%), C=${chosenC}` +
        (innerAccuracy.length ? ` [inner: ${innerAccuracy.map((r) => `${r.C}:${(100 * r.accuracy).toFixed(1)}`).join(' ')}]` : '') +
        `, ${result.seconds.toFixed(1)} s`,
    );
  }
  const accuracies = folds.map((f) => f.accuracy);
  const m = mean(accuracies);
  const std = Math.sqrt(mean(accuracies.map((a) => (a - m) ** 2)));
  return {
    folds,
    meanAccuracy: m,
    stdAccuracy: std,
    meanClipAccuracy: mean(folds.map((f) => f.clipAccuracy)),
    numClasses,
    dim: clips.features.cols,
    options: { cGrid, loss, tolerance, maxIterations, standardize, standardizeEpsilon },
  };
}
