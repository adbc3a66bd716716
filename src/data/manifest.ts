// A manifest: the usable media files of a dataset, one JSON line each, in a stable (sorted) order — the line
// number is the instance index, i.e. the memory-bank row, so it must mean the same file on every machine.
// Every file that cannot be used is listed in a rejects file with the reason: nothing is dropped silently.
import { readdir, stat } from 'node:fs/promises';
import { readFileSync, writeFileSync, mkdirSync, renameSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { probeMedia, MediaProbeError, type MediaInfo } from '../media/probe.js';
import { LabelIndex, readLabelsCsv, type LabelRow } from './labels.js';

export type ManifestMode = 'audio-visual' | 'audio' | 'video';
export const MANIFEST_MODES: readonly ManifestMode[] = ['audio-visual', 'audio', 'video'];

export interface ManifestEntry {
  /** Position in the manifest (0-based): the instance id used by memory banks. */
  index: number;
  /** Absolute path in memory; written relative to the manifest file. */
  path: string;
  /** Usable duration: in audio-visual mode the shorter of the two streams. */
  durationSec: number;
  /** Video fields are null for a file without video (audio mode). Width/height as displayed (rotation applied). */
  fps: number | null;
  width: number | null;
  height: number | null;
  /** Audio fields are null for a file without audio (video mode). */
  audioSampleRate: number | null;
  audioChannels: number | null;
  /** Non-overlapping clips of `clipSeconds` the file holds (≥ 1). */
  numClips: number;
  label?: string;
  fold?: number;
  /** The long video (or recording) this file belongs to. */
  group?: string;
  /** For a prepared copy (`avid prepare`): the original file it was transcoded from. */
  source?: string;
}

export interface ManifestReject {
  path: string;
  /** A short canonical reason: 'no audio stream', 'unreadable', 'shorter than one clip (1.2 s < 2.0 s)', ... */
  reason: string;
  /** What the tools said, when there is more to say. */
  detail?: string;
}

export interface BuildManifestOptions {
  mode?: ManifestMode;
  /** The clip length that decides "too short" and numClips (default 2 s: the audio window). */
  clipSeconds?: number;
  /** A labels CSV path or parsed rows. */
  labels?: string | LabelRow[];
  /** ffprobe processes at once (default 2). */
  concurrency?: number;
  /** See ProbeOptions.verifyEnd (default true). */
  verifyEnd?: boolean;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export interface Manifest {
  entries: ManifestEntry[];
  rejects: ManifestReject[];
  /** Label rows that matched no file, and files without a label (when labels were given). */
  warnings: string[];
}

export interface FoundFile {
  absolute: string;
  /** Relative to the input folder it was found in (the bare name for a file given directly). */
  relative: string;
}

function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const NON_MEDIA_EXTENSIONS = new Set(['.json', '.jsonl', '.csv', '.tsv', '.txt', '.md', '.yaml', '.yml', '.png', '.jpg', '.jpeg', '.html', '.safetensors']);

async function walk(root: string, dir: string, out: FoundFile[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue; // .DS_Store, editor and partial-download files
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) await walk(root, full, out);
    // Inside folders, files with a known non-media extension (ground-truth .json, labels .csv, notes) are
    // not candidates; anything else is probed and, if unusable, rejected with its reason.
    else if (NON_MEDIA_EXTENSIONS.has(path.extname(entry.name).toLowerCase())) continue;
    else if (entry.isFile() || entry.isSymbolicLink()) out.push({ absolute: full, relative: path.relative(root, full).split(path.sep).join('/') });
  }
}

/** Files under the inputs (folders recursively), deduplicated, sorted by absolute path (code-unit order). */
export async function collectInputFiles(inputs: string[]): Promise<{ files: FoundFile[]; missing: ManifestReject[] }> {
  const found: FoundFile[] = [];
  const missing: ManifestReject[] = [];
  for (const input of inputs) {
    const absolute = path.resolve(input);
    let st;
    try {
      st = await stat(absolute);
    } catch {
      missing.push({ path: absolute, reason: 'unreadable', detail: 'no such file or folder' });
      continue;
    }
    if (st.isDirectory()) await walk(absolute, absolute, found);
    else found.push({ absolute, relative: path.basename(absolute) });
  }
  const unique = new Map<string, FoundFile>();
  for (const f of found) if (!unique.has(f.absolute)) unique.set(f.absolute, f);
  const files = [...unique.values()].sort((a, b) => compareCodeUnits(a.absolute, b.absolute));
  return { files, missing };
}

function formatSeconds(s: number): string {
  return `${s.toFixed(1)} s`;
}

/** Decides whether a probed file is usable in `mode`; returns the entry (without index) or the reject. */
export function classifyMedia(
  info: MediaInfo,
  mode: ManifestMode,
  clipSeconds: number,
): { entry: Omit<ManifestEntry, 'index'> } | { reject: ManifestReject } {
  const { path: file, video, audio } = info;
  if (mode !== 'audio' && !video) return { reject: { path: file, reason: 'no video stream', detail: audio ? `audio only (${audio.codec})` : undefined } };
  if (mode !== 'video' && !audio) return { reject: { path: file, reason: 'no audio stream', detail: video ? `video only (${video.codec})` : undefined } };
  if (audio && mode !== 'video' && (audio.sampleRate <= 0 || audio.channels <= 0)) {
    return { reject: { path: file, reason: 'unreadable', detail: `audio stream without sample rate or channels (${audio.codec})` } };
  }
  if (video && mode !== 'audio' && !(video.fps > 0)) {
    return { reject: { path: file, reason: 'unreadable', detail: `video stream without a frame rate (${video.codec})` } };
  }
  const durations = [mode !== 'audio' ? video!.durationSec : null, mode !== 'video' ? audio!.durationSec : null].filter((d): d is number => d !== null);
  const durationSec = Math.min(...durations.map((d) => (d > 0 ? d : info.durationSec)));
  if (!(durationSec > 0)) return { reject: { path: file, reason: 'zero-length', detail: 'duration 0' } };
  // A small tolerance: a "2 s" clip cut by ffmpeg is often 1.9995 s long.
  const numClips = Math.floor(durationSec / clipSeconds + 1e-3);
  if (numClips < 1) {
    return { reject: { path: file, reason: `shorter than one clip (${formatSeconds(durationSec)} < ${formatSeconds(clipSeconds)})` } };
  }
  return {
    entry: {
      path: file,
      durationSec,
      fps: video ? video.fps : null,
      width: video ? video.width : null,
      height: video ? video.height : null,
      audioSampleRate: audio ? audio.sampleRate : null,
      audioChannels: audio ? audio.channels : null,
      numClips,
    },
  };
}

/** Runs `task` over `items` with at most `concurrency` in flight; results keep the input order. */
async function mapConcurrent<T, R>(items: T[], concurrency: number, task: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const runner = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, runner));
  return results;
}

