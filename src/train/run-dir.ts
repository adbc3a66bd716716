// The run directory's bookkeeping files written at the start of a run: the resolved config, the versions
// used, and the data summary (including every rejected file and why).
import { mkdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { torchVersion } from '../tensor/index.js';
import { writeFileAtomic } from '../io/atomic.js';

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

