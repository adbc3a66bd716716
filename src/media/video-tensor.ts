// Decoded RGB clips (T×H×W×3 uint8) to the video network's input: (B, 3, T, H, W) float32 normalised with
// ImageNet's per-channel mean and std (the normalisation of the reference's video transforms).
import * as T from '../tensor/index.js';

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

/** (B, 3, T, H, W) in [0, 1] → normalised, contiguous. */
export function normalizeVideo(video: T.Tensor): T.Tensor {
  return T.tidy(() => video.sub(T.tensor(Float32Array.from(VIDEO_MEAN), [1, 3, 1, 1, 1])).div(T.tensor(Float32Array.from(VIDEO_STD), [1, 3, 1, 1, 1])).contiguous());
}

/** The inverse of normalizeVideo, for rendering (Grad-CAM overlays). */
export function denormalizeVideo(video: T.Tensor): T.Tensor {
  return T.tidy(() => video.mul(T.tensor(Float32Array.from(VIDEO_STD), [1, 3, 1, 1, 1])).add(T.tensor(Float32Array.from(VIDEO_MEAN), [1, 3, 1, 1, 1])).clamp(0, 1));
}
