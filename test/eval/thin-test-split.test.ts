// An evaluation warns when a class has fewer than two test videos.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { thinTestClasses } from '../../src/eval/av-evaluation.js';

test('classes with fewer than two test videos are found, including classes with none', () => {
  const v = (label: number, split: 'train' | 'test') => ({ label, split });
  assert.deepEqual(thinTestClasses([v(0, 'test'), v(0, 'test'), v(1, 'test'), v(1, 'train'), v(2, 'train')]), [
    { label: 1, testVideos: 1 },
    { label: 2, testVideos: 0 },
  ]);
  assert.deepEqual(thinTestClasses([v(0, 'test'), v(0, 'test'), v(1, 'test'), v(1, 'test')]), []);
});
