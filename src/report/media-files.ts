// Helpers for whoever writes a run directory's media: frame thumbnails (for the CMA grid) taken from a video
// by ffmpeg, and dataset files made reachable from the report (for retrieval examples) by a link or a copy.
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, lstatSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** `relPath` resolved inside `runDir`, or an error naming it when it would land outside. */
export function runPath(runDir: string, relPath: string): string {
  const root = path.resolve(runDir);
  const absolute = path.resolve(root, relPath);
  const relative = path.relative(root, absolute);
  if (path.isAbsolute(relPath) || relative === '' || relative === '..' || relative.startsWith(`..${path.sep}`))
    throw new Error(`'${relPath}' must be a path inside the run directory ${root}`);
  return absolute;
}

export interface ThumbnailOptions {
  /** Where in the video (seconds; default 0, clamped by ffmpeg to the last frame it can reach). */
  seconds?: number;
  /** Width in pixels (default 160); the height keeps the aspect ratio. */
  width?: number;
}

/**
 * Writes one frame of `video` as a JPEG (or PNG, by the extension of `relPath`) at `relPath` inside the run
 * directory, and returns `relPath` for the run file that names it.
 */
export async function extractThumbnail(video: string, runDir: string, relPath: string, options: ThumbnailOptions = {}): Promise<string> {
  const out = runPath(runDir, relPath);
  const extension = path.extname(out).toLowerCase();
  if (!['.jpg', '.jpeg', '.png'].includes(extension)) throw new Error(`thumbnail ${relPath}: use a .jpg or .png name`);
  if (!existsSync(video)) throw new Error(`thumbnail: video not found: ${video}`);
  const width = options.width ?? 160;
  if (!Number.isInteger(width) || width < 2) throw new Error(`thumbnail: width must be an integer of at least 2, got ${width}`);
  mkdirSync(path.dirname(out), { recursive: true });
  // ffmpeg writes nothing (and succeeds) when asked for a frame past the end: an old file must not pass for it.
  rmSync(out, { force: true });
  const args = ['-loglevel', 'error', '-nostdin', '-y', '-ss', String(Math.max(0, options.seconds ?? 0)), '-i', video, '-frames:v', '1', '-vf', `scale=${width}:-2`];
  if (extension !== '.png') args.push('-q:v', '4');
  args.push(out);
  try {
    await run('ffmpeg', args);
  } catch (error) {
    throw new Error(`thumbnail of ${video} at ${options.seconds ?? 0} s: ffmpeg failed: ${((error as { stderr?: string }).stderr || (error as Error).message).trim()}`);
  }
  if (!existsSync(out)) throw new Error(`thumbnail of ${video} at ${options.seconds ?? 0} s: no frame there (past the end?)`);
  return relPath;
}

/**
 * Makes `source` (e.g. a dataset video) reachable at `relPath` inside the run directory — a symbolic link by
 * default (no copy of large files; the report follows it), or a copy when the run must travel without the
 * dataset. Replaces what was at `relPath`. Returns `relPath`.
 */
export function linkIntoRun(runDir: string, source: string, relPath: string, mode: 'link' | 'copy' = 'link'): string {
  const target = runPath(runDir, relPath);
  const absoluteSource = path.resolve(source);
  if (!existsSync(absoluteSource)) throw new Error(`cannot add ${source} to the run: file not found`);
  mkdirSync(path.dirname(target), { recursive: true });
  if (existsSync(target) || isLink(target)) rmSync(target, { force: true });
  if (mode === 'copy') copyFileSync(absoluteSource, target);
  else symlinkSync(absoluteSource, target);
  return relPath;
}

function isLink(file: string): boolean {
  try {
    return lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}
