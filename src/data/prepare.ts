// `avid prepare`: a training-friendly copy of a video collection, as large labs keep one. Every usable video
// is transcoded once to H.264 at a small short side (never upscaled) with a keyframe at least every
// `keyframeSeconds`, and its audio to mono AAC at 24 kHz, so that a training clip costs one short seek and
// the decode of a few small frames instead of a walk through a full-resolution GOP.
//
// The work is resumable: each file is written under a temporary name and renamed when complete, so a file
// that exists under its final name is finished and is skipped by the next run; temporaries left by a killed
// run are removed first. Rejects keep the manifest's reasons, and the copy gets its own manifest
// (`<out>/manifest.jsonl`, the project's format) carrying each file's label and source path.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import {
  buildManifest,
  classifyMedia,
  readManifest,
  readRejects,
  rejectsPathFor,
  writeManifest,
  writeRejects,
  type ManifestEntry,
  type ManifestMode,
  type ManifestReject,
} from './manifest.js';
import type { LabelRow } from './labels.js';
import { probeMedia, MediaProbeError } from '../media/probe.js';
import { runProcess, lastErrorLine } from '../media/child-processes.js';
import { writeFileAtomic } from '../io/atomic.js';

/** Modes a prepared manifest can have: every prepared copy has video; audio is optional. */
export const PREPARE_MODES: readonly ManifestMode[] = ['audio-visual', 'video'];
export const PREPARED_SAMPLE_RATE = 24000;
export const PREPARED_MANIFEST = 'manifest.jsonl';
export const PREPARED_LABELS = 'labels.csv';
/** Records the settings of a prepared folder, so that a resumed run cannot mix two short sides. */
export const PREPARE_SETTINGS_FILE = 'prepare.json';
const TEMPORARY_SUFFIX = '.tmp';

export interface PrepareOptions {
  /** The folder to write (created if absent). Must not be the input folder or inside it. */
  outDir: string;
  /** Target short side in pixels (even; default 128, for 112² crops; 256 for 224²). Never upscales. */
  shortSide?: number;
  /** The longest allowed gap between keyframes (default 0.5 s). */
  keyframeSeconds?: number;
  /** ffmpeg processes at once (default: the core count). */
  workers?: number;
  /** What the prepared manifest requires (default 'audio-visual': video-only copies are listed as rejects). */
  mode?: ManifestMode;
  /** Clip length that decides "too short" and numClips (default 2 s). */
  clipSeconds?: number;
  /** Labels CSV (path or rows) for a folder input; a manifest input carries its own labels. */
  labels?: string | LabelRow[];
  /** Check that the end of each input is readable while probing (default true). */
  verifyEnd?: boolean;
  /** x264 constant rate factor (default 23, x264's own default). */
  crf?: number;
  signal?: AbortSignal;
  ffmpeg?: string;
  /** Called after each file: `done` of `total`, and whether it was transcoded, skipped or failed. */
  onProgress?: (done: number, total: number, outcome: { file: string; status: 'transcoded' | 'skipped' | 'failed' }) => void;
  /** Called while probing the inputs. */
  onProbe?: (done: number, total: number) => void;
}

export interface PrepareSettings {
  shortSide: number;
  keyframeSeconds: number;
  sampleRate: number;
  audioChannels: number;
  videoCodec: string;
  crf: number;
}

export interface PrepareResult {
  manifestPath: string;
  rejectsPath: string;
  /** `<out>/labels.csv` when any file has a label, else null. */
  labelsPath: string | null;
  entries: ManifestEntry[];
  rejects: ManifestReject[];
  /** Prepared copies written by this run, skipped because a previous run finished them, and failed. */
  transcoded: string[];
  skipped: string[];
  failed: string[];
  /** Prepared copies without an audio stream (their source had none). */
  videoOnly: string[];
  /** Temporaries of an interrupted run that were removed. */
  cleaned: string[];
  settings: PrepareSettings;
}

/** One file to transcode: where it comes from, where it goes, what it holds. */
export interface PreparePlan {
  source: string;
  output: string;
  width: number;
  height: number;
  fps: number | null;
  hasAudio: boolean;
  durationSec: number;
  label?: string;
  fold?: number;
  group?: string;
}

