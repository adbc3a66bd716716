// Video augmentations of the papers' pre-training (PAPERS.md, "Video preprocessing"):
// - multi-scale random crop (area ≥ 8% of the frame, aspect jitter) and horizontal flip p = 0.5: only the
//   box and the coin are drawn here; ffmpeg applies them in the decode pass, on full-resolution frames,
//   so no full-size frame ever reaches JavaScript;
// - colour jitter (brightness 0.4, contrast 0.4, saturation 0.4, hue 0.2), with tensor ops on the float
//   batch (B, 3, T, H, W), the same for every frame of a clip;
// - temporal jitter is the random clip start (media/clip-sampling.ts), continuous in time, so the phase of
//   the sampled frames relative to the source frames varies too;
// - ImageNet mean/std normalisation: media/video-tensor.ts.
import * as T from '../tensor/index.js';
import type { CropBox } from './decode.js';
import type { UniformSource } from './clip-sampling.js';

export interface MultiScaleCropConfig {
  /** Smallest crop area as a fraction of the frame (0.08). */
  minAreaFraction: number;
  /** Largest (1.0). */
  maxAreaFraction: number;
  /** Aspect ratio (width / height) range, drawn log-uniformly ([3/4, 4/3]). */
  aspectRange: [number, number];
}

export const DEFAULT_MULTI_SCALE_CROP: MultiScaleCropConfig = { minAreaFraction: 0.08, maxAreaFraction: 1, aspectRange: [3 / 4, 4 / 3] };

/**
 * A random crop box (torchvision's RandomResizedCrop rule): area fraction uniform in [min, max], aspect
 * log-uniform; up to 10 tries for a box that fits, else the central crop of the largest box with the
 * aspect clamped to the range. Integer pixel coordinates in the displayed frame.
 */
export function sampleMultiScaleCrop(width: number, height: number, rng: UniformSource, config: MultiScaleCropConfig = DEFAULT_MULTI_SCALE_CROP): CropBox {
  const area = width * height;
  const [minAspect, maxAspect] = config.aspectRange;
  const logMin = Math.log(minAspect);
  const logMax = Math.log(maxAspect);
  for (let attempt = 0; attempt < 10; attempt++) {
    const targetArea = area * rng.uniform(config.minAreaFraction, config.maxAreaFraction);
    const aspect = Math.exp(rng.uniform(logMin, logMax));
    const w = Math.round(Math.sqrt(targetArea * aspect));
    const h = Math.round(Math.sqrt(targetArea / aspect));
    if (w >= 1 && h >= 1 && w <= width && h <= height) {
      const x = Math.floor(rng.uniform(0, width - w + 1));
      const y = Math.floor(rng.uniform(0, height - h + 1));
      return { x: Math.min(x, width - w), y: Math.min(y, height - h), width: w, height: h };
    }
  }
  const frameAspect = width / height;
  let w = width;
  let h = height;
  if (frameAspect < minAspect) h = Math.round(w / minAspect);
  else if (frameAspect > maxAspect) w = Math.round(h * maxAspect);
  return { x: Math.floor((width - w) / 2), y: Math.floor((height - h) / 2), width: w, height: h };
}

/** The largest centred box with the output's aspect ratio (no distortion): training's crop when crops are off. */
export function centerCropBox(width: number, height: number, outWidth: number, outHeight: number): CropBox {
  const outAspect = outWidth / outHeight;
  let w = width;
  let h = Math.round(width / outAspect);
  if (h > height) {
    h = height;
    w = Math.round(height * outAspect);
  }
  w = Math.max(1, Math.min(w, width));
  h = Math.max(1, Math.min(h, height));
  return { x: Math.floor((width - w) / 2), y: Math.floor((height - h) / 2), width: w, height: h };
}

/**
 * The share of the frame's short side that the evaluation crop keeps: the reference resizes the short side to
 * crop/0.875 and takes the centre crop, i.e. the central 87.5% of the largest centred box.
 */
export const EVAL_CROP_FRACTION = 0.875;

