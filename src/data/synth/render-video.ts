// Renders the frames of a scene into rgb24 buffers: a textured background seen through the shot's camera,
// per-frame pixel noise, the distractor, then the sounding object on top (so its box is always its visible
// extent). Everything works on typed arrays; nothing is allocated per pixel.
import { objectState } from './motion.js';
import { deriveSeed, Rng } from './prng.js';
import type { BackgroundSpec, CameraSpec, ObjectSpec, SceneSpec, ShotSpec } from './scene.js';
import { shapeExtent, signedDistance } from './shapes.js';

/** A box in pixels: left, top, width, height. */
export type Box = [number, number, number, number];

/** How far toward white an object goes on the frame of its event. */
const FLASH_WHITENESS = 0.6;
/** The background canvas reaches this far (fractions of the frame) beyond each side of the frame. */
const CANVAS_MARGIN = 0.25;

const NOISE_TABLE_BITS = 17;
let noiseTable: Float32Array | null = null;

/** Standard normals shared by all frames; each frame reads a window at its own (seeded) offset. */
function sharedNoise(): Float32Array {
  if (!noiseTable) {
    const rng = new Rng(deriveSeed('avid-synth-pixel-noise'));
    noiseTable = new Float32Array(1 << NOISE_TABLE_BITS);
    for (let i = 0; i < noiseTable.length; i++) noiseTable[i] = rng.normal();
  }
  return noiseTable;
}

/** Smoothly interpolated random values in [-1, 1] on a grid of `cellsPerFrame` cells per frame width. */
function valueNoise(rng: Rng, cellsPerFrame: number, size: number, canvasSize: number, out: Float32Array, amplitude: number): void {
  const nodesPerSide = Math.ceil((canvasSize / size) * cellsPerFrame) + 2;
  const nodes = new Float32Array(nodesPerSide * nodesPerSide);
  for (let i = 0; i < nodes.length; i++) nodes[i] = rng.range(-1, 1);
  const scale = cellsPerFrame / size;
  for (let y = 0; y < canvasSize; y++) {
    const gy = (y + 0.5) * scale;
    const iy = Math.floor(gy);
    let fy = gy - iy;
    fy = fy * fy * (3 - 2 * fy);
    for (let x = 0; x < canvasSize; x++) {
      const gx = (x + 0.5) * scale;
      const ix = Math.floor(gx);
      let fx = gx - ix;
      fx = fx * fx * (3 - 2 * fx);
      const n = iy * nodesPerSide + ix;
      const top = nodes[n] + (nodes[n + 1] - nodes[n]) * fx;
      const bottom = nodes[n + nodesPerSide] + (nodes[n + nodesPerSide + 1] - nodes[n + nodesPerSide]) * fx;
      out[y * canvasSize + x] += amplitude * (top + (bottom - top) * fy);
    }
  }
}

/** The background canvas, rgb float, covering the frame plus CANVAS_MARGIN on each side. */
function renderCanvas(bg: BackgroundSpec, size: number): { canvas: Float32Array; canvasSize: number } {
  const canvasSize = Math.round(size * (1 + 2 * CANVAS_MARGIN));
  const n = canvasSize * canvasSize;
  const rng = new Rng(bg.textureSeed);
  const blend = new Float32Array(n);
  valueNoise(rng, 2.5, size, canvasSize, blend, 1);
  const luminance = new Float32Array(n);
  valueNoise(rng, 6, size, canvasSize, luminance, bg.coarseAmplitude);
  valueNoise(rng, 20, size, canvasSize, luminance, bg.fineAmplitude);
  const kx = (2 * Math.PI * bg.gratingFrequency * Math.cos(bg.gratingAngle)) / size;
  const ky = (2 * Math.PI * bg.gratingFrequency * Math.sin(bg.gratingAngle)) / size;
  const canvas = new Float32Array(n * 3);
  for (let y = 0; y < canvasSize; y++) {
    for (let x = 0; x < canvasSize; x++) {
      const i = y * canvasSize + x;
      const mix = 0.5 + 0.5 * blend[i];
      const lum = luminance[i] + bg.gratingAmplitude * Math.sin(kx * x + ky * y + bg.gratingPhase);
      for (let c = 0; c < 3; c++) canvas[i * 3 + c] = bg.colourA[c] + (bg.colourB[c] - bg.colourA[c]) * mix + lum;
    }
  }
  return { canvas, canvasSize };
}

/** Frame position (fraction of the frame) of a scene point seen through a camera. */
function toFrame(w: number, zoom: number, shift: number): number {
  return (w - 0.5) * zoom + 0.5 + shift;
}

/** What the camera of one shot sees of the background: rgb float, size x size, bilinear. */
function backgroundView(canvas: Float32Array, canvasSize: number, bg: BackgroundSpec, camera: CameraSpec, size: number): Float32Array {
  const view = new Float32Array(size * size * 3);
  const max = canvasSize - 1;
  for (let v = 0; v < size; v++) {
    const wy = ((v + 0.5) / size - 0.5 - camera.shiftY) / camera.zoom + 0.5 + bg.offsetY;
    const cy = Math.min(max, Math.max(0, (wy + CANVAS_MARGIN) * size - 0.5));
    const y0 = Math.min(max - 1, Math.floor(cy));
    const fy = cy - y0;
    for (let u = 0; u < size; u++) {
      const wx = ((u + 0.5) / size - 0.5 - camera.shiftX) / camera.zoom + 0.5 + bg.offsetX;
      const cx = Math.min(max, Math.max(0, (wx + CANVAS_MARGIN) * size - 0.5));
      const x0 = Math.min(max - 1, Math.floor(cx));
      const fx = cx - x0;
      const a = (y0 * canvasSize + x0) * 3;
      const b = a + 3;
      const c = a + canvasSize * 3;
      const d = c + 3;
      const o = (v * size + u) * 3;
      for (let k = 0; k < 3; k++) {
        const top = canvas[a + k] + (canvas[b + k] - canvas[a + k]) * fx;
        const bottom = canvas[c + k] + (canvas[d + k] - canvas[c + k]) * fx;
        view[o + k] = (top + (bottom - top) * fy) * camera.gain + camera.tint[k];
      }
    }
  }
  return view;
}

