// The run directory: where a run's name puts it (never outside runsDir), what happens to one that exists
// already (it is moved aside, never deleted), and the bookkeeping files written at the start of a run: the
// resolved config, the versions used, and the data summary (including every rejected file and why).
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { torchVersion } from '../tensor/index.js';
import { writeFileAtomic } from '../io/atomic.js';

/**
 * <runsDir>/<name>, refusing a name that would leave runsDir (an absolute path, '..') or name runsDir itself.
 * A name may hold sub-folders ('ablation/k1').
 */
export function resolveRunDir(runsDir: string, name: string): string {
  const root = path.resolve(runsDir);
  const bad = (why: string) => new Error(`name '${name}' ${why}: a run's name is a folder inside runsDir (${root})`);
  if (name.trim() === '') throw bad('is empty');
  if (path.isAbsolute(name) || /^[a-zA-Z]:/.test(name)) throw bad('is an absolute path');
  if (name.split(/[\\/]/).some((part) => part === '..')) throw bad("contains '..'");
  const runDir = path.resolve(root, name);
  if (runDir === root || !runDir.startsWith(root + path.sep)) throw bad('does not name a folder inside runsDir');
  return runDir;
}

/**
 * Moves an existing run directory aside, to `<runDir>.replaced-<UTC time stamp>`, and returns the new path.
 * Nothing is deleted: the old run stays whole and can be renamed back.
 */
export function moveRunAside(runDir: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[:.]/g, '-');
  let target = `${runDir}.replaced-${stamp}`;
  for (let n = 2; existsSync(target); n++) target = `${runDir}.replaced-${stamp}-${n}`;
  renameSync(runDir, target);
  return target;
}

export function ensureRunDir(runDir: string): void {
  mkdirSync(path.join(runDir, 'checkpoints'), { recursive: true });
  mkdirSync(path.join(runDir, 'results'), { recursive: true });
}

export function writeJson(runDir: string, file: string, value: unknown): void {
  mkdirSync(path.dirname(path.join(runDir, file)), { recursive: true });
  writeFileAtomic(path.join(runDir, file), `${JSON.stringify(value, null, 2)}\n`);
}

export function versions(): Record<string, string> {
  const ffmpeg = spawnSync('ffmpeg', ['-version'], { encoding: 'utf8' });
  const pkg = createRequire(import.meta.url)('../../package.json') as { version: string };
  return {
    avid: pkg.version,
    node: process.version,
    torch: torchVersion,
    ffmpeg: ffmpeg.status === 0 ? ffmpeg.stdout.split('\n')[0].replace(/^ffmpeg version /, '').split(' ')[0] : 'not found',
    platform: `${process.platform} ${process.arch}`,
  };
}

export function writeVersions(runDir: string): void {
  writeJson(runDir, 'versions.json', versions());
}

