import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync, readdirSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeFileAtomic } from '../../src/io/atomic.js';

test('writeFileAtomic creates, replaces, and leaves no temporary file', () => {
  const directory = mkdtempSync(path.join(tmpdir(), 'avid-atomic-'));
  try {
    const file = path.join(directory, 'nested', 'state.json');
    writeFileAtomic(file, '{"step": 1}');
    assert.equal(readFileSync(file, 'utf8'), '{"step": 1}');
    writeFileAtomic(file, [Buffer.from('ab'), new Uint8Array([0x63])]);
    assert.equal(readFileSync(file, 'utf8'), 'abc');
    writeFileAtomic(file, new Uint8Array(0));
    assert.equal(readFileSync(file).length, 0);
    assert.deepEqual(readdirSync(path.dirname(file)), ['state.json']);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});

test('a failed write names the file, removes its temporary file and leaves the target as it was', () => {
  const directory = mkdtempSync(path.join(tmpdir(), 'avid-atomic-'));
  try {
    // The target is a non-empty directory, so the final rename must fail.
    const target = path.join(directory, 'occupied');
    mkdirSync(target);
    writeFileSync(path.join(target, 'keep.txt'), 'kept');
    assert.throws(() => writeFileAtomic(target, 'new'), /could not write .*occupied/);
    assert.deepEqual(readdirSync(directory), ['occupied']);
    assert.equal(readFileSync(path.join(target, 'keep.txt'), 'utf8'), 'kept');
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});
