// Neural-network functions (the torch.nn.functional of avid). Tuple arguments accept a number for "same in
// every dimension".
import { native } from './native.js';
import { Tensor } from './tensor.js';

type Ints = number | number[];
function expandInts(v: Ints, n: number): number[] {
  return typeof v === 'number' ? new Array(n).fill(v) : v;
}
const h = (t: Tensor | null | undefined) => (t ? t.handle : undefined);

export interface ConvOptions {
  stride?: Ints;
  padding?: Ints;
  dilation?: Ints;
  groups?: number;
}
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, o: ConvOptions = {}): Tensor {
  return new Tensor(
    native.conv2d(x.handle, weight.handle, h(bias), expandInts(o.stride ?? 1, 2), expandInts(o.padding ?? 0, 2), expandInts(o.dilation ?? 1, 2), o.groups ?? 1),
  );
}
export function conv3d(x: Tensor, weight: Tensor, bias?: Tensor | null, o: ConvOptions = {}): Tensor {
  return new Tensor(
    native.conv3d(x.handle, weight.handle, h(bias), expandInts(o.stride ?? 1, 3), expandInts(o.padding ?? 0, 3), expandInts(o.dilation ?? 1, 3), o.groups ?? 1),
  );
}
export interface BatchNormOptions {
  weight?: Tensor | null;
  bias?: Tensor | null;
  runningMean?: Tensor | null;
  runningVar?: Tensor | null;
  training: boolean;
  momentum?: number;
  eps?: number;
}
/** Batch norm; in training mode the running statistics (if given) are updated in place. */
export function batchNorm(x: Tensor, o: BatchNormOptions): Tensor {
  return new Tensor(
    native.batchNorm(x.handle, h(o.weight), h(o.bias), h(o.runningMean), h(o.runningVar), o.training, o.momentum ?? 0.1, o.eps ?? 1e-5),
  );
}
/**
 * torchvision's ColorJitter on one (3, ...) RGB clip in [0, 1], fused in one native pass per op: `order` lists
 * the ops to apply ('b'rightness, 'c'ontrast, 's'aturation, 'h'ue), the others are skipped.
 */
export function colorJitter(rgb: Tensor, p: { brightness: number; contrast: number; saturation: number; hue: number; order: string }): Tensor {
  return new Tensor(native.colorJitter(rgb.handle, p.brightness, p.contrast, p.saturation, p.hue, p.order));
}
/**
 * Decoded clips (B, T, H, W, 3) uint8 → the video network's input (B, 3, T, H, W) float32 in one native pass
 * (two when contrast is jittered): /255, each clip's colour jitter (`params` (B, 4) brightness, contrast,
 * saturation, hue; `orders` one string of 'bcsh' letters per clip), then (x − mean) / std when `meanStd`
 * (3 means, then 3 stds) is given.
 */
