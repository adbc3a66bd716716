// `generateWorld`: plans every video of a synthetic world, renders and encodes them a few at a time, and
// writes the ground truth (labels.csv, world.json, and one JSON per video).
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { buildClassCatalogue, type ClassSpec, type ConfusablePair } from './catalogue.js';
import { encodeMp4s } from './encode.js';
import { groundTruthOf, groundTruthPath } from './ground-truth.js';
import { NUM_FOLDS, resolveWorldOptions, type WorldOptions } from './options.js';
import { deriveSeed, Rng } from './prng.js';
import { renderSoundtrack } from './render-audio.js';
import { FrameRenderer } from './render-video.js';
import { sampleScene, type SceneSpec } from './scene.js';

export interface PlannedVideo {
  /** Path relative to the world's root, e.g. clips/clip-0007.mp4 or long/long-002.mp4. */
  file: string;
  classId: number;
  fold: number;
  /** The long-video id for long videos, the file's own stem for clips. */
  group: string;
  split: 'train' | 'test';
  seed: number;
  durationSec: number;
  long: boolean;
}

export interface WorldSummary {
  out: string;
  seed: number;
  classes: ClassSpec[];
  confusablePairs: ConfusablePair[];
  videos: PlannedVideo[];
  labelsPath: string;
  worldPath: string;
  /** Wall time of the whole generation (s). */
  elapsedSec: number;
}

/** Frames per chunk handed to ffmpeg: whole short clips go at once, long videos stream in chunks. */
const FRAMES_PER_CHUNK = 64;
/** Short clips encoded by one ffmpeg process (its start-up costs more CPU than encoding a 3 s clip). */
const CLIPS_PER_PROCESS = 16;

/** Which class, fold and seed each video gets. Pure: the same options always give the same plan. */
export function planWorld(o: WorldOptions): PlannedVideo[] {
  const { classes } = buildClassCatalogue(o.classes);
  const splitOf = (fold: number): 'train' | 'test' => (fold === NUM_FOLDS ? 'test' : 'train');
  const planned: PlannedVideo[] = [];

  // Clips: classes balanced, assigned in a seeded order; folds stratified by class.
  const clipClasses = new Rng(deriveSeed(o.seed, 'clip-classes')).shuffled(Array.from({ length: o.videos }, (_, i) => i % classes.length));
  const foldRng = new Rng(deriveSeed(o.seed, 'folds'));
  const clipFold = new Array<number>(o.videos);
  // Deal the clips of each class round the folds; the dealer carries on from class to class, so that a
  // world with fewer clips per class than folds still fills every fold.
  let dealt = 0;
  for (const cls of classes) {
    const members = clipClasses.flatMap((c, i) => (c === cls.id ? [i] : []));
    for (const clip of foldRng.shuffled(members)) clipFold[clip] = (dealt++ % NUM_FOLDS) + 1;
  }
  const clipDigits = Math.max(4, String(o.videos - 1).length);
  for (let i = 0; i < o.videos; i++) {
    const stem = `clip-${String(i).padStart(clipDigits, '0')}`;
    planned.push({
      file: `clips/${stem}.mp4`, classId: clipClasses[i], fold: clipFold[i], group: stem, split: splitOf(clipFold[i]),
      seed: deriveSeed(o.seed, 'clip', i), durationSec: o.seconds, long: false,
    });
  }

  // Long videos: one class each, cycling through the classes in a seeded order; one fold per video.
  const longClassOrder = new Rng(deriveSeed(o.seed, 'long-classes')).shuffled(classes.map((c) => c.id));
  const longDigits = Math.max(3, String(o.longVideos - 1).length);
  for (let j = 0; j < o.longVideos; j++) {
    const id = `long-${String(j).padStart(longDigits, '0')}`;
    const fold = (j % NUM_FOLDS) + 1;
    planned.push({
      file: `long/${id}.mp4`, classId: longClassOrder[j % longClassOrder.length], fold, group: id, split: splitOf(fold),
      seed: deriveSeed(o.seed, 'long', j), durationSec: o.longSeconds, long: true,
    });
  }
  return planned;
}

/** The scene of one planned video (exposed so that tests and tools can re-render any video in memory). */
export function sceneOf(video: PlannedVideo, cls: ClassSpec, o: Pick<WorldOptions, 'fps' | 'size' | 'sampleRate' | 'shotSeconds'>): SceneSpec {
  return sampleScene(cls, video.seed, {
    durationSec: video.durationSec, fps: o.fps, size: o.size, sampleRate: o.sampleRate,
    shotSeconds: video.long ? o.shotSeconds : undefined,
  });
}

function* frameChunks(scene: SceneSpec, framesPerChunk: number): Generator<Uint8Array> {
  const renderer = new FrameRenderer(scene);
  const frameBytes = scene.size * scene.size * 3;
  for (let start = 0; start < scene.numFrames; start += framesPerChunk) {
    const count = Math.min(framesPerChunk, scene.numFrames - start);
    const chunk = new Uint8ClampedArray(count * frameBytes);
    for (let k = 0; k < count; k++) renderer.render(start + k, chunk.subarray(k * frameBytes, (k + 1) * frameBytes));
    yield new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  }
}

