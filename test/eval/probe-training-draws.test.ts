import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import * as T from '../../src/tensor/index.js';
import { createModel } from '../../src/models/index.js';
import { clipGeometry } from '../../src/eval/clip-geometry.js';
import { PretrainConfig } from '../../src/config/schema.js';
import { extractVideoTrainingDraws } from '../../src/eval/probe-training-draws.js';

T.setNumThreads(1);

const clipsDir = path.resolve('../shared/data/av-clips');
const have = existsSync(clipsDir);

test('probe training draws: a fresh augmented clip of every training video per draw, seeded, nothing leaked', { skip: have ? false : `${clipsDir} is absent` }, async () => {
  const files = ['grid_speaker.mp4', 'boat.mp4', 'mmaction_test.avi', 'dog_barking.mp4'];
  const videos = files.map((f, i) => ({ path: path.join(clipsDir, f), label: i % 2 }));
  const geometry = clipGeometry(PretrainConfig.parse({ data: { source: 'x' }, video: { frames: 4, fps: 8, size: 32 } }));
  const model = createModel('av-r2plus1d-10', { width: 0.125, embeddingDim: 8 });
  const train = [3, 0, 2]; // video 1 stands for a test video: never drawn
  try {
    const before = T.memory().liveTensors;
    const a = await extractVideoTrainingDraws(model, videos, train, geometry, { draws: 2, seed: 7, batchSize: 2 });
    const b = await extractVideoTrainingDraws(model, videos, train, geometry, { draws: 2, seed: 7, batchSize: 2 });
    assert.equal(T.memory().liveTensors, before, 'every tensor disposed');
    assert.deepEqual([...a.keys()], ['conv2x', 'conv3x', 'conv4x', 'conv5x', 'pool']);
    for (const [block, draws] of a) {
      assert.equal(draws.length, 2, block);
      for (const d of draws) {
        assert.equal(d.features.rows, 3);
        assert.deepEqual(Array.from(d.sampleOfClip).sort(), [0, 2, 3], 'one clip of each training video, none of the others');
      }
      assert.deepEqual(b.get(block)!.map((d) => Array.from(d.features.data)), draws.map((d) => Array.from(d.features.data)), `${block}: seeded`);
    }
    // The rows of one video differ between draws: a new clip start, crop, flip and colour jitter each time.
    const [d0, d1] = a.get('conv2x')!;
    const row = (d: (typeof a extends Map<string, infer V> ? V : never)[number], video: number) => {
      const r = Array.from(d.sampleOfClip).indexOf(video);
      return Array.from(d.features.data.slice(r * d.features.cols, (r + 1) * d.features.cols));
    };
    for (const v of train) assert.notDeepEqual(row(d0, v), row(d1, v), `video ${v}: draws 0 and 1 differ`);
    const other = await extractVideoTrainingDraws(model, videos, train, geometry, { draws: 1, seed: 8, batchSize: 2 });
    assert.notDeepEqual(row(other.get('conv2x')![0], 0), row(d0, 0), 'another seed, another draw');
    await assert.rejects(extractVideoTrainingDraws(model, videos, train, geometry, { draws: 0, seed: 1 }), /draws must be an integer ≥ 1, got 0/);
    await assert.rejects(extractVideoTrainingDraws(model, videos, [9], geometry, { draws: 1, seed: 1 }), /video index 9 is outside 0\.\.3/);
  } finally {
    model.dispose();
  }
});