/**
 * Probes every file under `inputs` (files or folders, recursively) and splits them into manifest entries
 * and rejects. Never throws for a bad media file: it becomes a reject with its reason.
 */
export async function buildManifest(inputs: string[], options: BuildManifestOptions = {}): Promise<Manifest> {
  const mode = options.mode ?? 'audio-visual';
  if (!MANIFEST_MODES.includes(mode)) throw new Error(`manifest mode must be one of ${MANIFEST_MODES.join(', ')}; got '${mode}'`);
  const clipSeconds = options.clipSeconds ?? 2;
  if (!(clipSeconds > 0)) throw new Error(`clipSeconds must be > 0, got ${clipSeconds}`);
  const labelRows = typeof options.labels === 'string' ? readLabelsCsv(options.labels) : options.labels;
  const labelIndex = labelRows ? new LabelIndex(labelRows) : null;

  const { files, missing } = await collectInputFiles(inputs);
  let done = 0;
  const outcomes = await mapConcurrent(files, options.concurrency ?? 2, async (file) => {
    let result: ReturnType<typeof classifyMedia>;
    try {
      const info = await probeMedia(file.absolute, { verifyEnd: options.verifyEnd, signal: options.signal });
      result = classifyMedia(info, mode, clipSeconds);
    } catch (error) {
      if (!(error instanceof MediaProbeError)) throw error;
      result = { reject: { path: file.absolute, reason: error.reason, detail: error.detail || undefined } };
    }
    options.onProgress?.(++done, files.length);
    return { file, result };
  });

  const entries: ManifestEntry[] = [];
  const rejects: ManifestReject[] = [...missing];
  const warnings: string[] = [];
  const unlabelled: string[] = [];
  for (const { file, result } of outcomes) {
    if ('reject' in result) {
      rejects.push(result.reject);
      continue;
    }
    const entry: ManifestEntry = { index: entries.length, ...result.entry };
    if (labelIndex) {
      const row = labelIndex.lookup(file.relative, path.basename(file.absolute));
      if (row) {
        entry.label = row.label;
        if (row.fold !== undefined) entry.fold = row.fold;
        if (row.group !== undefined) entry.group = row.group;
      } else unlabelled.push(file.relative);
    }
    entries.push(entry);
  }
  if (labelIndex) {
    const unused = labelIndex.unused();
    if (unused.length > 0) warnings.push(`${unused.length} label row(s) match no usable file, e.g. '${unused[0].file}'`);
    if (unlabelled.length > 0) warnings.push(`${unlabelled.length} file(s) have no label, e.g. '${unlabelled[0]}'`);
  }
  return { entries, rejects, warnings };
}

