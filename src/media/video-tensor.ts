// Decoded RGB clips (T×H×W×3 uint8) to the video network's input: (B, 3, T, H, W) float32 normalised with
// ImageNet's per-channel mean and std (the normalisation of the reference's video transforms).
import * as T from '../tensor/index.js';
import { jitterOrderLetters, type ColorJitterParams } from './video-transforms.js';

export const VIDEO_MEAN = [0.485, 0.456, 0.406];
export const VIDEO_STD = [0.229, 0.224, 0.225];

/** Stacks clips into (B, 3, T, H, W) floats in [0, 1] (not yet normalised: colour jitter works on these). */
export function clipsToUnitTensor(clips: Uint8Array[], frames: number, height: number, width: number): T.Tensor {
  const pixels = new Uint8Array(clips.length * frames * height * width * 3);
  clips.forEach((c, i) => {
    if (c.length !== frames * height * width * 3) throw new Error(`clip ${i} has ${c.length} bytes, expected ${frames}×${height}×${width}×3`);
    pixels.set(c, i * c.length);
  });
  return T.tidy(() => T.tensor(pixels, [clips.length, frames, height, width, 3]).permute([0, 4, 1, 2, 3]).to('float32').div(255));
}

/**
 * Decoded clips straight to the network's input, (B, 3, T, H, W) float32: the same values as
 * normalizeVideo(applyColorJitter(clipsToUnitTensor(...), jitter)) (or without the jitter, or without the
 * normalisation when `normalize` is false), computed by one fused native kernel that reads the uint8 pixels
 * once and writes each output value once (a second pass only for a clip whose jitter includes contrast,
 * which needs the clip's mean luma). Written with tensor ops this was 8 to 12 passes over float copies and
 * most of the loader's CPU time per clip on prepared files.
 */
export function clipsToNetworkInput(clips: Uint8Array[], frames: number, height: number, width: number, jitter: ColorJitterParams[] | null, normalize = true): T.Tensor {
  const clipBytes = frames * height * width * 3;
  if (jitter && jitter.length !== clips.length) throw new Error(`clipsToNetworkInput: ${jitter.length} colour-jitter draws for ${clips.length} clips`);
  const pixels = new Uint8Array(clips.length * clipBytes);
  clips.forEach((c, i) => {
    if (c.length !== clipBytes) throw new Error(`clip ${i} has ${c.length} bytes, expected ${frames}×${height}×${width}×3`);
    pixels.set(c, i * clipBytes);
  });
  const params = new Float64Array(clips.length * 4);
  const orders = clips.map((_, i) => {
    const p = jitter?.[i];
    if (!p) {
      params.set([1, 1, 1, 0], i * 4);
      return '';
    }
    params.set([p.brightness, p.contrast, p.saturation, p.hue], i * 4);
    return jitterOrderLetters(p);
  });
  return T.tidy(() =>
    T.functional.videoClipsToInput(
      T.tensor(pixels, [clips.length, frames, height, width, 3]),
      T.tensor(params, [clips.length, 4], 'float64'),
      orders,
      normalize ? T.tensor(Float32Array.from([...VIDEO_MEAN, ...VIDEO_STD]), [6]) : undefined,
    ),
  );
}

/** (B, 3, T, H, W) in [0, 1] → normalised, contiguous. */
export function normalizeVideo(video: T.Tensor): T.Tensor {
  return T.tidy(() => video.sub(T.tensor(Float32Array.from(VIDEO_MEAN), [1, 3, 1, 1, 1])).div(T.tensor(Float32Array.from(VIDEO_STD), [1, 3, 1, 1, 1])).contiguous());
}

/** The inverse of normalizeVideo, for rendering (Grad-CAM overlays). */
export function denormalizeVideo(video: T.Tensor): T.Tensor {
  return T.tidy(() => video.mul(T.tensor(Float32Array.from(VIDEO_STD), [1, 3, 1, 1, 1])).add(T.tensor(Float32Array.from(VIDEO_MEAN), [1, 3, 1, 1, 1])).clamp(0, 1));
}
