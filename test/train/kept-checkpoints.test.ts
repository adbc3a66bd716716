// train.keepCheckpoints through pretrain(): checkpoints/epoch-<N>.safetensors beside last at the chosen
// epochs only, epoch-0 holding the initial weights after `init` (before any step), each a whole checkpoint
// of the state after N epochs; and the config's errors for a bad value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseConfig } from '../../src/config/load.js';
import { pretrain } from '../../src/train/pretrain.js';
import { loadCheckpoint, disposeContents } from '../../src/io/checkpoint.js';
import { keptCheckpointPath } from '../../src/train/kept-checkpoints.js';
import { RandomSource } from '../helpers/random-source.js';

function config(runsDir: string, name: string, extra: { train?: Record<string, unknown>; init?: string } = {}) {
  return parseConfig(
    {
      name,
      runsDir,
      ...(extra.init ? { init: extra.init } : {}),
      data: { source: 'in-memory' },
      model: { width: 0.125, embeddingDim: 16 },
      objective: { negatives: 8 },
      train: { epochs: 1, batchSize: 4, logEvery: 1, checkpointEvery: 1000, ...extra.train },
    },
    'test',
  );
}

/** A checkpoint's model weights as plain arrays, its epoch and step. */
function read(file: string) {
  const contents = loadCheckpoint(file);
  try {
    const model = new Map([...contents.groups.model].map(([k, t]) => [k, Array.from(t.data() as ArrayLike<number | bigint>)]));
    return { model, epoch: contents.scalars.epoch, step: contents.scalars.step };
  } finally {
    disposeContents(contents);
  }
}

const files = (runDir: string) => readdirSync(path.join(runDir, 'checkpoints')).filter((f) => f.endsWith('.safetensors')).sort();

test('train.keepCheckpoints keeps epoch-<N> beside last at the chosen epochs; epoch-0 is the weights after init', async () => {
  const runsDir = mkdtempSync(path.join(tmpdir(), 'avid-keep-'));
  // A run to initialise from; by default only last is written.
  const first = await pretrain(config(runsDir, 'first'), { source: new RandomSource(16, 4), progress: null });
  assert.deepEqual(files(path.dirname(path.dirname(first.checkpoint))), ['last.safetensors']);

  // {every: 2} over 3 epochs of 4 steps: epochs 0 and 2.
  const every = await pretrain(config(runsDir, 'every', { init: first.checkpoint, train: { epochs: 3, keepCheckpoints: { every: 2 } } }), { source: new RandomSource(16, 4), progress: null });
  const everyDir = path.join(runsDir, 'every');
  assert.deepEqual(files(everyDir), ['epoch-0.safetensors', 'epoch-2.safetensors', 'last.safetensors']);
  const init = read(first.checkpoint);
  const epoch0 = read(keptCheckpointPath(everyDir, 0));
  const epoch2 = read(keptCheckpointPath(everyDir, 2));
  const last = read(every.checkpoint);
  assert.deepEqual([epoch0.epoch, epoch0.step], [0, 0]);
  assert.deepEqual(epoch0.model, init.model, "epoch-0 holds the init checkpoint's weights, before any step");
  assert.deepEqual([epoch2.epoch, epoch2.step], [2, 8]);
  assert.deepEqual([last.epoch, last.step], [3, 12]);
  assert.notDeepEqual(epoch2.model, epoch0.model, 'training moved the weights');
  assert.notDeepEqual(epoch2.model, last.model, 'epoch-2 is not overwritten by later epochs');

  // A list: exactly its epochs; the last epoch's copy equals last.
  const list = await pretrain(config(runsDir, 'list', { train: { epochs: 2, keepCheckpoints: [2] } }), { source: new RandomSource(16, 4), progress: null });
  const listDir = path.join(runsDir, 'list');
  assert.deepEqual(files(listDir), ['epoch-2.safetensors', 'last.safetensors']);
  const kept = read(keptCheckpointPath(listDir, 2));
  const listLast = read(list.checkpoint);
  assert.deepEqual([kept.epoch, kept.step], [2, 8]);
  assert.deepEqual(kept.model, listLast.model);
});

test('train.keepCheckpoints: a bad value is reported with its key', () => {
  const parse = (keepCheckpoints: unknown) => parseConfig({ data: { source: 'x' }, train: { keepCheckpoints } }, 'test.yaml');
  assert.deepEqual(parse([0, 5]).train.keepCheckpoints, [0, 5]);
  assert.deepEqual(parse({ every: 5 }).train.keepCheckpoints, { every: 5 });
  assert.deepEqual(parseConfig({ data: { source: 'x' } }).train.keepCheckpoints, [], 'none by default');
  assert.throws(() => parse([0, -1]), /train\.keepCheckpoints\.1: Number must be greater than or equal to 0/);
  assert.throws(() => parse([1.5]), /train\.keepCheckpoints\.0: expected integer, got float/);
  assert.throws(() => parse({ every: 0 }), /train\.keepCheckpoints\.every: Number must be greater than 0/);
  for (const bad of [{ each: 2 }, 'every 5']) assert.throws(() => parse(bad), /train\.keepCheckpoints: expected a list of epochs \(integers ≥ 0\) or \{every: N\}/);
});