interface PlacedObject {
  cx: number;
  cy: number;
  r: number;
  flash: number;
}

function placeObject(obj: ObjectSpec, camera: CameraSpec, size: number, t: number): PlacedObject {
  const state = objectState(obj.motion, obj.events, t);
  return {
    cx: toFrame(state.x, camera.zoom, camera.shiftX) * size,
    cy: toFrame(state.y, camera.zoom, camera.shiftY) * size,
    r: obj.radius * state.scale * camera.zoom * size,
    flash: state.flash,
  };
}

function boxOf(obj: ObjectSpec, placed: PlacedObject, size: number): Box {
  const e = shapeExtent(obj.shape);
  const round = (v: number): number => Math.round(v * 100) / 100;
  const left = Math.min(size, Math.max(0, placed.cx - e.left * placed.r));
  const right = Math.min(size, Math.max(0, placed.cx + e.right * placed.r));
  const top = Math.min(size, Math.max(0, placed.cy - e.top * placed.r));
  const bottom = Math.min(size, Math.max(0, placed.cy + e.bottom * placed.r));
  return [round(left), round(top), round(right - left), round(bottom - top)];
}

function drawObject(out: Uint8ClampedArray, size: number, obj: ObjectSpec, placed: PlacedObject): void {
  const { cx, cy, r } = placed;
  const e = shapeExtent(obj.shape);
  const x0 = Math.max(0, Math.floor(cx - e.left * r - 1));
  const x1 = Math.min(size - 1, Math.ceil(cx + e.right * r + 1));
  const y0 = Math.max(0, Math.floor(cy - e.top * r - 1));
  const y1 = Math.min(size - 1, Math.ceil(cy + e.bottom * r + 1));
  const white = FLASH_WHITENESS * placed.flash;
  const red = obj.rgb[0] + (255 - obj.rgb[0]) * white;
  const green = obj.rgb[1] + (255 - obj.rgb[1]) * white;
  const blue = obj.rgb[2] + (255 - obj.rgb[2]) * white;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const d = signedDistance(obj.shape, x + 0.5 - cx, y + 0.5 - cy, r);
      if (d >= 0.5) continue;
      const a = d <= -0.5 ? 1 : 0.5 - d; // coverage of the pixel, for anti-aliased edges
      const o = (y * size + x) * 3;
      out[o] += (red - out[o]) * a;
      out[o + 1] += (green - out[o + 1]) * a;
      out[o + 2] += (blue - out[o + 2]) * a;
    }
  }
}

/** The shot that frame `frameIndex` belongs to. */
export function shotIndexAt(shots: readonly ShotSpec[], fps: number, frameIndex: number): number {
  const t = frameIndex / fps;
  for (let i = shots.length - 1; i >= 0; i--) if (t >= shots[i].startSec - 1e-9) return i;
  return 0;
}

/** The sounding object's box in every frame. */
export function soundingBoxes(scene: SceneSpec): Box[] {
  const boxes: Box[] = [];
  for (let k = 0; k < scene.numFrames; k++) {
    const camera = scene.shots[shotIndexAt(scene.shots, scene.fps, k)].camera;
    boxes.push(boxOf(scene.sounding, placeObject(scene.sounding, camera, scene.size, k / scene.fps), scene.size));
  }
  return boxes;
}

/** Renders frames of one scene in any order; keeps the background of the current shot. */
export class FrameRenderer {
  private readonly canvas: Float32Array;
  private readonly canvasSize: number;
  private viewShot = -1;
  private view: Float32Array = new Float32Array(0);

  constructor(readonly scene: SceneSpec) {
    ({ canvas: this.canvas, canvasSize: this.canvasSize } = renderCanvas(scene.background, scene.size));
  }

  /** Frame `frameIndex` as rgb24 (height x width x 3), written into `out` when given. */
  render(frameIndex: number, out = new Uint8ClampedArray(this.scene.size * this.scene.size * 3)): Uint8ClampedArray {
    const { scene } = this;
    const { size } = scene;
    if (frameIndex < 0 || frameIndex >= scene.numFrames) throw new Error(`frame ${frameIndex} is outside 0..${scene.numFrames - 1}`);
    const shot = shotIndexAt(scene.shots, scene.fps, frameIndex);
    const camera = scene.shots[shot].camera;
    if (shot !== this.viewShot) {
      this.view = backgroundView(this.canvas, this.canvasSize, scene.background, camera, size);
      this.viewShot = shot;
    }
    const noise = sharedNoise();
    const mask = noise.length - 1;
    const offset = deriveSeed(scene.background.noiseSeed, frameIndex) & mask;
    const sigma = scene.background.noiseSigma;
    const view = this.view;
    for (let i = 0, o = 0; i < size * size; i++, o += 3) {
      const n = sigma * noise[(offset + i) & mask];
      out[o] = view[o] + n;
      out[o + 1] = view[o + 1] + n;
      out[o + 2] = view[o + 2] + n;
    }
    const t = frameIndex / scene.fps;
    drawObject(out, size, scene.distractor, placeObject(scene.distractor, camera, size, t));
    drawObject(out, size, scene.sounding, placeObject(scene.sounding, camera, size, t));
    return out;
  }
}
