// Shared test fixtures: the real media of ../shared/data and small generated (also corrupt) files.
import { existsSync, mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const sharedData = path.resolve(repoRoot, '../shared/data');
export const avClipsDir = path.join(sharedData, 'av-clips');
export const esc10Dir = path.join(sharedData, 'esc10');

/** `skip` option for node:test: a reason string when the shared data is absent, else false. */
export const skipWithoutAvClips: string | false = existsSync(avClipsDir) ? false : `shared data not found at ${avClipsDir}`;
export const skipWithoutEsc10: string | false = existsSync(esc10Dir) ? false : `shared data not found at ${esc10Dir}`;

export function avClip(name: string): string {
  return path.join(avClipsDir, name);
}

export function makeTempDir(prefix = 'avid-media-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Writes the corrupt files the robustness tests use into `dir`; returns their paths. */
export function writeCorruptFiles(dir: string): { zeroBytes: string; textAsMp4: string; truncated: string } {
  const zeroBytes = path.join(dir, 'zero-bytes.mp4');
  writeFileSync(zeroBytes, '');
  const textAsMp4 = path.join(dir, 'notes-renamed.mp4');
  writeFileSync(textAsMp4, 'These are meeting notes, saved with the wrong extension.\nNothing to decode here.\n');
  // boat.mp4 keeps its index at the front, so a cut copy still opens but its data stops early: the
  // interrupted-download case that only fails at decode time unless the probe checks the end.
  const truncated = path.join(dir, 'truncated.mp4');
  const source = readFileSync(avClip('boat.mp4'));
  writeFileSync(truncated, source.subarray(0, Math.floor(source.length / 4)));
  return { zeroBytes, textAsMp4, truncated };
}

/** Generates a small test video with ffmpeg (lavfi sources), arguments as an array. */
export function generateVideo(file: string, o: { seconds: number; width: number; height: number; fps: number; audio?: boolean; extraArgs?: string[] }): string {
  const args = ['-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=${o.width}x${o.height}:rate=${o.fps}:duration=${o.seconds}`];
  if (o.audio ?? true) args.push('-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=44100:duration=${o.seconds}`);
  args.push('-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p');
  if (o.audio ?? true) args.push('-c:a', 'aac', '-shortest');
  args.push(...(o.extraArgs ?? []), file);
  execFileSync('ffmpeg', args);
  return file;
}
