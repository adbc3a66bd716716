import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/tensor/index.js';
import { knnPredict, knnCrossValidation } from '../../src/eval/knn.js';
import { matrix } from '../../src/eval/svm.js';
import { seededRandom } from '../../src/data/rng.js';

test('k-NN by cosine: scale does not matter, votes and ties behave', () => {
  const before = T.memory().liveTensors;
  // Class 0 along +x, class 1 along +y; lengths differ wildly (cosine ignores them).
  const train = matrix(Float32Array.from([1, 0.1, 100, 5, 0.2, 1, 7, 50, 1, 1.2]), 5, 2);
  const labels = [0, 0, 1, 1, 1];
  const test = matrix(Float32Array.from([10, 0, 0, 0.1, 1, 0.9]), 3, 2);
  assert.deepEqual([...knnPredict(train, labels, test, 2, { k: 1 })], [0, 1, 1]);
  assert.deepEqual([...knnPredict(train, labels, test, 2, { k: 5 })], [1, 1, 1], 'k = all: the majority class');
  // A tie (k = 2, one vote each) goes to the class of the nearer neighbour, whatever the class numbers.
  const pair = matrix(Float32Array.from([1, 0.1, 1, 0.3]), 2, 2);
  const query = matrix(Float32Array.from([1, 0]), 1, 2);
  assert.deepEqual([...knnPredict(pair, [0, 1], query, 2, { k: 2 })], [0]);
  assert.deepEqual([...knnPredict(pair, [1, 0], query, 2, { k: 2 })], [1]);
  // Similarity weighting lets two very close neighbours outvote three far ones.
  assert.deepEqual([...knnPredict(train, labels, matrix(Float32Array.from([1, 0.05]), 1, 2), 2, { k: 5, weighting: 'similarity', temperature: 0.05 })], [0]);
  assert.throws(() => knnPredict(train, [0, 0, 1, 1, 2], test, 2), /label 2 at 4 is outside 0\.\.1/);
  assert.throws(() => knnPredict(train, labels, matrix(new Float32Array(3), 1, 3), 2), /2 dimensions, test 3/);
  assert.equal(T.memory().liveTensors, before);
});

test('k-NN cross-validation over folds on clustered embeddings', () => {
  const random = seededRandom(4);
  const samples: { label: number; fold: number; group: string }[] = [];
  const rows: number[] = [];
  for (let i = 0; i < 90; i++) {
    const label = i % 3;
    samples.push({ label, fold: 1 + (Math.floor(i / 3) % 3), group: `g${i}` });
    for (let k = 0; k < 6; k++) rows.push((k % 3 === label ? 3 : 0) + random() - 0.5);
  }
  const before = T.memory().liveTensors;
  const r = knnCrossValidation(matrix(Float32Array.from(rows), 90, 6), samples, 3, { k: 5, blockRows: 7 });
  assert.deepEqual(r.folds.map((f) => [f.fold, f.trainSize, f.testSize]), [[1, 60, 30], [2, 60, 30], [3, 60, 30]]);
  assert.equal(r.meanAccuracy, 1);
  assert.equal(T.memory().liveTensors, before);
  // Random labels: near chance.
  const shuffled = samples.map((s, i) => ({ ...s, label: Math.floor(seededRandom(i)() * 3) }));
  assert.ok(knnCrossValidation(matrix(Float32Array.from(rows), 90, 6), shuffled, 3, { k: 5 }).meanAccuracy < 0.7);
});