/** The evaluation crop in source pixels: the centred box of centerCropBox shrunk to EVAL_CROP_FRACTION. */
export function evaluationCropBox(width: number, height: number, outWidth: number, outHeight: number): CropBox {
  if (!(width >= 1 && height >= 1)) throw new Error(`evaluation crop: the frame is ${width}×${height}, expected at least 1×1 pixels`);
  const full = centerCropBox(width, height, outWidth, outHeight);
  const w = Math.max(1, Math.round(full.width * EVAL_CROP_FRACTION));
  const h = Math.max(1, Math.round(full.height * EVAL_CROP_FRACTION));
  return { x: Math.floor((width - w) / 2), y: Math.floor((height - h) / 2), width: w, height: h };
}

export interface ColorJitterConfig {
  brightness: number;
  contrast: number;
  saturation: number;
  hue: number;
}

export const DEFAULT_COLOR_JITTER: ColorJitterConfig = { brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.2 };

export type ColorOp = 'brightness' | 'contrast' | 'saturation' | 'hue';

/** One clip's draw: multiplicative factors (1 = unchanged), a hue shift in turns, and the order of the ops. */
export interface ColorJitterParams {
  brightness: number;
  contrast: number;
  saturation: number;
  hue: number;
  order: ColorOp[];
}

export const IDENTITY_COLOR_JITTER: ColorJitterParams = { brightness: 1, contrast: 1, saturation: 1, hue: 0, order: [] };

/** Draws factors as torchvision's ColorJitter: U(max(0, 1 − s), 1 + s) and hue U(−h, h); random order. */
export function sampleColorJitter(rng: UniformSource, config: ColorJitterConfig = DEFAULT_COLOR_JITTER): ColorJitterParams {
  if (!(config.hue >= 0 && config.hue <= 0.5)) throw new Error(`colour jitter: hue must be in [0, 0.5], got ${config.hue}`);
  const factor = (s: number) => (s > 0 ? rng.uniform(Math.max(0, 1 - s), 1 + s) : 1);
  const params = {
    brightness: factor(config.brightness),
    contrast: factor(config.contrast),
    saturation: factor(config.saturation),
    hue: config.hue > 0 ? rng.uniform(-config.hue, config.hue) : 0,
  };
  const ops: ColorOp[] = ['brightness', 'contrast', 'saturation', 'hue'];
  for (let i = ops.length - 1; i > 0; i--) {
    const j = Math.min(i, Math.floor(rng.uniform(0, i + 1)));
    [ops[i], ops[j]] = [ops[j], ops[i]];
  }
  const active = ops.filter((op) => (op === 'hue' ? params.hue !== 0 : params[op] !== 1));
  return { ...params, order: active };
}

const OP_LETTER: Record<ColorOp, string> = { brightness: 'b', contrast: 'c', saturation: 's', hue: 'h' };

/** The order of a draw's ops as the native kernels take it: one letter per op ('b', 'c', 's', 'h'). */
export function jitterOrderLetters(params: ColorJitterParams): string {
  return params.order.map((op) => OP_LETTER[op]).join('');
}

/**
 * Hue rotation by `shift` turns in HSV space (torchvision's adjust_hue), on a (3, ...) tensor in [0, 1].
 */
export function adjustHue(clip: T.Tensor, shift: number): T.Tensor {
  return T.functional.colorJitter(clip, { brightness: 1, contrast: 1, saturation: 1, hue: shift, order: 'h' });
}

/**
 * Applies one clip's jitter to a (3, T, H, W) float tensor in [0, 1]; statistics are over the whole clip. A
 * fused native kernel (one pass per op): written with element-wise tensor ops the jitter took about 50 passes
 * over the clip and most of the loader's CPU time per clip.
 */
export function applyColorJitterToClip(clip: T.Tensor, params: ColorJitterParams): T.Tensor {
  return T.functional.colorJitter(clip, { ...params, order: jitterOrderLetters(params) });
}

/** Colour jitter of a (B, 3, T, H, W) batch in [0, 1], one parameter set per clip. Returns a new tensor. */
export function applyColorJitter(batch: T.Tensor, params: ColorJitterParams[]): T.Tensor {
  const [b] = batch.shape;
  if (params.length !== b) throw new Error(`applyColorJitter: ${params.length} parameter sets for a batch of ${b}`);
  return T.tidy(() => T.stack(batch.unbind(0).map((clip, i) => applyColorJitterToClip(clip, params[i])), 0));
}
