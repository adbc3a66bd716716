// Localisation heatmaps as images: a coarse score map (e.g. Grad-CAM over a video encoder's last block)
// upsampled onto the frame, coloured, blended, with the sounding object's box drawn on top. Writers call this
// to produce the PNGs that results/localization.json names.
import { encodePng } from './png.js';

export interface Box {
  /** Pixel coordinates in the frame: left, top, right, bottom (inclusive). */
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

export interface HeatmapOverlay {
  /** The frame, width × height × 3 bytes RGB, top row first. */
  frame: Uint8Array;
  width: number;
  height: number;
  /** The scores, heatWidth × heatHeight, row-major; any range (normalised to [0, 1] here). */
  heat: ArrayLike<number>;
  heatWidth: number;
  heatHeight: number;
  /** The ground-truth box of the sounding object, drawn as an outline. */
  box?: Box;
  /** How strongly the hottest places cover the frame (default 0.6). */
  opacity?: number;
}

// A perceptually ordered ramp (dark blue → cyan → green → yellow → red), linear between stops.
const RAMP: Array<[number, number, number]> = [[30, 20, 110], [30, 150, 220], [60, 190, 90], [250, 220, 40], [230, 40, 30]];

export function heatColour(t: number): [number, number, number] {
  const x = Math.max(0, Math.min(1, Number.isFinite(t) ? t : 0)) * (RAMP.length - 1);
  const i = Math.min(RAMP.length - 2, Math.floor(x));
  const f = x - i;
  return [0, 1, 2].map((c) => RAMP[i][c] + (RAMP[i + 1][c] - RAMP[i][c]) * f) as [number, number, number];
}

/** Bilinear upsampling of the score map to the frame, aligned by pixel centres. */
function upsample(heat: ArrayLike<number>, hw: number, hh: number, width: number, height: number): Float32Array {
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const sy = Math.max(0, Math.min(hh - 1, ((y + 0.5) * hh) / height - 0.5));
    const y0 = Math.floor(sy);
    const y1 = Math.min(hh - 1, y0 + 1);
    const fy = sy - y0;
    for (let x = 0; x < width; x++) {
      const sx = Math.max(0, Math.min(hw - 1, ((x + 0.5) * hw) / width - 0.5));
      const x0 = Math.floor(sx);
      const x1 = Math.min(hw - 1, x0 + 1);
      const fx = sx - x0;
      const top = heat[y0 * hw + x0] * (1 - fx) + heat[y0 * hw + x1] * fx;
      const bottom = heat[y1 * hw + x0] * (1 - fx) + heat[y1 * hw + x1] * fx;
      out[y * width + x] = top * (1 - fy) + bottom * fy;
    }
  }
  return out;
}

/** The overlay as RGB bytes (width × height × 3). */
export function renderHeatmapOverlay(options: HeatmapOverlay): Uint8Array {
  const { frame, width, height, heat, heatWidth, heatHeight } = options;
  if (frame.length !== width * height * 3) throw new Error(`heatmap: frame has ${frame.length} bytes, expected ${width * height * 3} for ${width} × ${height} RGB`);
  if (heat.length !== heatWidth * heatHeight) throw new Error(`heatmap: heat has ${heat.length} values, expected ${heatWidth} × ${heatHeight}`);
  const opacity = options.opacity ?? 0.6;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < heat.length; i++) {
    if (!Number.isFinite(heat[i])) continue;
    lo = Math.min(lo, heat[i]);
    hi = Math.max(hi, heat[i]);
  }
  const span = hi > lo ? hi - lo : 1;
  const normalised = Float32Array.from({ length: heat.length }, (_, i) => (Number.isFinite(heat[i]) ? (heat[i] - (lo === Infinity ? 0 : lo)) / span : 0));
  const scores = upsample(normalised, heatWidth, heatHeight, width, height);
  const out = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) {
    const t = scores[p];
    const colour = heatColour(t);
    // Cold places stay mostly visible; hot places take the heat colour.
    const alpha = opacity * (0.25 + 0.75 * t);
    for (let c = 0; c < 3; c++) out[p * 3 + c] = Math.round(frame[p * 3 + c] * (1 - alpha) + colour[c] * alpha);
  }
  if (options.box) drawBox(out, width, height, options.box);
  return out;
}

function drawBox(rgb: Uint8Array, width: number, height: number, box: Box): void {
  const clampX = (v: number) => Math.max(0, Math.min(width - 1, Math.round(v)));
  const clampY = (v: number) => Math.max(0, Math.min(height - 1, Math.round(v)));
  const [x0, x1, y0, y1] = [clampX(Math.min(box.x0, box.x1)), clampX(Math.max(box.x0, box.x1)), clampY(Math.min(box.y0, box.y1)), clampY(Math.max(box.y0, box.y1))];
  const set = (x: number, y: number) => rgb.set([255, 255, 255], (y * width + x) * 3);
  for (let x = x0; x <= x1; x++) {
    set(x, y0);
    set(x, y1);
  }
  for (let y = y0; y <= y1; y++) {
    set(x0, y);
    set(x1, y);
  }
}

/** The overlay as a PNG file's bytes. */
export function heatmapOverlayPng(options: HeatmapOverlay): Buffer {
  return encodePng(options.width, options.height, renderHeatmapOverlay(options));
}
