// Atomic file replacement: readers see either the old file or the complete new one, never a partial write,
// even if the process or the machine dies midway. The data goes to a temporary file in the same directory
// (so the rename cannot cross file systems), is fsynced, renamed over the target, and the directory is
// fsynced so that the rename itself is durable.
import { openSync, writeSync, fsyncSync, closeSync, renameSync, unlinkSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';

let counter = 0;

/** Writes `data` (or the chunks of `data`, in order) to `file` atomically; creates the parent directory. */
export function writeFileAtomic(file: string, data: Uint8Array | string | readonly Uint8Array[]): void {
  const directory = path.dirname(path.resolve(file));
  mkdirSync(directory, { recursive: true });
  const temporary = path.join(directory, `.${path.basename(file)}.${process.pid}.${Date.now()}.${counter++}.tmp`);
  const chunks: Uint8Array[] =
    typeof data === 'string' ? [Buffer.from(data, 'utf8')] : data instanceof Uint8Array ? [data] : [...data];
  let fd = -1;
  try {
    fd = openSync(temporary, 'wx', 0o644);
    for (const chunk of chunks) writeAll(fd, chunk);
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    renameSync(temporary, file);
  } catch (error) {
    if (fd >= 0) closeSync(fd);
    try {
      unlinkSync(temporary);
    } catch {
      // the temporary file may not exist (open failed) or was already renamed
    }
    throw new Error(`could not write ${file}: ${(error as Error).message}`, { cause: error });
  }
  syncDirectory(directory);
}

/** Renames `from` to `to` (replacing it) and makes the rename durable. */
export function renameDurably(from: string, to: string): void {
  renameSync(from, to);
  syncDirectory(path.dirname(path.resolve(to)));
}

const TEMPORARY_NAME = /^\..+\.(\d+)\.\d+\.\d+\.tmp$/;

/**
 * Removes the temporary files that writeFileAtomic left in `directory` when its process was killed midway
 * (a checkpoint's can be gigabytes). Files of a process that is still alive are left alone. Returns the
 * names removed.
 */
export function removeStaleTemporaries(directory: string): string[] {
  let names: string[];
  try {
    names = readdirSync(directory);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const match = TEMPORARY_NAME.exec(name);
    if (!match) continue;
    const pid = Number(match[1]);
    if (pid !== process.pid && isAlive(pid)) continue;
    try {
      unlinkSync(path.join(directory, name));
      removed.push(name);
    } catch {
      // gone already, or not ours to remove
    }
  }
  return removed;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function writeAll(fd: number, chunk: Uint8Array): void {
  let written = 0;
  while (written < chunk.byteLength) {
    written += writeSync(fd, chunk, written, chunk.byteLength - written);
  }
}

/** Makes a rename in `directory` durable. Some platforms (Windows) cannot open directories: that is no error. */
function syncDirectory(directory: string): void {
  let fd: number;
  try {
    fd = openSync(directory, 'r');
  } catch {
    return;
  }
  try {
    fsyncSync(fd);
  } catch {
    // fsync on a directory is refused on some file systems; the rename has still happened
  } finally {
    closeSync(fd);
  }
}