/** Renders and encodes a batch of videos with one ffmpeg, then writes their ground truth. */
async function writeVideos(out: string, batch: PlannedVideo[], classes: ClassSpec[], o: WorldOptions): Promise<void> {
  const scenes = batch.map((video) => sceneOf(video, classes[video.classId], o));
  await encodeMp4s(
    { width: o.size, height: o.size, fps: o.fps, sampleRate: o.sampleRate },
    batch.map((video, b) => ({
      path: path.join(out, video.file),
      frames: frameChunks(scenes[b], video.long ? FRAMES_PER_CHUNK : scenes[b].numFrames),
      audio: renderSoundtrack(scenes[b]),
    })),
  );
  await Promise.all(batch.map((video, b) => {
    const truth = groundTruthOf(video.file, classes[video.classId], scenes[b], video.seed, video.long ? video.group : undefined);
    return writeFile(groundTruthPath(path.join(out, video.file)), JSON.stringify(truth) + '\n');
  }));
}

function csvField(value: string | number): string {
  const s = String(value);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function labelsCsv(videos: PlannedVideo[], classes: ClassSpec[]): string {
  const lines = ['file,label,fold,group,class_name,split'];
  for (const v of videos) lines.push([v.file, v.classId, v.fold, v.group, classes[v.classId].name, v.split].map(csvField).join(','));
  return lines.join('\n') + '\n';
}

const WORLD_ENTRIES = ['clips', 'long', 'labels.csv', 'world.json'];

/**
 * Refuses to write into a directory that holds something other than an earlier (possibly interrupted)
 * world, so that a mistyped --out cannot wipe anything; clears an earlier world.
 */
async function prepareOutDir(out: string): Promise<void> {
  if (existsSync(out)) {
    const entries = await readdir(out);
    const foreign = entries.filter((e) => !WORLD_ENTRIES.includes(e));
    if (foreign.length > 0 && !entries.includes('world.json')) {
      throw new Error(`out: ${out} is not empty (it holds ${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', ...' : ''}) and is not an earlier synthetic world; refusing to write there`);
    }
    for (const name of WORLD_ENTRIES) await rm(path.join(out, name), { recursive: true, force: true });
  }
  await mkdir(path.join(out, 'clips'), { recursive: true });
  await mkdir(path.join(out, 'long'), { recursive: true });
}

/** Generates a synthetic audio-visual world into `options.out`; see WORLD_DEFAULTS for the defaults. */
export async function generateWorld(options: Partial<WorldOptions> & { out: string }): Promise<WorldSummary> {
  const started = performance.now();
  const o = resolveWorldOptions(options);
  const out = path.resolve(o.out);
  const catalogue = buildClassCatalogue(o.classes);
  const videos = planWorld(o);
  await prepareOutDir(out);

  // Long videos first, one per ffmpeg: they take longest, and starting them early keeps every ffmpeg busy
  // to the end. Then the clips, several per ffmpeg.
  const jobs: PlannedVideo[][] = videos.filter((v) => v.long).map((v) => [v]);
  const clips = videos.filter((v) => !v.long);
  for (let i = 0; i < clips.length; i += CLIPS_PER_PROCESS) jobs.push(clips.slice(i, i + CLIPS_PER_PROCESS));
  let next = 0;
  let done = 0;
  let failure: Error | null = null;
  const worker = async (): Promise<void> => {
    while (next < jobs.length && !failure) {
      const batch = jobs[next++];
      try {
        await writeVideos(out, batch, catalogue.classes, o);
      } catch (error) {
        failure ??= new Error(`writing ${batch.map((v) => v.file).join(', ')}: ${(error as Error).message}`);
        return;
      }
      for (const video of batch) o.onProgress?.(++done, videos.length, video.file);
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.concurrency, jobs.length) }, worker));
  if (failure) throw failure;

  const labelsPath = path.join(out, 'labels.csv');
  await writeFile(labelsPath, labelsCsv(videos, catalogue.classes));
  const worldPath = path.join(out, 'world.json');
  // Only what shapes the content: the concurrency (machine-dependent) would make world.json differ between machines.
  const { onProgress: _ignored, out: _out, concurrency: _concurrency, ...settings } = o;
  await writeFile(worldPath, JSON.stringify({
    generator: 'avid synth',
    formatVersion: 1,
    settings,
    classes: catalogue.classes,
    confusablePairs: catalogue.confusablePairs,
    folds: NUM_FOLDS,
    splitRule: `split is test exactly when fold is ${NUM_FOLDS}; clip folds are stratified by class; a long video is one group in one fold`,
    groundTruth: 'beside each video, same stem with .json; boxes are [x, y, w, h] in pixels (top-left origin) for frame k at time k/fps',
    counts: { clips: o.videos, longVideos: o.longVideos },
  }, null, 2) + '\n');

  return {
    out, seed: o.seed, classes: catalogue.classes, confusablePairs: catalogue.confusablePairs, videos,
    labelsPath, worldPath, elapsedSec: (performance.now() - started) / 1000,
  };
}
