// The evaluation solvers' random function now comes from data/rng.ts (one mulberry32): its streams must be
// the ones the former eval/random.ts gave, value for value, or every SVM and fold split would change.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRandom, shuffleInPlace, Rng } from '../../src/data/rng.js';

test('seededRandom gives the streams the evaluation solvers always had (values recorded from eval/random.ts)', () => {
  const recorded: Record<string, number[]> = {
    '0': [0.3588899802416563, 0.10590326134115458, 0.675290479324758],
    '42': [0.4813160905614495, 0.9852536325342953, 0.7379171899519861],
    '-3': [0.014378171181306243, 0.36883880756795406, 0.6787978720385581],
  };
  for (const [seed, values] of Object.entries(recorded)) {
    const random = seededRandom(Number(seed));
    assert.deepEqual([random(), random(), random()], values, `seed ${seed}`);
  }
});

test('Rng.shuffle and shuffleInPlace are one Fisher–Yates: same draws, same permutation', () => {
  const a = new Rng(5);
  const b = new Rng(5);
  const shuffled = a.shuffle(Array.from({ length: 20 }, (_, i) => i));
  const inPlace = Int32Array.from({ length: 20 }, (_, i) => i);
  shuffleInPlace(inPlace, () => b.float());
  assert.deepEqual(shuffled, [...inPlace]);
  assert.notDeepEqual(shuffled, Array.from({ length: 20 }, (_, i) => i));
});
