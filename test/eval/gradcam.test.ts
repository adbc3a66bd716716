import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/tensor/index.js';
import { createModel, type AVModel } from '../../src/models/index.js';
import { videoGradCam, overlayHeatmap, peakInBox } from '../../src/eval/gradcam.js';

test('Grad-CAM gives a (T, H, W) heatmap in [0, 1], restores train mode and leaks nothing', () => {
  T.manualSeed(0);
  const model = createModel('av-r2plus1d-10', { width: 0.125, embeddingDim: 16 }) as AVModel;
  model.train();
  const video = T.randn([1, 3, 4, 32, 32]);
  const audio = T.randn([1, 1, 20, 16]);
  videoGradCam(model, video, audio).dispose();
  const before = T.memory().liveTensors;
  const heatmap = videoGradCam(model, video, audio);
  assert.deepEqual(heatmap.shape, [4, 32, 32]);
  assert.ok(T.tidy(() => heatmap.min().item() >= 0 && heatmap.max().item() <= 1 + 1e-6));
  assert.equal(model.training, true);
  assert.ok(model.parameters().every((p) => p.grad === null), 'parameter gradients are cleared');
  heatmap.dispose();
  assert.equal(T.memory().liveTensors, before);
  model.dispose();
});

test('the peak-in-box score and the overlay', () => {
  const heatmap = T.zeros([2, 10, 10]);
  heatmap.indexPut_([T.tensor(BigInt64Array.from([0n, 1n])), T.tensor(BigInt64Array.from([2n, 8n])), T.tensor(BigInt64Array.from([3n, 8n]))], T.ones([2]));
  // Frame 0 peaks at (x=3, y=2), inside [2,1,3,3]; frame 1 at (8, 8), outside.
  assert.deepEqual(peakInBox(heatmap, [[2, 1, 3, 3], [0, 0, 4, 4]]), [true, false]);
  const frames = T.full([2, 10, 10, 3], 100, { dtype: 'uint8' });
  const overlay = overlayHeatmap(frames, heatmap);
  assert.deepEqual(overlay.shape, [2, 10, 10, 3]);
  assert.equal(overlay.dtype, 'uint8');
});