/**
 * The prepared frame size: the short side brought down to `shortSide` (never up), the aspect ratio kept, both
 * sides even (H.264 in yuv420p needs them so).
 */
export function preparedSize(width: number, height: number, shortSide: number): { width: number; height: number } {
  const short = Math.min(width, height);
  const evenDown = (x: number) => Math.max(2, x - (x % 2));
  if (short <= shortSide) return { width: evenDown(width), height: evenDown(height) };
  const scale = shortSide / short;
  const evenRound = (x: number) => Math.max(2, 2 * Math.round((x * scale) / 2));
  return width <= height ? { width: shortSide, height: evenRound(height) } : { width: evenRound(width), height: shortSide };
}

/**
 * ffmpeg's -force_key_frames expression for a keyframe at least every `seconds`: a frame becomes a keyframe
 * when the next one (one frame interval later) would be more than `seconds` after the last forced keyframe,
 * so no gap exceeds `seconds` at a constant rate. Time-based (not x264's -g, a frame count) so that variable
 * frame rates hold too, and one mechanism only: -g beside it would add a second, interleaved keyframe series.
 */
export function keyframeExpression(seconds: number, fps: number | null): string {
  const interval = fps && fps > 0 ? 1 / fps : 0;
  const threshold = (seconds - interval + 1e-6).toFixed(6);
  return `expr:if(isnan(prev_forced_t),1,gte(t-prev_forced_t,${threshold}))`;
}

/** ffmpeg's arguments (an array: no shell) for one prepared copy, written to `target` as MP4. */
export function prepareArguments(plan: PreparePlan, target: string, settings: PrepareSettings, threads: number): string[] {
  const size = preparedSize(plan.width, plan.height, settings.shortSide);
  const args = ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y', '-threads', String(threads), '-i', `file:${plan.source}`];
  args.push('-map', '0:v:0');
  if (plan.hasAudio) args.push('-map', '0:a:0');
  // Rotation is applied while decoding (ffmpeg's autorotate), so the size is the displayed one.
  args.push('-vf', `scale=${size.width}:${size.height}:flags=bicubic,format=yuv420p`);
  args.push('-c:v', 'libx264', '-preset', 'fast', '-crf', String(settings.crf), '-pix_fmt', 'yuv420p', '-threads', String(threads));
  args.push('-force_key_frames', keyframeExpression(settings.keyframeSeconds, plan.fps));
  if (plan.hasAudio) args.push('-c:a', 'aac', '-b:a', '96k', '-ac', String(settings.audioChannels), '-ar', String(settings.sampleRate));
  else args.push('-an');
  args.push('-sn', '-dn', '-movflags', '+faststart', '-f', 'mp4', `file:${target}`);
  return args;
}

/** A generous limit (10 minutes, or 20 s per second of video): only a stuck ffmpeg reaches it. */
function timeLimitMs(plan: PreparePlan): number {
  return Math.max(600, 20 * plan.durationSec) * 1000;
}

function isInside(child: string, parent: string): boolean {
  const relative = path.relative(parent, child);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

/** Removes the temporaries that a killed run left under `dir` (ours, and the manifest writer's). */
export function cleanTemporaries(dir: string): string[] {
  const removed: string[] = [];
  if (!existsSync(dir)) return removed;
  const visit = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const full = path.join(folder, entry.name);
      if (entry.isDirectory()) visit(full);
      else if (entry.name.endsWith(TEMPORARY_SUFFIX) || /\.tmp-\d+$/.test(entry.name)) {
        rmSync(full, { force: true });
        removed.push(full);
      }
    }
  };
  visit(dir);
  return removed;
}

