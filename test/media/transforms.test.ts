import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as T from '../../src/tensor/index.js';
import {
  sampleMultiScaleCrop,
  centerCropBox,
  evaluationCropBox,
  EVAL_CROP_FRACTION,
  sampleColorJitter,
  applyColorJitter,
  applyColorJitterToClip,
  adjustHue,
  type ColorJitterParams,
  IDENTITY_COLOR_JITTER,
} from '../../src/media/video-transforms.js';
import { clipsToUnitTensor as clipsToTensor, clipsToNetworkInput, normalizeVideo } from '../../src/media/video-tensor.js';
import { assertClose } from '../helpers/compare.js';
import { audioBatch, jitteredSpectrogramBatch, sampleVolumeGain } from '../../src/media/audio-transforms.js';
import { audioSpectrogram, spectrogramConfigFor } from '../../src/media/audio-input.js';
import { Rng, rngFor } from '../../src/data/rng.js';

test('multi-scale crop: inside the frame, area ≥ 8 %, aspect within [3/4, 4/3], covering the range', () => {
  let minArea = 1;
  let maxArea = 0;
  for (let i = 0; i < 3000; i++) {
    const box = sampleMultiScaleCrop(854, 480, rngFor(1, 0, i, 'crop'));
    assert.ok(box.x >= 0 && box.y >= 0 && box.x + box.width <= 854 && box.y + box.height <= 480, JSON.stringify(box));
    assert.ok(Number.isInteger(box.x) && Number.isInteger(box.width));
    const area = (box.width * box.height) / (854 * 480);
    const aspect = box.width / box.height;
    assert.ok(area >= 0.079, `area ${area}`);
    assert.ok(aspect >= 0.74 && aspect <= 1.34 + 0.01, `aspect ${aspect}`);
    minArea = Math.min(minArea, area);
    maxArea = Math.max(maxArea, area);
  }
  assert.ok(minArea < 0.09 && maxArea > 0.5, `areas ${minArea}..${maxArea}`);
  // A frame too thin for any try falls back to a centred box with the aspect clamped to the range.
  const thin = sampleMultiScaleCrop(1000, 10, new Rng(3));
  assert.deepEqual(thin, { x: 493, y: 0, width: 13, height: 10 });
});

test('centre crop keeps the output aspect: portrait and landscape', () => {
  assert.deepEqual(centerCropBox(576, 1024, 112, 112), { x: 0, y: 224, width: 576, height: 576 });
  assert.deepEqual(centerCropBox(854, 480, 112, 112), { x: 187, y: 0, width: 480, height: 480 });
  assert.deepEqual(centerCropBox(320, 240, 160, 120), { x: 0, y: 0, width: 320, height: 240 });
});

test('evaluation crop: the central 87.5% of the centred box, as resizing the short side to crop/0.875 and centre-cropping', () => {
  // 854×480 to 112²: short side 480 → 128 (112/0.875), centre 112² of it = the central 420² source pixels.
  assert.deepEqual(evaluationCropBox(854, 480, 112, 112), { x: 217, y: 30, width: 420, height: 420 });
  assert.deepEqual(evaluationCropBox(576, 1024, 112, 112), { x: 36, y: 260, width: 504, height: 504 });
  assert.equal(EVAL_CROP_FRACTION, 0.875);
  // Brute force: for any frame, the box is the centre of the scaled frame mapped back to source pixels.
  for (const [w, h] of [[128, 128], [320, 240], [1920, 1080], [100, 300]]) {
    const side = Math.min(w, h);
    const box = evaluationCropBox(w, h, 112, 112);
    assert.ok(Math.abs(box.width - 0.875 * side) <= 0.5 && box.width === box.height, `${w}×${h}: ${JSON.stringify(box)}`);
    assert.ok(Math.abs(box.x + box.width / 2 - w / 2) <= 1 && Math.abs(box.y + box.height / 2 - h / 2) <= 1, `${w}×${h} centred`);
  }
  assert.throws(() => evaluationCropBox(0, 0, 112, 112), /frame is 0×0/);
});

