// `avid localize` on inputs with the same base name writes each under its own name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { outputStems } from '../../src/eval/localize.js';

test('output stems stay the base name when unique, take the parent folder when not, then a number', () => {
  assert.deepEqual(outputStems(['/x/a.mp4', '/y/b.mkv']), ['a', 'b']);
  assert.deepEqual(outputStems(['/x/clip.mp4', '/y/clip.mp4', '/y/other.mp4']), ['x-clip', 'y-clip', 'other']);
  assert.deepEqual(outputStems(['/x/clip.mp4', '/x/clip.mkv', '/z/x/clip.webm']), ['x-clip-1', 'x-clip-2', 'x-clip-3']);
  assert.equal(new Set(outputStems(['a/v.mp4', 'b/v.mp4', 'v.mp4', 'v.mkv'])).size, 4);
});