export function videoClipsToInput(pixels: Tensor, params: Tensor, orders: string[], meanStd?: Tensor): Tensor {
  return new Tensor(native.videoClipsToInput(pixels.handle, params.handle, orders.join(','), h(meanStd)));
}
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  return new Tensor(native.linear(x.handle, weight.handle, h(bias)));
}
export interface PoolOptions {
  stride?: Ints;
  padding?: Ints;
  dilation?: Ints;
  ceilMode?: boolean;
}
export function maxPool2d(x: Tensor, kernel: Ints, o: PoolOptions = {}): Tensor {
  return new Tensor(
    native.maxPool2d(x.handle, expandInts(kernel, 2), expandInts(o.stride ?? kernel, 2), expandInts(o.padding ?? 0, 2), expandInts(o.dilation ?? 1, 2), o.ceilMode ?? false),
  );
}
export function maxPool3d(x: Tensor, kernel: Ints, o: PoolOptions = {}): Tensor {
  return new Tensor(
    native.maxPool3d(x.handle, expandInts(kernel, 3), expandInts(o.stride ?? kernel, 3), expandInts(o.padding ?? 0, 3), expandInts(o.dilation ?? 1, 3), o.ceilMode ?? false),
  );
}
export function avgPool1d(x: Tensor, kernel: number, stride = kernel, padding = 0): Tensor {
  return new Tensor(native.avgPool1d(x.handle, [kernel], [stride], [padding], false, true));
}
export function avgPool2d(x: Tensor, kernel: Ints, stride: Ints = kernel, padding: Ints = 0): Tensor {
  return new Tensor(native.avgPool2d(x.handle, expandInts(kernel, 2), expandInts(stride, 2), expandInts(padding, 2), false, true));
}
export function avgPool3d(x: Tensor, kernel: Ints, stride: Ints = kernel, padding: Ints = 0): Tensor {
  return new Tensor(native.avgPool3d(x.handle, expandInts(kernel, 3), expandInts(stride, 3), expandInts(padding, 3), false, true));
}
export function adaptiveMaxPool2d(x: Tensor, output: Ints): Tensor {
  return new Tensor(native.adaptiveMaxPool2d(x.handle, expandInts(output, 2)));
}
export function adaptiveMaxPool3d(x: Tensor, output: Ints): Tensor {
  return new Tensor(native.adaptiveMaxPool3d(x.handle, expandInts(output, 3)));
}
export function adaptiveAvgPool2d(x: Tensor, output: Ints): Tensor {
  return new Tensor(native.adaptiveAvgPool2d(x.handle, expandInts(output, 2)));
}
export function adaptiveAvgPool3d(x: Tensor, output: Ints): Tensor {
  return new Tensor(native.adaptiveAvgPool3d(x.handle, expandInts(output, 3)));
}
export function dropout(x: Tensor, p: number, training: boolean): Tensor {
  return new Tensor(native.dropout(x.handle, p, training));
}
export function relu(x: Tensor): Tensor {
  return x.relu();
}
export function logSoftmax(x: Tensor, dim: number): Tensor {
  return new Tensor(native.logSoftmax(x.handle, dim));
}
export function softmax(x: Tensor, dim: number): Tensor {
  return new Tensor(native.softmax(x.handle, dim));
}
export type Reduction = 'none' | 'mean' | 'sum';
const reductionCode = (r: Reduction) => ({ none: 0, mean: 1, sum: 2 })[r];
/** Cross entropy of logits (N, C) against int64 class indices (N). */
export function crossEntropy(logits: Tensor, target: Tensor, o: { weight?: Tensor; reduction?: Reduction; labelSmoothing?: number } = {}): Tensor {
  return new Tensor(native.crossEntropy(logits.handle, target.handle, h(o.weight), reductionCode(o.reduction ?? 'mean'), o.labelSmoothing ?? 0));
}
export function nllLoss(logProbs: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  return new Tensor(native.nllLoss(logProbs.handle, target.handle, undefined, reductionCode(reduction)));
}
export function mseLoss(a: Tensor, b: Tensor, reduction: Reduction = 'mean'): Tensor {
  return new Tensor(native.mseLoss(a.handle, b.handle, reductionCode(reduction)));
}
export function binaryCrossEntropyWithLogits(logits: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  return new Tensor(native.bceWithLogits(logits.handle, target.handle, undefined, undefined, reductionCode(reduction)));
}
/** x / max(‖x‖_p, eps) along dim (torch.nn.functional.normalize). */
export function normalize(x: Tensor, p = 2, dim = 1, eps = 1e-12): Tensor {
  return new Tensor(native.normalize(x.handle, p, dim, eps));
}
export interface StftOptions {
  nFft: number;
  hopLength?: number;
  winLength?: number;
  window?: Tensor;
  center?: boolean;
  normalized?: boolean;
  onesided?: boolean;
}
/** Short-time Fourier transform of (B, L) or (L) signals; returns a complex64 (B, freq, frames) tensor. */
export function stft(x: Tensor, o: StftOptions): Tensor {
  return new Tensor(native.stft(x.handle, o.nFft, o.hopLength, o.winLength, h(o.window), o.center ?? true, o.normalized ?? false, o.onesided ?? true));
}
export type InterpolateMode = 'linear' | 'bilinear' | 'trilinear' | 'nearest';
/** Resizes the trailing spatial dims of (N, C, ...) to `size`. */
export function interpolate(x: Tensor, size: number[], mode: InterpolateMode, alignCorners = false): Tensor {
  return new Tensor(native.interpolate(x.handle, size, mode, alignCorners));
}
/** Pads trailing dims; `pads` lists (left, right) for the last dim first, as torch.nn.functional.pad. */
export function pad(x: Tensor, pads: number[], mode: 'constant' | 'reflect' | 'replicate' | 'circular' = 'constant', value = 0): Tensor {
  return new Tensor(native.pad(x.handle, pads, mode, mode === 'constant' ? value : undefined));
}