test('clipsToTensor lays T×H×W×3 bytes out as (B, 3, T, H, W) in [0, 1]; ImageNet normalisation', () => {
  const before = T.memory().liveTensors;
  const [t, h, w] = [2, 3, 4];
  const clip = new Uint8Array(t * h * w * 3).map((_, i) => i % 256);
  const x = clipsToTensor([clip, clip], t, h, w);
  assert.deepEqual(x.shape, [2, 3, 2, 3, 4]);
  const data = x.toFloat32Array();
  // element [b=1, c=2, t=1, y=2, x=3] comes from byte ((1·3 + 2)·4 + 3)·3 + 2
  const byte = ((1 * 3 + 2) * 4 + 3) * 3 + 2;
  const flat = (((1 * 3 + 2) * 2 + 1) * 3 + 2) * 4 + 3;
  assert.ok(Math.abs(data[flat] - clip[byte] / 255) < 1e-7);
  const n = normalizeVideo(x);
  assert.ok(Math.abs(n.toFloat32Array()[flat] - (clip[byte] / 255 - 0.406) / 0.225) < 1e-5);
  assert.throws(() => clipsToTensor([clip.subarray(1)], t, h, w), /has 71 bytes, expected 2×3×4×3/);
  x.dispose();
  n.dispose();
  assert.equal(T.memory().liveTensors, before);
});

test('colour jitter: factor ranges, identity, brightness, saturation 0 gives grey, per-clip parameters', () => {
  const rng = new Rng(9);
  for (let i = 0; i < 500; i++) {
    const p = sampleColorJitter(rng);
    assert.ok(p.brightness >= 0.6 && p.brightness <= 1.4 && p.contrast >= 0.6 && p.contrast <= 1.4 && p.saturation >= 0.6 && p.saturation <= 1.4);
    assert.ok(p.hue >= -0.2 && p.hue <= 0.2);
    assert.deepEqual([...p.order].sort(), ['brightness', 'contrast', 'hue', 'saturation']);
  }
  const before = T.memory().liveTensors;
  T.tidy(() => {
    const batch = T.rand([2, 3, 2, 4, 4]);
    const same = applyColorJitter(batch, [IDENTITY_COLOR_JITTER, IDENTITY_COLOR_JITTER]);
    assert.deepEqual(same.toArray(), batch.toArray());
    const out = applyColorJitter(batch, [
      { ...IDENTITY_COLOR_JITTER, brightness: 0.5, order: ['brightness'] },
      { ...IDENTITY_COLOR_JITTER, saturation: 0, order: ['saturation'] },
    ]);
    const expected = batch.select(0, 0).mul(0.5);
    assert.ok(out.select(0, 0).sub(expected).abs().max().item() < 1e-6);
    const grey = out.select(0, 1);
    assert.ok(grey.select(0, 0).sub(grey.select(0, 1)).abs().max().item() < 1e-6, 'R = G after saturation 0');
    assert.ok(grey.select(0, 1).sub(grey.select(0, 2)).abs().max().item() < 1e-6, 'G = B after saturation 0');
    const contrast0 = applyColorJitterToClip(batch.select(0, 0), { ...IDENTITY_COLOR_JITTER, contrast: 0, order: ['contrast'] });
    assert.ok(contrast0.max().sub(contrast0.min()).item() < 1e-6, 'contrast 0 gives a uniform clip');
  });
  assert.equal(T.memory().liveTensors, before);
});

test('hue shift matches Python colorsys (HSV rotation) pixel by pixel', () => {
  const rng = new Rng(4);
  const n = 4096;
  const rgb = Float32Array.from({ length: 3 * n }, () => rng.float());
  for (let i = 0; i < 4; i++) rgb[i] = rgb[n + i] = rgb[2 * n + i] = 0.25 * i; // greys: hue undefined, unchanged
  // Ties for the maximum (red = green, green = blue, red = blue) and quantised values, as decoded frames have.
  for (let i = 4; i < 64; i++) rgb[(i % 3) * n + i] = rgb[((i + 1) % 3) * n + i];
  for (let i = 64; i < 256; i++) for (let c = 0; c < 3; c++) rgb[c * n + i] = Math.round(rgb[c * n + i] * 255) / 255;
  const shift = 0.13;
  const script = `
import colorsys, json, sys
rgb = json.loads(sys.stdin.read()); n = len(rgb) // 3; out = []
for i in range(n):
    h, s, v = colorsys.rgb_to_hsv(rgb[i], rgb[n + i], rgb[2 * n + i])
    out.append(colorsys.hsv_to_rgb((h + ${shift}) % 1.0, s, v))
print(json.dumps([p[c] for c in range(3) for p in out]))`;
  const expected = JSON.parse(execFileSync('python3', ['-c', script], { input: JSON.stringify(Array.from(rgb)), encoding: 'utf8' })) as number[];
  const ours = T.tidy(() => adjustHue(T.tensor(rgb, [3, 1, 1, n]), shift).toArray());
  let maxDiff = 0;
  ours.forEach((v, i) => (maxDiff = Math.max(maxDiff, Math.abs(v - expected[i]))));
  assert.ok(maxDiff < 1e-5, `max diff ${maxDiff}`);
});

