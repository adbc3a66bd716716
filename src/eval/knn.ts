// k-nearest-neighbour classification on embeddings by cosine similarity: a parameter-free probe of how
// well classes cluster. Votes are counted in plain TypeScript from libtorch's top-k.
import * as T from '../tensor/index.js';
import { embeddingTensor, type EmbeddingInput } from './embeddings.js';
import { kFoldSplits } from './folds.js';

export interface KnnOptions {
  /** Neighbours (default 20, capped at the training-set size). */
  k?: number;
  /** 'majority': one vote per neighbour; 'similarity': votes weighted by exp(similarity / temperature). */
  weighting?: 'majority' | 'similarity';
  /** Temperature of the similarity weighting (default 0.07). */
  temperature?: number;
  /** Test rows per similarity block, bounding memory (default 1024). */
  blockRows?: number;
}

/**
 * Predicted class of each test row. Ties between classes go to the class of the nearest neighbour among
 * the tied ones, so the answer never depends on class numbering.
 */
export function knnPredict(
  train: EmbeddingInput,
  trainLabels: ArrayLike<number>,
  test: EmbeddingInput,
  numClasses: number,
  options: KnnOptions = {},
): Int32Array {
  const weighting = options.weighting ?? 'majority';
  const temperature = options.temperature ?? 0.07;
  const blockRows = options.blockRows ?? 1024;
  const trainT = T.tidy(() => T.functional.normalize(embeddingTensor(train, 'k-NN training embeddings'), 2, 1));
  const testT = T.tidy(() => T.functional.normalize(embeddingTensor(test, 'k-NN test embeddings'), 2, 1));
  try {
    const nTrain = trainT.shape[0];
    if (trainLabels.length !== nTrain) throw new Error(`k-NN: ${trainLabels.length} labels for ${nTrain} training embeddings`);
    if (nTrain === 0) throw new Error('k-NN: no training embeddings');
    if (trainT.shape[1] !== testT.shape[1]) throw new Error(`k-NN: training embeddings have ${trainT.shape[1]} dimensions, test ${testT.shape[1]}`);
    for (let i = 0; i < nTrain; i++) {
      const l = trainLabels[i];
      if (!Number.isInteger(l) || l < 0 || l >= numClasses) throw new Error(`k-NN: training label ${l} at ${i} is outside 0..${numClasses - 1}`);
    }
    const k = Math.min(options.k ?? 20, nTrain);
    if (!(k >= 1)) throw new Error(`k-NN: k must be at least 1, got ${options.k}`);
    const nTest = testT.shape[0];
    const out = new Int32Array(nTest);
    const votes = new Float64Array(numClasses);
    const nearest = new Int32Array(numClasses);
    for (let start = 0; start < nTest; start += blockRows) {
      const rows = Math.min(blockRows, nTest - start);
      const { values, indices } = T.tidy(() => {
        const top = testT.narrow(0, start, rows).matmul(trainT.T).topk(k, 1, true, true);
        return { values: top.values.toFloat32Array(), indices: top.indices.toArray() };
      });
      for (let r = 0; r < rows; r++) {
        votes.fill(0);
        nearest.fill(k);
        for (let j = 0; j < k; j++) {
          const label = trainLabels[indices[r * k + j]];
          votes[label] += weighting === 'majority' ? 1 : Math.exp(values[r * k + j] / temperature);
          if (nearest[label] === k) nearest[label] = j;
        }
        let best = 0;
        for (let c = 1; c < numClasses; c++) {
          if (votes[c] > votes[best] || (votes[c] === votes[best] && nearest[c] < nearest[best])) best = c;
        }
        out[start + r] = best;
      }
    }
    return out;
  } finally {
    trainT.dispose();
    testT.dispose();
  }
}

export interface KnnFoldResult {
  fold: number;
  accuracy: number;
  trainSize: number;
  testSize: number;
}

/** k-NN accuracy for each fold of the labels (train on the other folds), and the mean. */
export function knnCrossValidation(
  embeddings: EmbeddingInput,
  samples: { label: number; fold: number; group: string }[],
  numClasses: number,
  options: KnnOptions & { testFolds?: number[] } = {},
): { folds: KnnFoldResult[]; meanAccuracy: number } {
  const all = embeddingTensor(embeddings, 'k-NN embeddings');
  try {
    if (all.shape[0] !== samples.length) throw new Error(`k-NN: ${all.shape[0]} embeddings for ${samples.length} samples`);
    const folds = kFoldSplits(samples, options.testFolds).map((split) => {
      const predicted = T.tidy(() => {
        const train = all.indexSelect(0, T.tensor(Int32Array.from(split.train), undefined, 'int64'));
        const test = all.indexSelect(0, T.tensor(Int32Array.from(split.test), undefined, 'int64'));
        return knnPredict(train, split.train.map((i) => samples[i].label), test, numClasses, options);
      });
      const correct = split.test.filter((i, r) => predicted[r] === samples[i].label).length;
      return { fold: split.heldOutFold, accuracy: correct / split.test.length, trainSize: split.train.length, testSize: split.test.length };
    });
    return { folds, meanAccuracy: folds.reduce((a, f) => a + f.accuracy, 0) / folds.length };
  } finally {
    all.dispose();
  }
}
