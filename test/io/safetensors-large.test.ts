// safetensors files are read piecewise: a file over 2 GiB (a sparse one: a huge zero tensor and a small one
// after it) opens and its tensors read back; FIFOs and devices are refused by name instead of hanging.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, ftruncateSync, mkdtempSync, openSync, rmSync, statSync, statfsSync, writeSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as T from '../../src/tensor/index.js';
import { openSafetensors, loadSafetensors, saveSafetensors } from '../../src/io/safetensors.js';
import { loadCheckpoint } from '../../src/io/checkpoint.js';

const HUGE_BYTES = 2 ** 31 + 2 ** 20; // just over 2 GiB

/** Writes header + a sparse zero U8 tensor of HUGE_BYTES + a small F32 tensor at its end; null if the disk cannot hold it. */
function writeSparseFile(file: string, tail: Float32Array): number | null {
  const header = JSON.stringify({
    __metadata__: { format: 'test' },
    huge: { dtype: 'U8', shape: [HUGE_BYTES], data_offsets: [0, HUGE_BYTES] },
    tail: { dtype: 'F32', shape: [tail.length], data_offsets: [HUGE_BYTES, HUGE_BYTES + tail.byteLength] },
  });
  const json = Buffer.concat([Buffer.from(header), Buffer.alloc(-Buffer.byteLength(header) & 7, 0x20)]);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  const dataStart = 8 + json.length;
  const total = dataStart + HUGE_BYTES + tail.byteLength;
  const fd = openSync(file, 'w');
  try {
    writeSync(fd, length, 0, 8, 0);
    writeSync(fd, json, 0, json.length, 8);
    ftruncateSync(fd, total);
    writeSync(fd, new Uint8Array(tail.buffer), 0, tail.byteLength, dataStart + HUGE_BYTES);
  } finally {
    closeSync(fd);
  }
  // A file system without sparse files really allocates the gigabytes: only go on if they were there.
  const allocated = statSync(file).blocks * 512;
  const free = statfsSync(path.dirname(file));
  if (allocated > total / 2 && free.bavail * free.bsize < 4 * HUGE_BYTES) return null;
  return total;
}

test('a safetensors file over 2 GiB opens, and a tensor past the 2 GiB mark reads back exactly', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'avid-st-large-'));
  try {
    const free = statfsSync(dir);
    if (free.bavail * free.bsize < 64 * 2 ** 20) return t.skip('less than 64 MiB free');
    const file = path.join(dir, 'large.safetensors');
    const tail = Float32Array.from({ length: 1024 }, (_, i) => i * 0.5 - 3);
    const total = writeSparseFile(file, tail);
    if (total === null) return t.skip('no sparse files here and too little disk for 2 GiB');
    assert.ok(statSync(file).size > 2 ** 31, 'the file is over 2 GiB');
    const reader = openSafetensors(file);
    try {
      assert.deepEqual(reader.header.metadata, { format: 'test' });
      assert.deepEqual(reader.header.entries.map((e) => e.name), ['huge', 'tail']);
      const before = T.memory().liveTensors;
      T.tidy(() => assert.deepEqual(Array.from(reader.read('tail').toFloat32Array()), Array.from(tail)));
      assert.equal(T.memory().liveTensors, before);
      assert.throws(() => reader.read('nope'), /large\.safetensors: no tensor named 'nope'/);
    } finally {
      reader.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a FIFO and /dev/zero are refused with an error naming the file, without hanging', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'avid-st-fifo-'));
  try {
    const fifo = path.join(dir, 'pipe.safetensors');
    const made = spawnSync('mkfifo', [fifo]);
    if (made.status === 0) {
      assert.throws(() => loadSafetensors(fifo), (e: Error) => e.message.includes(fifo) && /FIFO, not a regular file/.test(e.message));
      assert.throws(() => loadCheckpoint(fifo), /FIFO, not a regular file/);
    }
    if (existsSync('/dev/zero')) assert.throws(() => loadSafetensors('/dev/zero'), /\/dev\/zero: it is a character device, not a regular file/);
    assert.throws(() => loadSafetensors(dir), /it is a directory, not a regular file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a file truncated after its header was validated is an error naming it', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'avid-st-trunc-'));
  try {
    const file = path.join(dir, 'x.safetensors');
    T.tidy(() => saveSafetensors(file, { a: T.ones([64]) }));
    const reader = openSafetensors(file);
    try {
      writeFileSync(file, Buffer.alloc(16)); // replaced in place under the open descriptor (same inode)
      assert.throws(() => reader.read('a'), /x\.safetensors: file ended at byte/);
    } finally {
      reader.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