test('hue shift: any (3, ...) shape, no tensor left behind, a clear error for a tensor that is not RGB', () => {
  const before = T.memory().liveTensors;
  T.tidy(() => {
    const clip = T.rand([3, 2, 5, 7]);
    const shifted = adjustHue(clip, 0.25);
    assert.deepEqual(shifted.shape, [3, 2, 5, 7]);
    // A full turn (and none) gives the clip back.
    assert.ok(adjustHue(clip, 1).sub(clip).abs().max().item() < 1e-5);
    assert.ok(adjustHue(clip, 0).sub(clip).abs().max().item() < 1e-5);
    assert.throws(() => adjustHue(T.rand([4, 2, 2]), 0.1), /colorJitter: expected a \(3, \.\.\.\) RGB tensor, got shape \[4, 2, 2\]/);
  });
  assert.equal(T.memory().liveTensors, before);
});

test('duration jitter rescales the spectrogram in time: the pitch stays, the timing scales, exact windows and gains pass through', () => {
  const before = T.memory().liveTensors;
  const sampleRate = 8000;
  const settings = { sampleRate, windowSeconds: 0.032, hopSeconds: 0.016, freqBins: 129 };
  const spectrogramOf = (w: T.Tensor) => audioSpectrogram(w, spectrogramConfigFor(settings));
  const target = 2 * sampleRate;
  // A 1 kHz tone that starts halfway through a 2.8 s window, and the same tone filling an exact 2 s window.
  const long = Float32Array.from({ length: Math.round(2.8 * sampleRate) }, (_, i) => (i >= 1.4 * sampleRate ? Math.sin((2 * Math.PI * 1000 * i) / sampleRate) : 0));
  const exact = Float32Array.from({ length: target }, (_, i) => Math.sin((2 * Math.PI * 1000 * i) / sampleRate));
  T.tidy(() => {
    const batch = jitteredSpectrogramBatch([long, exact], target, [1, 0.5], spectrogramOf);
    const plain = spectrogramOf(T.tensor(exact, [1, target]).mul(0.5));
    assert.deepEqual(batch.shape, plain.shape.map((d, i) => (i === 0 ? 2 : d)));
    const frames = batch.size(2);
    assertClose(batch.narrow(0, 1, 1), plain, 'an exact-length window with its gain is the plain spectrogram', { rtol: 1e-6 });
    // Pitch: the rescaled window peaks in the same frequency bin as the exact one (1 kHz: bin 32 of 129 at 8 kHz).
    const peakBin = (spec: T.Tensor, frame: number) => spec.select(2, frame).reshape([-1]).argmax().item();
    const lastFrame = frames - 2;
    assert.equal(peakBin(batch.narrow(0, 0, 1), lastFrame), peakBin(plain, lastFrame));
    assert.equal(peakBin(plain, lastFrame), 32);
    // Resampling the waveform (the old jitter) would have moved the tone to 1.4 kHz: bin 45.
    const resampled = T.functional.interpolate(T.tensor(long, [1, 1, long.length]), [target], 'linear', false).reshape([1, target]);
    assert.equal(peakBin(spectrogramOf(resampled), lastFrame), 45);
    // Timing: the onset at half the window lands at half the frames (quiet before, loud after).
    const energy = batch.narrow(0, 0, 1).select(3, 32).reshape([-1]).toArray();
    const half = Math.round(frames / 2);
    assert.ok(energy[half - 4] < energy[half + 4] - 5, `onset near frame ${half}: ${energy[half - 4]} vs ${energy[half + 4]}`);
    assert.ok(energy.slice(0, half - 3).every((e) => e < energy[frames - 2] - 5), 'silence before the onset');
  });
  assert.throws(() => audioBatch([new Float32Array(10)], 12), /waveform 0 has 10 samples, expected 12/);
  assert.equal(T.memory().liveTensors, before);
  const rng = new Rng(2);
  for (let i = 0; i < 200; i++) {
    const g = sampleVolumeGain(rng);
    assert.ok(g >= 0.9 && g <= 1.1);
  }
  assert.equal(sampleVolumeGain(rng, { volumeRange: null }), 1);
});

// The element-wise formulation of torchvision's ColorJitter that the fused native kernel replaced, kept as the
// oracle: every op, every order, the same values within float32 rounding.
function elementWiseJitter(clip: T.Tensor, p: ColorJitterParams): T.Tensor {
  const grayscale = (x: T.Tensor) => {
    const [r, g, b] = x.unbind(0);
    return r.mul(0.299).add(g.mul(0.587)).add(b.mul(0.114)).unsqueeze(0);
  };
  const blend = (a: T.Tensor, b: T.Tensor, ratio: number) => a.mul(ratio).add(b.mul(1 - ratio)).clamp(0, 1);
  let x = clip;
  for (const op of p.order) {
    if (op === 'brightness') x = x.mul(p.brightness).clamp(0, 1);
    else if (op === 'contrast') x = blend(x, grayscale(x).mean(), p.contrast);
    else if (op === 'saturation') x = blend(x, grayscale(x), p.saturation);
    else x = adjustHue(x, p.hue);
  }
  return x;
}

