// `avid localize`: Grad-CAM heatmaps of the audio-visual score over a clip's frames, written as PNG frames
// and an MP4 with the overlay and the clip's sound; scored against the sounding object's boxes when the
// video has ground truth beside it (the synthetic world's <file>.json). The network sees the evaluation view
// (the central 87.5% of the frame, as every other evaluation: evaluationCropBox), so the frames, the heatmap and
// the boxes are all in that crop's coordinates.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as T from '../tensor/index.js';
import type { AVModel, VideoBlockName } from '../models/index.js';
import { probeMedia } from '../media/probe.js';
import { decodeVideoClip, decodeAudio } from '../media/decode.js';
import { clipsToNetworkInput } from '../media/video-tensor.js';
import { writePngFrames } from '../media/write-frames.js';
import { evaluationCropBox } from '../media/video-transforms.js';
import type { CropBox } from '../media/decode.js';
import { encodeMp4 } from '../data/synth/encode.js';
import { videoGradCam, overlayHeatmap, peakInBox } from './gradcam.js';
import { audioInputFor, type ClipGeometry } from './clip-geometry.js';
import { boxInCrop, type Box } from './localization-boxes.js';

export interface LocalizeResult {
  file: string;
  startSec: number;
  /** PNG frames and the MP4 (when an output folder was given). */
  frames: string[];
  video?: string;
  /**
   * Share of the scored frames whose heatmap peak lies in the sounding object's box (null without ground
   * truth, or when the object is outside the evaluation crop on every frame).
   */
  boxHitRate: number | null;
  /** Per frame: peak inside the box; null where the object is wholly outside the crop (not scored). */
  hits: (boolean | null)[] | null;
  /** Mean share of the cropped frame the box covers on scored frames: the score of a peak placed at random. */
  boxShare: number | null;
  /**
   * The sounding object's box on each frame, [x, y, w, h] as fractions of the cropped frame the network saw
   * (cut at the crop's edges), so a report can draw it over the overlay frame at any size; null on a frame
   * where the object is wholly outside the crop; null without ground truth.
   */
  boxes: (Box | null)[] | null;
  /** Frames whose object lies wholly outside the evaluation crop (0 without ground truth). */
  framesOutsideCrop: number;
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
  /** The evaluation crop in the source frame's displayed pixels, and that frame's size. */
  crop: CropBox;
  sourceWidth: number;
  sourceHeight: number;
}

/** Frame side localisation feeds the network by default: twice the training size. */
export const localizationSize = (g: ClipGeometry, o: { size?: number } = {}): number => o.size ?? 2 * g.size;

/** Decodes the clip (centred in the file unless startSec is given) and its centred audio window. */
export async function decodeLocalizationClip(file: string, geometry: ClipGeometry, o: { startSec?: number; size?: number } = {}): Promise<LocalizationClip> {
  const g = { ...geometry, size: localizationSize(geometry, o) };
  const info = await probeMedia(file, { verifyEnd: false });
  if (!info.audio) throw new Error(`${file}: no audio stream, nothing to localise`);
  if (!info.video) throw new Error(`${file}: no video stream, nothing to localise`);
  const crop = evaluationCropBox(info.video.width, info.video.height, g.size, g.size);
  const clipSeconds = g.frames / g.fps;
  const startSec = o.startSec ?? Math.max(0, (info.durationSec - clipSeconds) / 2);
  // The audio window is centred on the video clip, as in evaluation.
  const audioStart = Math.max(0, Math.min(startSec + clipSeconds / 2 - g.audioSeconds / 2, info.durationSec - g.audioSeconds));
  const [clip, audio] = await Promise.all([
    decodeVideoClip(file, { startSec, numFrames: g.frames, fps: g.fps, outWidth: g.size, outHeight: g.size, crop }),
    decodeAudio(file, { startSec: audioStart, durationSec: g.audioSeconds, sampleRate: g.sampleRate }),
  ]);
  return { file, startSec, size: g.size, pixels: clip.pixels, samples: audio.samples, crop, sourceWidth: info.video.width, sourceHeight: info.video.height };
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
    let hits: (boolean | null)[] | null = null;
    let boxShare: number | null = null;
    let boxFractions: LocalizeResult['boxes'] = null;
    let framesOutsideCrop = 0;
    if (gt) {
      // The ground truth's pixels are those of the frame it was written for; the crop's are the decoded frame's.
      const sx = decoded.sourceWidth / gt.width;
      const sy = decoded.sourceHeight / gt.height;
      const seen = Array.from({ length: g.frames }, (_, t) => {
        const k = Math.min(gt.boxes.length - 1, Math.round((startSec + t / g.fps) * gt.fps));
        const [x, y, w, h] = gt.boxes[k];
        return boxInCrop([x * sx, y * sy, w * sx, h * sy], decoded.crop, g.size, g.size);
      });
      // peakInBox takes one box per frame; frames without one (object outside the crop) are dropped after.
      const peaks = peakInBox(heatmap, seen.map((b) => b?.pixels ?? [0, 0, 0, 0]));
      hits = peaks.map((hit, t) => (seen[t] ? hit : null));
      const scored = seen.filter((b) => b !== null);
      framesOutsideCrop = g.frames - scored.length;
      boxShare = scored.length ? scored.reduce((sum, b) => sum + b.fractions[2] * b.fractions[3], 0) / scored.length : null;
      boxFractions = seen.map((b) => b?.fractions ?? null);
    }
    const scoredHits = hits?.filter((h) => h !== null) ?? [];
    const boxHitRate = scoredHits.length ? scoredHits.filter(Boolean).length / scoredHits.length : null;
    const result: LocalizeResult = { file, startSec, frames: [], boxHitRate, hits, boxShare, boxes: boxFractions, framesOutsideCrop };
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

/** What results/localization.json records for frame t of a result: hit or miss, the box, or why it has none. */
export function localizationFrame(result: LocalizeResult, t: number): { boxHit: boolean; box?: Box; boxOutsideCrop?: true } {
  const box = result.boxes?.[t];
  if (result.boxes && !box) return { boxHit: false, boxOutsideCrop: true };
  return { boxHit: result.hits?.[t] === true, ...(box ? { box } : {}) };
}