// ---- JSONL files --------------------------------------------------------------------------------------

const nullablePositive = z.number().positive().nullable();
const entrySchema = z
  .object({
    index: z.number().int().nonnegative(),
    path: z.string().min(1),
    durationSec: z.number().positive(),
    fps: nullablePositive,
    width: z.number().int().positive().nullable(),
    height: z.number().int().positive().nullable(),
    audioSampleRate: z.number().int().positive().nullable(),
    audioChannels: z.number().int().positive().nullable(),
    numClips: z.number().int().positive(),
    label: z.string().optional(),
    fold: z.number().int().optional(),
    group: z.string().optional(),
    source: z.string().optional(),
  })
  .strict();
const rejectSchema = z.object({ path: z.string().min(1), reason: z.string().min(1), detail: z.string().optional() }).strict();

function toPortableRelative(fromDir: string, file: string): string {
  return path.relative(fromDir, file).split(path.sep).join('/');
}

/** Writes atomically (temporary file, then rename): a crash never leaves half a manifest. */
function writeLines(file: string, lines: string[]): void {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const temporary = `${file}.tmp-${process.pid}`;
  writeFileSync(temporary, lines.map((l) => l + '\n').join(''));
  renameSync(temporary, file);
}

/** Writes entries as JSONL, paths relative to the manifest's folder (so a dataset folder can move). */
export function writeManifest(file: string, entries: ManifestEntry[]): void {
  const dir = path.dirname(path.resolve(file));
  writeLines(file, entries.map((e) => JSON.stringify({ ...e, path: toPortableRelative(dir, e.path) })));
}

export function writeRejects(file: string, rejects: ManifestReject[]): void {
  const dir = path.dirname(path.resolve(file));
  writeLines(file, rejects.map((r) => JSON.stringify({ ...r, path: toPortableRelative(dir, r.path) })));
}

/** The rejects file that goes with a manifest: `<out>.rejects.jsonl` (".jsonl" of the manifest replaced). */
export function rejectsPathFor(manifestPath: string): string {
  return manifestPath.replace(/\.jsonl$/, '') + '.rejects.jsonl';
}

function readJsonLines<T>(file: string, schema: z.ZodType<T>): T[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`cannot read ${file}: ${(error as Error).message}`);
  }
  const dir = path.dirname(path.resolve(file));
  const out: T[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new Error(`${file}:${i + 1}: not valid JSON (${(error as Error).message})`);
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new Error(`${file}:${i + 1}: ${issue.path.join('.') || 'line'}: ${issue.message}`);
    }
    const record = parsed.data as T & { path: string };
    record.path = path.resolve(dir, record.path);
    out.push(record);
  });
  return out;
}

/** Reads and validates a manifest; errors name the file and line. Indices must be 0, 1, 2, ... in order. */
export function readManifest(file: string): ManifestEntry[] {
  const entries = readJsonLines(file, entrySchema) as ManifestEntry[];
  entries.forEach((e, i) => {
    if (e.index !== i) throw new Error(`${file}: entry ${i + 1} has index ${e.index}, expected ${i} (indices must count up from 0)`);
  });
  return entries;
}

export function readRejects(file: string): ManifestReject[] {
  return readJsonLines(file, rejectSchema) as ManifestReject[];
}

/** Counts for a summary line: entries, rejects by reason (the "shorter than" reasons grouped). */
export function summarizeManifest(manifest: Pick<Manifest, 'entries' | 'rejects'>): { entries: number; clips: number; rejects: number; byReason: Record<string, number> } {
  const byReason: Record<string, number> = {};
  for (const r of manifest.rejects) {
    const key = r.reason.startsWith('shorter than one clip') ? 'shorter than one clip' : r.reason;
    byReason[key] = (byReason[key] ?? 0) + 1;
  }
  return {
    entries: manifest.entries.length,
    clips: manifest.entries.reduce((n, e) => n + e.numClips, 0),
    rejects: manifest.rejects.length,
    byReason,
  };
}