test('fused colour jitter equals the element-wise ops for random draws and orders; bad op letters are refused', () => {
  const before = T.memory().liveTensors;
  const rng = new Rng(11);
  T.tidy(() => {
    const clip = T.rand([3, 4, 9, 11]);
    for (let trial = 0; trial < 12; trial++) {
      const params = sampleColorJitter(rng);
      const fused = applyColorJitterToClip(clip, params);
      const diff = fused.sub(elementWiseJitter(clip, params)).abs().max().item();
      assert.ok(diff < 2e-5, `trial ${trial} (${params.order.join(',')}): max diff ${diff}`);
    }
    assert.throws(() => T.functional.colorJitter(clip, { brightness: 1, contrast: 1, saturation: 1, hue: 0, order: 'x' }), /unknown op 'x'/);
  });
  assert.equal(T.memory().liveTensors, before);
});

test('clipsToNetworkInput (one fused pass) equals normalizeVideo(applyColorJitter(clipsToUnitTensor(...))) within 1e-5', () => {
  const before = T.memory().liveTensors;
  const rng = new Rng(23);
  const [t, h, w] = [3, 7, 9];
  // Real-looking clips: every byte value, flat regions (ties in max/min channels, grey pixels) and noise.
  const clips = Array.from({ length: 6 }, (_, c) =>
    Uint8Array.from({ length: t * h * w * 3 }, (_, i) => (c === 0 ? i % 256 : c === 1 ? 128 : c === 2 ? (i % 3 === 0 ? 200 : 200 - (i % 2) * 50) : Math.floor(rng.uniform(0, 256)))),
  );
  T.tidy(() => {
    for (let trial = 0; trial < 8; trial++) {
      // Every clip its own draw; one clip left unjittered, as a batch may mix them.
      const jitter = clips.map((_, i) => (i === trial % clips.length ? IDENTITY_COLOR_JITTER : sampleColorJitter(rng)));
      const fused = clipsToNetworkInput(clips, t, h, w, jitter);
      const composed = normalizeVideo(applyColorJitter(clipsToTensor(clips, t, h, w), jitter));
      assert.deepEqual(fused.shape, [clips.length, 3, t, h, w]);
      const diff = fused.sub(composed).abs().max().item();
      assert.ok(diff < 1e-5, `trial ${trial} (${jitter.map((j) => j.order.map((o) => o[0]).join('')).join(',')}): max diff ${diff}`);
    }
    // Every order with contrast in each position (the two-pass case), against the same composition.
    for (const order of [['contrast', 'brightness', 'saturation', 'hue'], ['hue', 'contrast', 'saturation'], ['brightness', 'saturation', 'hue', 'contrast']] as ColorJitterParams['order'][]) {
      const j: ColorJitterParams = { brightness: 1.3, contrast: 0.7, saturation: 1.35, hue: -0.17, order };
      const jitter = clips.map(() => j);
      const diff = clipsToNetworkInput(clips, t, h, w, jitter).sub(normalizeVideo(applyColorJitter(clipsToTensor(clips, t, h, w), jitter))).abs().max().item();
      assert.ok(diff < 1e-5, `${order.join(',')}: max diff ${diff}`);
    }
    // No jitter, and no normalisation.
    assert.equal(clipsToNetworkInput(clips, t, h, w, null).sub(normalizeVideo(clipsToTensor(clips, t, h, w))).abs().max().item() < 1e-6, true);
    assert.equal(clipsToNetworkInput(clips, t, h, w, null, false).sub(clipsToTensor(clips, t, h, w)).abs().max().item(), 0);
    assert.throws(() => clipsToNetworkInput([clips[0].subarray(1)], t, h, w, null), /has 566 bytes, expected 3×7×9×3/);
    assert.throws(() => clipsToNetworkInput(clips, t, h, w, [IDENTITY_COLOR_JITTER]), /1 colour-jitter draws for 6 clips/);
    assert.throws(() => T.functional.videoClipsToInput(T.zeros([1, 1, 1, 1, 3], { dtype: 'uint8' }), T.ones([1, 4], { dtype: 'float64' }), ['x']), /unknown op 'x'/);
    assert.throws(() => T.functional.videoClipsToInput(T.zeros([1, 1, 1, 1, 3]), T.ones([1, 4], { dtype: 'float64' }), ['']), /expected \(B, T, H, W, 3\) uint8 pixels/);
  });
  assert.equal(T.memory().liveTensors, before);
});
