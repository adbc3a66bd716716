import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/tensor/index.js';
import { crossModalRetrieval, diagonalRanks, scoresFromRanks } from '../../src/eval/retrieval.js';
import { matrix } from '../../src/eval/svm.js';

test('hand-computed ranks in both directions', () => {
  const before = T.memory().liveTensors;
  // sim[i][j] = video i · audio j = [[0.6, 0, 1], [0.8, 1, 0], [1, 0.8, 0.6]]
  const video = matrix(Float32Array.from([1, 0, 0, 1, 0.6, 0.8]), 3, 2);
  const audio = matrix(Float32Array.from([0.6, 0.8, 0, 1, 1, 0]), 3, 2);
  const r = crossModalRetrieval(video, audio, { ks: [1, 2, 3] });
  assert.equal(r.n, 3);
  assert.deepEqual([...r.videoToAudio.ranks], [2, 1, 3]);
  assert.deepEqual([...r.audioToVideo.ranks], [3, 1, 2]);
  assert.deepEqual(r.videoToAudio.recall, { 1: 1 / 3, 2: 2 / 3, 3: 1 });
  assert.equal(r.videoToAudio.medianRank, 2);
  assert.equal(r.videoToAudio.meanRank, 2);
  assert.equal(T.memory().liveTensors, before, 'no tensor leaked');
});

test('a permutation: fixed points rank 1, the others last', () => {
  const n = 10;
  const sigma = [0, 2, 1, 3, 5, 4, 6, 7, 9, 8]; // fixed points 0, 3, 6, 7
  const eye = new Float32Array(n * n);
  const permuted = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    eye[i * n + i] = 1;
    permuted[i * n + sigma[i]] = 1;
  }
  const r = crossModalRetrieval(T.tensor(eye, [n, n]), matrix(permuted, n, n));
  assert.deepEqual([...r.videoToAudio.ranks], sigma.map((s, i) => (s === i ? 1 : n)));
  assert.equal(r.videoToAudio.recall[1], 0.4);
  assert.equal(r.videoToAudio.recall[5], 0.4);
  assert.equal(r.videoToAudio.recall[10], 1);
  assert.equal(r.videoToAudio.medianRank, 10);
  const identical = crossModalRetrieval(matrix(eye, n, n), matrix(eye, n, n));
  assert.equal(identical.audioToVideo.recall[1], 1);
  assert.equal(identical.audioToVideo.medianRank, 1);
});

test('collapsed embeddings get the worst rank, not a perfect score', () => {
  const same = matrix(new Float32Array(8 * 4).fill(0.5), 8, 4);
  const r = crossModalRetrieval(same, same);
  assert.deepEqual([...r.videoToAudio.ranks], new Array(8).fill(8));
  assert.equal(r.videoToAudio.recall[1], 0);
});

test('normalisation is checked or applied; shapes must match', () => {
  const raw = matrix(Float32Array.from([3, 0, 0, 2]), 2, 2);
  assert.throws(() => crossModalRetrieval(raw, raw), /rows must be L2-normalised/);
  assert.equal(crossModalRetrieval(raw, raw, { normalize: true }).videoToAudio.recall[1], 1);
  assert.throws(() => crossModalRetrieval(raw, matrix(Float32Array.from([1, 0]), 1, 2)), /2 video embeddings but 1 audio/);
  assert.throws(() => diagonalRanks(T.zeros([2, 3])), /square matrix/);
  assert.equal(scoresFromRanks(Int32Array.from([1, 4, 2, 3]), [1]).medianRank, 2.5);
});