function checkSettings(outDir: string, settings: PrepareSettings): void {
  const previous = readPrepareSettings(outDir);
  if (previous) {
    const differences = (Object.keys(settings) as (keyof PrepareSettings)[])
      .filter((k) => previous[k] !== settings[k])
      .map((k) => `${k} ${JSON.stringify(previous[k])} there, ${JSON.stringify(settings[k])} now`);
    if (differences.length > 0) {
      throw new Error(`${outDir} was prepared with other settings (${differences.join('; ')}): choose another --out, or delete it to start again`);
    }
    return;
  }
  writeFileAtomic(path.join(outDir, PREPARE_SETTINGS_FILE), JSON.stringify(settings, null, 2) + '\n');
}

/**
 * Output names (relative to the output folder): the input's relative path with an .mp4 extension. Where two inputs would collide (a.avi and
 * a.mp4, or two a.mp4 of a manifest from different folders), the later one keeps its full name, then gets a
 * counter: a name is never shared, or the second file would be "already prepared" by the first.
 */
export function preparedNames(relatives: string[]): string[] {
  const used = new Set<string>();
  const names = new Array<string>(relatives.length);
  const isMp4 = (r: string) => r.toLowerCase().endsWith('.mp4');
  // MP4 inputs first, so that they keep their own names.
  const order = [...relatives.keys()].sort((a, b) => Number(isMp4(relatives[b])) - Number(isMp4(relatives[a])) || a - b);
  for (const i of order) {
    const r = relatives[i];
    const stem = r.replace(/\.[^./]*$/, '');
    const candidates = isMp4(r) ? [`${stem}.mp4`] : [`${stem}.mp4`, `${r}.mp4`];
    let name = candidates.find((c) => !used.has(c.toLowerCase()));
    for (let k = 2; name === undefined; k++) if (!used.has(`${stem}-${k}.mp4`.toLowerCase())) name = `${stem}-${k}.mp4`;
    used.add(name.toLowerCase());
    names[i] = name;
  }
  return names;
}

