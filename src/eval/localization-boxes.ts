// The sounding object's ground-truth box seen through the evaluation crop. Localisation feeds the network the
// same view as every other evaluation (the central 87.5%: media/video-transforms.ts evaluationCropBox, resized
// to the network's square input), so a box given in the source frame's pixels must be moved into the crop,
// scaled to the network's pixels, and cut at the crop's edges. A box wholly outside the crop cannot be hit by
// any heatmap peak: it is reported as outside, not scored and not drawn.
import type { CropBox } from '../media/decode.js';

export type Box = [number, number, number, number];

export interface BoxInCrop {
  /** [x, y, w, h] in the network input's pixels (outSize × outSize), cut to the crop: what peakInBox scores. */
  pixels: Box;
  /** The same box as fractions of the cropped frame (what the report draws over the overlay frames). */
  fractions: Box;
}

/**
 * `box` [x, y, w, h] in source-frame pixels, seen through `crop` (source pixels) resized to outWidth × outHeight;
 * null when no part of it lies inside the crop (a box touching the crop's edge only, zero area, counts as outside).
 */
export function boxInCrop(box: readonly number[], crop: CropBox, outWidth: number, outHeight: number): BoxInCrop | null {
  if (box.length !== 4 || box.some((v) => !Number.isFinite(v)) || box[2] < 0 || box[3] < 0) {
    throw new Error(`ground-truth box: expected [x, y, w, h] with finite values and w, h ≥ 0, got ${JSON.stringify(box)}`);
  }
  const [x, y, w, h] = box;
  const x0 = Math.max(x, crop.x);
  const y0 = Math.max(y, crop.y);
  const x1 = Math.min(x + w, crop.x + crop.width);
  const y1 = Math.min(y + h, crop.y + crop.height);
  if (x1 <= x0 || y1 <= y0) return null;
  const fx = (v: number) => (v - crop.x) / crop.width;
  const fy = (v: number) => (v - crop.y) / crop.height;
  const fractions: Box = [fx(x0), fy(y0), (x1 - x0) / crop.width, (y1 - y0) / crop.height];
  const pixels: Box = [fractions[0] * outWidth, fractions[1] * outHeight, fractions[2] * outWidth, fractions[3] * outHeight];
  return { pixels, fractions };
}
