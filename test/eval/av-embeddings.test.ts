import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/tensor/index.js';
import { embedVideos, type AVEmbedder } from '../../src/eval/av-embeddings.js';
import type { Batch } from '../../src/data/loader.js';

/** A stand-in model whose embedding is the normalised input; it records whether it ran in eval mode. */
function stubModel() {
  const module = { training: true };
  const sawTraining: boolean[] = [];
  const model: AVEmbedder = {
    embedVideo: (v) => (sawTraining.push(module.training), T.functional.normalize(v.flatten(1), 2, 1)),
    embedAudio: (a) => T.functional.normalize(a.flatten(1), 2, 1),
    namedModules: () => [['', module]],
    eval: () => {
      module.training = false;
    },
  };
  return { model, module, sawTraining };
}

async function* batches(list: { index: number[]; video: number[][]; audio: number[][] }[]): AsyncGenerator<Batch> {
  for (const b of list) {
    yield {
      index: T.tensor(Int32Array.from(b.index), undefined, 'int64'),
      video: T.tensor(Float32Array.from(b.video.flat()), [b.index.length, 2]),
      audio: T.tensor(Float32Array.from(b.audio.flat()), [b.index.length, 2]),
      meta: [],
    };
  }
}

test('clip embeddings are averaged per video and re-normalised, in eval mode; batches are consumed', async () => {
  const { model, module, sawTraining } = stubModel();
  const before = T.memory().liveTensors;
  const r = await embedVideos(
    model,
    batches([
      { index: [5, 2], video: [[1, 0], [0, 3]], audio: [[0, 1], [2, 0]] },
      { index: [5], video: [[0, 1]], audio: [[0, 1]] },
    ]),
  );
  assert.equal(T.memory().liveTensors, before, 'batch tensors disposed');
  assert.deepEqual(sawTraining, [false, false], 'embedded in eval mode');
  assert.equal(module.training, true, 'mode restored');
  assert.deepEqual(r.indices, [2, 5]);
  assert.deepEqual(r.clipsPerVideo, [1, 2]);
  const s = Math.SQRT1_2;
  const close = (a: ArrayLike<number>, b: number[]) => Array.from(a).every((v, i) => Math.abs(v - b[i]) < 1e-6);
  assert.ok(close(r.video.data, [0, 1, s, s]), `video ${[...r.video.data]}`);
  assert.ok(close(r.audio.data, [1, 0, 0, 1]), `audio ${[...r.audio.data]}`);
});