async function mapConcurrent<T>(items: T[], concurrency: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: unknown = null;
  const runner = async () => {
    while (next < items.length && failure === null) {
      const item = items[next++];
      try {
        await task(item);
      } catch (error) {
        failure ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, runner));
  if (failure !== null) throw failure;
}

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** The sources to prepare: a folder's usable videos (probed), or a manifest's entries (already probed). */
async function collectSources(
  input: string,
  options: PrepareOptions,
  clipSeconds: number,
  workers: number,
): Promise<{ base: string; sources: ManifestEntry[]; rejects: ManifestReject[] }> {
  const absolute = path.resolve(input);
  if (!existsSync(absolute)) throw new Error(`${input}: no such file or folder`);
  if (statSync(absolute).isDirectory()) {
    // Probed in video mode: a file without audio is still worth a (video-only) copy.
    const manifest = await buildManifest([absolute], {
      mode: 'video',
      clipSeconds,
      labels: options.labels,
      concurrency: workers,
      verifyEnd: options.verifyEnd ?? true,
      signal: options.signal,
      onProgress: options.onProbe,
    });
    return { base: absolute, sources: manifest.entries, rejects: manifest.rejects };
  }
  if (!absolute.endsWith('.jsonl')) throw new Error(`${input}: expected a folder of videos or a manifest (.jsonl from \`avid manifest\`)`);
  if (options.labels !== undefined) throw new Error(`labels: ${input} is a manifest, whose entries carry their own labels; pass labels to \`avid manifest\` instead`);
  const sources = readManifest(absolute);
  const rejectsFile = rejectsPathFor(absolute);
  const rejects = existsSync(rejectsFile) ? readRejects(rejectsFile) : [];
  return { base: path.dirname(absolute), sources, rejects };
}

/**
 * Prepares the collection at `input` (a folder of videos or a manifest) into `options.outDir`. Files that
 * cannot be used become rejects with the manifest's reasons; a file that ffmpeg cannot transcode is rejected
 * as 'unreadable' with ffmpeg's last error line. Throws only for bad options, an unusable output folder, or
 * an abort.
 */
export async function prepareCollection(input: string, options: PrepareOptions): Promise<PrepareResult> {
  const shortSide = options.shortSide ?? 128;
  if (!Number.isInteger(shortSide) || shortSide < 16 || shortSide % 2 !== 0) throw new Error(`shortSide must be an even integer ≥ 16 (H.264 in yuv420p needs even sizes); got ${shortSide}`);
  const keyframeSeconds = options.keyframeSeconds ?? 0.5;
  if (!(keyframeSeconds > 0)) throw new Error(`keyframeSeconds must be > 0; got ${keyframeSeconds}`);
  const workers = options.workers ?? availableParallelism();
  if (!Number.isInteger(workers) || workers < 1) throw new Error(`workers must be a positive integer; got ${workers}`);
  const mode = options.mode ?? 'audio-visual';
  if (!PREPARE_MODES.includes(mode)) throw new Error(`mode must be one of ${PREPARE_MODES.join(', ')} (every prepared copy has video); got '${mode}'`);
  const clipSeconds = options.clipSeconds ?? 2;
  if (!(clipSeconds > 0)) throw new Error(`clipSeconds must be > 0; got ${clipSeconds}`);
  const crf = options.crf ?? 23;
  if (!(crf >= 0 && crf <= 51)) throw new Error(`crf must be between 0 and 51; got ${crf}`);
  const settings: PrepareSettings = { shortSide, keyframeSeconds, sampleRate: PREPARED_SAMPLE_RATE, audioChannels: 1, videoCodec: 'h264', crf };
  const ffmpeg = options.ffmpeg ?? 'ffmpeg';

  const outDir = path.resolve(options.outDir);
  const inputPath = path.resolve(input);
  if (existsSync(inputPath) && statSync(inputPath).isDirectory() && isInside(outDir, inputPath)) {
    throw new Error(`--out ${options.outDir} is inside the input folder ${input}: the copies would be read as inputs next time; choose a folder outside it`);
  }
  mkdirSync(outDir, { recursive: true });
  const cleaned = cleanTemporaries(outDir);
  checkSettings(outDir, settings);

  const { base, sources, rejects } = await collectSources(input, options, clipSeconds, workers);
  const withVideo: ManifestEntry[] = [];
  for (const s of sources) {
    if (s.width === null || s.height === null) rejects.push({ path: s.path, reason: 'no video stream', detail: 'an audio-only entry of the input manifest' });
    else withVideo.push(s);
  }
  const relatives = withVideo.map((s) => (isInside(s.path, base) ? path.relative(base, s.path) : path.basename(s.path)).split(path.sep).join('/'));
  const names = preparedNames(relatives);
  const plans: PreparePlan[] = withVideo.map((s, i) => ({
    source: s.path,
    output: path.join(outDir, ...names[i].split('/')),
    width: s.width!,
    height: s.height!,
    fps: s.fps,
    hasAudio: s.audioSampleRate !== null,
    durationSec: s.durationSec,
    ...(s.label !== undefined ? { label: s.label } : {}),
    ...(s.fold !== undefined ? { fold: s.fold } : {}),
    ...(s.group !== undefined ? { group: s.group } : {}),
  }));
  for (const p of plans) if (path.resolve(p.output) === path.resolve(p.source)) throw new Error(`--out ${options.outDir} would overwrite its input ${p.source}`);

  // Each ffmpeg gets an equal share of the cores, so a few long files still use the machine.
  const threads = Math.max(1, Math.floor(availableParallelism() / Math.min(workers, Math.max(1, plans.length))));
  const transcoded: string[] = [];
  const skipped: string[] = [];
  const failed: string[] = [];
  const finished = new Set<PreparePlan>();
  let done = 0;
  await mapConcurrent(plans, workers, async (plan) => {
    let status: 'transcoded' | 'skipped' | 'failed';
    if (existsSync(plan.output)) {
      skipped.push(plan.output);
      finished.add(plan);
      status = 'skipped';
    } else {
      mkdirSync(path.dirname(plan.output), { recursive: true });
      const temporary = plan.output + TEMPORARY_SUFFIX;
      let result;
      try {
        result = await runProcess(ffmpeg, prepareArguments(plan, temporary, settings, threads), { signal: options.signal, timeoutMs: timeLimitMs(plan) });
      } catch (error) {
        rmSync(temporary, { force: true });
        throw error;
      }
      if (result.exitCode === 0) {
        renameSync(temporary, plan.output);
        transcoded.push(plan.output);
        finished.add(plan);
        status = 'transcoded';
      } else {
        rmSync(temporary, { force: true });
        const why = result.timedOut
          ? `no result after ${Math.round(timeLimitMs(plan) / 1000)} s`
          : lastErrorLine(result.stderr) || (result.signal ? `killed by ${result.signal}` : `exit code ${result.exitCode}`);
        rejects.push({ path: plan.source, reason: 'unreadable', detail: `ffmpeg could not transcode it: ${why}` });
        failed.push(plan.source);
        status = 'failed';
      }
    }
    options.onProgress?.(++done, plans.length, { file: plan.source, status });
  });

  // The manifest of the copy, from the copies themselves (their real sizes and durations).
  const probed: { order: number; plan: PreparePlan; result: ReturnType<typeof classifyMedia> }[] = [];
  const orderOf = new Map(plans.map((p, i) => [p, i]));
  const ready = plans.filter((p) => finished.has(p));
  const videoOnly: string[] = [];
  await mapConcurrent(ready, workers, async (plan) => {
    try {
      const info = await probeMedia(plan.output, { verifyEnd: false, signal: options.signal });
      if (!info.audio) videoOnly.push(plan.output);
      probed.push({ order: orderOf.get(plan)!, plan, result: classifyMedia(info, mode, clipSeconds) });
    } catch (error) {
      if (!(error instanceof MediaProbeError)) throw error;
      // A copy that does not probe is damaged: remove it, so that the next run writes it again.
      rmSync(plan.output, { force: true });
      probed.push({ order: orderOf.get(plan)!, plan, result: { reject: { path: plan.source, reason: error.reason, detail: `prepared copy ${plan.output} was damaged and has been removed (${error.detail}); run prepare again` } } });
    }
  });
  probed.sort((a, b) => a.order - b.order);
  const entries: ManifestEntry[] = [];
  for (const { plan, result } of probed) {
    if ('reject' in result) {
      const said = result.reject.reason === 'no audio stream' ? `video-only copy of ${plan.source} (the source has no audio)` : result.reject.detail;
      rejects.push({ ...result.reject, ...(said ? { detail: said } : {}) });
      continue;
    }
    entries.push({
      index: entries.length,
      ...result.entry,
      ...(plan.label !== undefined ? { label: plan.label } : {}),
      ...(plan.fold !== undefined ? { fold: plan.fold } : {}),
      ...(plan.group !== undefined ? { group: plan.group } : {}),
      source: plan.source,
    });
  }
  videoOnly.sort();

  const manifestPath = path.join(outDir, PREPARED_MANIFEST);
  const rejectsPath = rejectsPathFor(manifestPath);
  writeManifest(manifestPath, entries);
  writeRejects(rejectsPath, rejects);
  // Labels beside the copies (paths relative to the folder), so that `avid eval --data <out> --labels
  // <out>/labels.csv` finds the same labels as on the originals — the video-only copies included.
  let labelsPath: string | null = null;
  const labelled = ready.filter((p) => p.label !== undefined);
  if (labelled.length > 0) {
    labelsPath = path.join(outDir, PREPARED_LABELS);
    const rows = labelled.map((p) => [path.relative(outDir, p.output).split(path.sep).join('/'), p.label!, p.fold === undefined ? '' : String(p.fold), p.group ?? '', p.source]);
    const text = ['file,label,fold,group,source', ...rows.map((r) => r.map(csvField).join(','))].join('\n') + '\n';
    writeFileAtomic(labelsPath, text);
  }
  return { manifestPath, rejectsPath, labelsPath, entries, rejects, transcoded, skipped, failed, videoOnly, cleaned, settings };
}

/** The settings a prepared folder was written with, or null when it has none (not a prepared folder). */
export function readPrepareSettings(outDir: string): PrepareSettings | null {
  const file = path.join(outDir, PREPARE_SETTINGS_FILE);
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as PrepareSettings;
  } catch (error) {
    throw new Error(`${file}: not valid JSON (${(error as Error).message})`);
  }
}
