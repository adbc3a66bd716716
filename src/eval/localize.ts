// `avid localize`: Grad-CAM heatmaps of the audio-visual score over a clip's frames, written as PNG frames
// and an MP4 with the overlay and the clip's sound; scored against the sounding object's boxes when the
// video has ground truth beside it (the synthetic world's <file>.json).
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as T from '../tensor/index.js';
import type { AVModel, VideoBlockName } from '../models/index.js';
import { probeMedia } from '../media/probe.js';
import { decodeVideoClip, decodeAudio } from '../media/decode.js';
import { clipsToNetworkInput } from '../media/video-tensor.js';
import { writePngFrames } from '../media/write-frames.js';
import { encodeMp4 } from '../data/synth/encode.js';
import { videoGradCam, overlayHeatmap, peakInBox } from './gradcam.js';
import { audioInputFor, type ClipGeometry } from './clip-geometry.js';

export interface LocalizeResult {
  file: string;
  startSec: number;
  /** PNG frames and the MP4 (when an output folder was given). */
  frames: string[];
  video?: string;
  /** Share of frames whose heatmap peak lies in the sounding object's box (null without ground truth). */
  boxHitRate: number | null;
  hits: boolean[] | null;
  /** Mean share of the frame the box covers: the score of a peak placed at random (null without ground truth). */
  boxShare: number | null;
  /**
   * The sounding object's box on each frame, [x, y, w, h] as fractions of the frame's width and height (so a
   * report can draw it over the frame at any size); null without ground truth.
   */
  boxes: [number, number, number, number][] | null;
}

interface GroundTruth {
  fps: number;
  width: number;
  height: number;
  boxes: number[][];
}

function groundTruthFor(file: string): GroundTruth | null {
  const sidecar = file.replace(/\.[^.]+$/, '.json');
  if (!existsSync(sidecar)) return null;
  const gt = JSON.parse(readFileSync(sidecar, 'utf8')) as Partial<GroundTruth>;
  return gt.boxes && gt.fps && gt.width && gt.height ? (gt as GroundTruth) : null;
}

/**
 * Output name stems for several inputs written into one folder: the base name without its extension, and
 * where two inputs share it (a/clip.mp4, b/clip.mp4), the parent folders too (a-clip, b-clip), then a number.
 */
export function outputStems(files: string[]): string[] {
  const base = (f: string) => path.basename(f).replace(/\.[^.]+$/, '');
  const withParent = (f: string) => `${path.basename(path.dirname(path.resolve(f)))}-${base(f)}`;
  const count = (names: string[]) => names.reduce((m, n) => m.set(n, (m.get(n) ?? 0) + 1), new Map<string, number>());
  const bases = files.map(base);
  const baseCounts = count(bases);
  const stems = files.map((f, i) => (baseCounts.get(bases[i])! > 1 ? withParent(f) : bases[i]));
  const stemCounts = count(stems);
  const seen = new Map<string, number>();
  return stems.map((s) => {
    if (stemCounts.get(s)! === 1) return s;
    const n = (seen.get(s) ?? 0) + 1;
    seen.set(s, n);
    return `${s}-${n}`;
  });
}

export interface LocalizeOptions {
  startSec?: number;
  /** Where to write the PNG frames and the MP4; nothing is written without it. */
  outDir?: string;
  /** The output files' name stem (default the input's base name; see outputStems for several inputs). */
  stem?: string;
  /**
   * The video block Grad-CAM weighs (default conv3x). The last block is too coarse on small inputs: at 64²
   * conv5x is a 2×2 grid and conv4x 4×4, while the sounding object spans a fifth of the frame.
   */
  layer?: VideoBlockName;
  /**
   * Frame side fed to the network (default twice the run's video.size: the network is fully convolutional,
   * and a larger input gives a finer heatmap; measured on the synthetic world, 128² beats 64² for a model
   * trained at 64²).
   */
  size?: number;
  /** The clip already decoded (decodeLocalizationClip), to localise it with several models. */
  decoded?: LocalizationClip;
}

/** A clip and its audio window, decoded for localisation. */
export interface LocalizationClip {
  file: string;
  startSec: number;
  size: number;
  pixels: Uint8Array;
  samples: Float32Array;
}

/** Frame side localisation feeds the network by default: twice the training size. */
export const localizationSize = (g: ClipGeometry, o: { size?: number } = {}): number => o.size ?? 2 * g.size;

