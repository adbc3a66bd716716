// Localisation sees the evaluation view (the central 87.5% of the frame, as every other evaluation), and the
// sounding object's ground-truth box is mapped into that view: moved, scaled, cut at the crop's edges, and a
// box wholly outside the crop is reported as such (not scored, not drawn).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { boxInCrop } from '../../src/eval/localization-boxes.js';
import { decodeLocalizationClip, localizationFrame, type LocalizeResult } from '../../src/eval/localize.js';
import { evaluationCropBox } from '../../src/media/video-transforms.js';
import { encodeMp4 } from '../../src/data/synth/encode.js';
import type { ClipGeometry } from '../../src/eval/clip-geometry.js';

const close = (actual: number[], expected: number[]) =>
  actual.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-9, `${JSON.stringify(actual)} ≈ ${JSON.stringify(expected)}`));

test('a box inside the crop is moved into the crop and scaled to the network input', () => {
  // 160×120 frame: the largest centred square is 120×120 at x = 20; 87.5% of it is 105×105 at (27, 7).
  const crop = evaluationCropBox(160, 120, 64, 64);
  assert.deepEqual(crop, { x: 27, y: 7, width: 105, height: 105 });
  const seen = boxInCrop([48, 28, 21, 42], crop, 64, 64)!;
  close(seen.fractions, [21 / 105, 21 / 105, 21 / 105, 42 / 105]);
  close(seen.pixels, [(21 / 105) * 64, (21 / 105) * 64, (21 / 105) * 64, (42 / 105) * 64]);
});

test('a box partly outside the crop is cut at its edge', () => {
  const crop = { x: 10, y: 10, width: 100, height: 100 };
  // Sticks out 20 px to the left and 10 px below: 30 of 50 columns, 30 of 40 rows remain.
  const seen = boxInCrop([-10, 80, 50, 40], crop, 50, 50)!;
  close(seen.fractions, [0, 0.7, 0.3, 0.3]);
  close(seen.pixels, [0, 35, 15, 15]);
});

test('a box wholly outside the crop (or only touching its edge) is null', () => {
  const crop = { x: 10, y: 10, width: 100, height: 100 };
  assert.equal(boxInCrop([0, 0, 10, 50], crop, 64, 64), null, 'touching the left edge');
  assert.equal(boxInCrop([111, 20, 5, 5], crop, 64, 64), null, 'right of the crop');
  assert.equal(boxInCrop([20, 115, 5, 5], crop, 64, 64), null, 'below the crop');
  assert.throws(() => boxInCrop([1, 2, -3, 4], crop, 64, 64), /ground-truth box: expected \[x, y, w, h\].*\[1,2,-3,4\]/);
});

test('the result file records an outside box as not scored, never as a miss with a box', () => {
  const result: LocalizeResult = {
    file: 'v.mp4',
    startSec: 0,
    frames: [],
    boxHitRate: 1,
    hits: [true, null, false],
    boxShare: 0.1,
    boxes: [[0.1, 0.1, 0.2, 0.2], null, [0.5, 0.5, 0.1, 0.1]],
    framesOutsideCrop: 1,
  };
  assert.deepEqual(localizationFrame(result, 0), { boxHit: true, box: [0.1, 0.1, 0.2, 0.2] });
  assert.deepEqual(localizationFrame(result, 1), { boxHit: false, boxOutsideCrop: true });
  assert.deepEqual(localizationFrame(result, 2), { boxHit: false, box: [0.5, 0.5, 0.1, 0.1] });
  const noTruth: LocalizeResult = { ...result, hits: null, boxes: null, boxHitRate: null, boxShare: null, framesOutsideCrop: 0 };
  assert.deepEqual(localizationFrame(noTruth, 1), { boxHit: false });
});

test('the decoded clip is the centre crop: a red border thinner than the cut-off margin never reaches the network', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'avid-localize-crop-'));
  try {
    // 256×192 frames, blue with red bands at x < 40 and x ≥ 216. The full-frame view (the largest centred
    // square, x in [32, 224)) shows 8 px of each band; the evaluation crop (87.5% of it, x in [44, 212)) none.
    const width = 256;
    const height = 192;
    const frame = new Uint8Array(width * height * 3);
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++) {
        const red = x < 40 || x >= 216;
        frame.set(red ? [230, 20, 20] : [20, 20, 230], (y * width + x) * 3);
      }
    const file = path.join(dir, 'bands.mp4');
    const fps = 8;
    const sampleRate = 16000;
    await encodeMp4({ path: file, width, height, fps, sampleRate, frames: Array.from({ length: 16 }, () => frame), audio: new Float32Array(2 * sampleRate).map((_, i) => 0.1 * Math.sin(i / 10)) });
    const geometry: ClipGeometry = { frames: 4, fps, size: 64, audioSeconds: 1, sampleRate, hopSeconds: 0.02, windowSeconds: 0.02, freqBins: 129 };
    const clip = await decodeLocalizationClip(file, geometry, { size: 64 });
    assert.deepEqual(clip.crop, evaluationCropBox(width, height, 64, 64));
    assert.deepEqual([clip.sourceWidth, clip.sourceHeight], [width, height]);
    assert.equal(clip.pixels.length, 4 * 64 * 64 * 3);
    let reddest = 0;
    for (let i = 0; i < clip.pixels.length; i += 3) reddest = Math.max(reddest, clip.pixels[i] - clip.pixels[i + 2]);
    assert.ok(reddest < 60, `no red from the border inside the crop (largest red − blue: ${reddest})`);
    // The view localisation took before (the whole centred square) shows the bands: the check can fail.
    const { decodeVideoClip } = await import('../../src/media/decode.js');
    const full = await decodeVideoClip(file, { startSec: 0, numFrames: 1, fps, outWidth: 64, outHeight: 64 });
    let fullReddest = 0;
    for (let i = 0; i < full.pixels.length; i += 3) fullReddest = Math.max(fullReddest, full.pixels[i] - full.pixels[i + 2]);
    assert.ok(fullReddest > 100, `the uncropped frame shows the red band (${fullReddest})`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
