import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRandom, tsne, tsneDivergence, TSNE_MAX_POINTS } from '../../src/report/tsne.js';

/** `classes` Gaussian clusters around random centres; `spread` is the centres' scale against unit noise. */
function clusters(classes: number, perClass: number, dim: number, spread: number, seed: number): { vectors: number[][]; labels: number[] } {
  const random = seededRandom(seed);
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const centres = Array.from({ length: classes }, () => Array.from({ length: dim }, () => gaussian() * spread));
  const vectors: number[][] = [];
  const labels: number[] = [];
  centres.forEach((centre, c) => {
    for (let i = 0; i < perClass; i++) {
      vectors.push(centre.map((v) => v + gaussian()));
      labels.push(c);
    }
  });
  return { vectors, labels };
}

/** Fraction of points whose nearest neighbour in the map has the same label. */
function neighbourAgreement(map: Float64Array, labels: number[]): number {
  let agree = 0;
  for (let i = 0; i < labels.length; i++) {
    let best = -1;
    let bestDistance = Infinity;
    for (let j = 0; j < labels.length; j++) {
      if (j === i) continue;
      const d = (map[2 * i] - map[2 * j]) ** 2 + (map[2 * i + 1] - map[2 * j + 1]) ** 2;
      if (d < bestDistance) [best, bestDistance] = [j, d];
    }
    if (labels[best] === labels[i]) agree++;
  }
  return agree / labels.length;
}

test('t-SNE separates well-separated classes and is deterministic for a seed', () => {
  const { vectors, labels } = clusters(4, 15, 12, 4, 1);
  const map = tsne(vectors, { seed: 7 });
  assert.equal(map.length, 2 * vectors.length);
  assert.ok(map.every(Number.isFinite));
  assert.equal(neighbourAgreement(map, labels), 1);
  assert.deepEqual(tsne(vectors, { seed: 7 }), map, 'same seed, same map');
  assert.notDeepEqual(tsne(vectors, { seed: 8 }), map, 'another seed, another layout');
});

test('t-SNE reaches the divergence scikit-learn reaches on overlapping classes', () => {
  // 6 overlapping classes, 300 points: scikit-learn 1.9 (exact, random init, perplexity 30) ends at
  // KL ≈ 0.27 on data of this kind; a random layout scores several times worse.
  const { vectors, labels } = clusters(6, 50, 20, 2, 5);
  const map = tsne(vectors, { seed: 0 });
  const kl = tsneDivergence(vectors, map);
  const random = seededRandom(3);
  const scattered = Float64Array.from({ length: map.length }, () => random() * 40);
  assert.ok(kl < 0.35, `KL ${kl}`);
  assert.ok(tsneDivergence(vectors, scattered) > 4 * kl, 'far better than a random layout');
  assert.ok(neighbourAgreement(map, labels) > 0.9, `neighbour agreement ${neighbourAgreement(map, labels)}`);
});

test('t-SNE handles tiny inputs and rejects bad ones', () => {
  assert.deepEqual(tsne([]), new Float64Array(0));
  assert.deepEqual(tsne([[1, 2]]), new Float64Array(2));
  const two = tsne([[0, 0], [1, 1]], { iterations: 50 });
  assert.ok(two.every(Number.isFinite));
  const same = tsne([[1, 1], [1, 1], [1, 1], [1, 1]], { iterations: 50 });
  assert.ok(same.every(Number.isFinite), 'identical points do not produce NaN');
  assert.throws(() => tsne([[1, 2], [3]]), /vector 1 has length 1, expected 2/);
  assert.throws(() => tsne(Array.from({ length: TSNE_MAX_POINTS + 1 }, () => [0])), /more than the exact method's limit of 2000/);
});