/** Decodes the clip (centred in the file unless startSec is given) and its centred audio window. */
export async function decodeLocalizationClip(file: string, geometry: ClipGeometry, o: { startSec?: number; size?: number } = {}): Promise<LocalizationClip> {
  const g = { ...geometry, size: localizationSize(geometry, o) };
  const info = await probeMedia(file, { verifyEnd: false });
  if (!info.audio) throw new Error(`${file}: no audio stream, nothing to localise`);
  const clipSeconds = g.frames / g.fps;
  const startSec = o.startSec ?? Math.max(0, (info.durationSec - clipSeconds) / 2);
  // The audio window is centred on the video clip, as in evaluation.
  const audioStart = Math.max(0, Math.min(startSec + clipSeconds / 2 - g.audioSeconds / 2, info.durationSec - g.audioSeconds));
  const [clip, audio] = await Promise.all([
    decodeVideoClip(file, { startSec, numFrames: g.frames, fps: g.fps, outWidth: g.size, outHeight: g.size }),
    decodeAudio(file, { startSec: audioStart, durationSec: g.audioSeconds, sampleRate: g.sampleRate }),
  ]);
  return { file, startSec, size: g.size, pixels: clip.pixels, samples: audio.samples };
}

/** A box in frame fractions, cut to the frame (an object partly outside it is drawn up to the edge). */
function clipBox(x: number, y: number, w: number, h: number): [number, number, number, number] {
  const x0 = Math.min(1, Math.max(0, x));
  const y0 = Math.min(1, Math.max(0, y));
  const x1 = Math.min(1, Math.max(0, x + w));
  const y1 = Math.min(1, Math.max(0, y + h));
  return [x0, y0, x1 - x0, y1 - y0];
}

export async function localizeClip(model: AVModel, file: string, geometry: ClipGeometry, o: LocalizeOptions = {}): Promise<LocalizeResult> {
  const decoded = o.decoded ?? (await decodeLocalizationClip(file, geometry, o));
  const g = { ...geometry, size: decoded.size };
  const { startSec } = decoded;
  const clipSeconds = g.frames / g.fps;
  const clip = { pixels: decoded.pixels };
  const audio = { samples: decoded.samples };
  const { heatmap, overlay } = T.tidy(() => {
    const video = clipsToNetworkInput([clip.pixels], g.frames, g.size, g.size, null);
    const spectrogram = audioInputFor(g, T.tensor(audio.samples, [1, audio.samples.length]));
    const h = videoGradCam(model, video, spectrogram, o.layer ?? 'conv3x');
    const frames = T.tensor(clip.pixels, [g.frames, g.size, g.size, 3]);
    return { heatmap: h, overlay: overlayHeatmap(frames, h) };
  });
  try {
    const gt = groundTruthFor(file);
    let hits: boolean[] | null = null;
    let boxShare: number | null = null;
    let boxFractions: LocalizeResult['boxes'] = null;
    if (gt) {
      const sx = g.size / gt.width;
      const sy = g.size / gt.height;
      const boxes = Array.from({ length: g.frames }, (_, t) => {
        const k = Math.min(gt.boxes.length - 1, Math.round((startSec + t / g.fps) * gt.fps));
        const [x, y, w, h] = gt.boxes[k];
        return [x * sx, y * sy, w * sx, h * sy];
      });
      hits = peakInBox(heatmap, boxes);
      boxShare = boxes.reduce((sum, [, , w, h]) => sum + (w * h) / (g.size * g.size), 0) / boxes.length;
      boxFractions = boxes.map(([x, y, w, h]) => clipBox(x / g.size, y / g.size, w / g.size, h / g.size));
    }
    const result: LocalizeResult = { file, startSec, frames: [], boxHitRate: hits ? hits.filter(Boolean).length / hits.length : null, hits, boxShare, boxes: boxFractions };
    if (o.outDir) {
      mkdirSync(o.outDir, { recursive: true });
      const bytes = overlay.data() as Uint8Array;
      const frameBytes = g.size * g.size * 3;
      const frames = Array.from({ length: g.frames }, (_, t) => bytes.subarray(t * frameBytes, (t + 1) * frameBytes));
      const stem = o.stem ?? path.basename(file).replace(/\.[^.]+$/, '');
      await writePngFrames(frames, g.size, g.size, path.join(o.outDir, `${stem}-%03d.png`));
      result.frames = frames.map((_, t) => path.join(o.outDir!, `${stem}-${String(t).padStart(3, '0')}.png`));
      // The overlay clip with its own sound (the audio decoded for the clip's duration).
      const clipAudio = await decodeAudio(file, { startSec, durationSec: clipSeconds, sampleRate: g.sampleRate });
      result.video = path.join(o.outDir, `${stem}-gradcam.mp4`);
      await encodeMp4({ path: result.video, width: g.size, height: g.size, fps: g.fps, sampleRate: g.sampleRate, frames, audio: clipAudio.samples });
    }
    return result;
  } finally {
    heatmap.dispose();
    overlay.dispose();
  }
}
