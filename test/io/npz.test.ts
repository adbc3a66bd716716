// NumPy .npz archives written by numpy itself (np.savez, np.savez_compressed), read without Python; object
// arrays (pickles) and damaged files refused with the file named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readNpz, parseNpy } from '../../src/io/npz.js';
import { loadAudioStatsFile } from '../../src/eval/audio-stats-file.js';
import { spectrogramConfigFor } from '../../src/media/audio-input.js';
import { runPython, pythonTorchSkipReason } from '../helpers/python.js';

const skip = pythonTorchSkipReason() ?? false;

const WRITE_NPZ = String.raw`
import sys, numpy as np
d = sys.argv[1]
mean = (np.arange(257, dtype=np.float32) * -0.25 - 30).astype(np.float32)
std = (np.arange(257, dtype=np.float32) * 0.01 + 8).astype(np.float32)
np.savez(d + '/stats-257.npz', mean=mean, std=std)
np.savez_compressed(d + '/stats-129.npz', mean=np.linspace(-60, -20, 129), std=np.linspace(5, 15, 129))
np.savez(d + '/mixed.npz', grid=np.arange(6, dtype=np.int64).reshape(2, 3), bytes=np.array([1, 255], dtype=np.uint8))
np.savez(d + '/bigendian.npz', mean=np.array([1.5], dtype='>f8'))
np.savez(d + '/objects.npz', mean=np.array([{'a': 1}], dtype=object))
`;

test('np.savez and np.savez_compressed archives read exactly; object arrays and damaged files refused', { skip }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'avid-npz-'));
  try {
    runPython(WRITE_NPZ, { args: [dir] });
    const stats = readNpz(path.join(dir, 'stats-257.npz'));
    assert.deepEqual([...stats.keys()].sort(), ['mean', 'std']);
    assert.equal(stats.get('mean')!.descr, '<f4');
    assert.deepEqual(stats.get('mean')!.shape, [257]);
    assert.equal(stats.get('mean')!.data[4], -31);
    assert.equal(stats.get('std')!.data[256], Math.fround(Math.fround(256 * 0.01) + 8));
    const compressed = readNpz(path.join(dir, 'stats-129.npz'));
    assert.equal(compressed.get('std')!.descr, '<f8');
    assert.equal(compressed.get('mean')!.data[128], -20);
    const mixed = readNpz(path.join(dir, 'mixed.npz'));
    assert.deepEqual(mixed.get('grid')!.shape, [2, 3]);
    assert.deepEqual(Array.from(mixed.get('grid')!.data), [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(Array.from(mixed.get('bytes')!.data), [1, 255]);
    assert.throws(() => readNpz(path.join(dir, 'bigendian.npz')), /bigendian\.npz:mean\.npy: not a readable \.npy array: dtype '>f8' is not a plain little-endian number/);
    assert.throws(() => readNpz(path.join(dir, 'objects.npz')), /objects\.npz:mean\.npy: .*dtype '\|O'.*pickles, which are not read/);

    // As spectrogram statistics: the reference front end's config, the right number of bins.
    const reference = spectrogramConfigFor({ frontend: 'reference', sampleRate: 24000, windowSeconds: 0.02, hopSeconds: 0.01, freqBins: 257 });
    const loaded = loadAudioStatsFile(path.join(dir, 'stats-257.npz'), reference);
    assert.deepEqual(loaded.config, reference);
    assert.equal(loaded.mean.length, 257);
    assert.throws(() => loadAudioStatsFile(path.join(dir, 'stats-129.npz'), reference), /stats-129\.npz: 'mean' has shape \(129\), the spectrogram 257 bins/);
    assert.throws(() => loadAudioStatsFile(path.join(dir, 'mixed.npz'), reference), /mixed\.npz: no array 'mean' \(it has grid, bytes\)/);
    const paper = spectrogramConfigFor({ sampleRate: 24000, windowSeconds: 0.02, hopSeconds: 0.01, freqBins: 257 });
    assert.throws(() => loadAudioStatsFile(path.join(dir, 'stats-257.npz'), paper), /uses the 'paper' front end \(pass --frontend reference\)/);

    // Damaged: not a zip, a truncated array.
    writeFileSync(path.join(dir, 'text.npz'), 'mean,std\n');
    assert.throws(() => readNpz(path.join(dir, 'text.npz')), /text\.npz: not an \.npz archive/);
    const npy = new Uint8Array(readFileSync(path.join(dir, 'stats-257.npz')).subarray(0, 0));
    assert.throws(() => parseNpy(npy, 'empty.npy'), /empty\.npy: not a readable \.npy array: no \\x93NUMPY magic/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a .npy header that promises more data than the file holds is refused', () => {
  const header = "{'descr': '<f4', 'fortran_order': False, 'shape': (10,), }";
  const padded = header.padEnd(118, ' ') + '\n';
  const bytes = new Uint8Array(10 + padded.length + 8);
  bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(bytes.buffer).setUint16(8, padded.length, true);
  bytes.set(new TextEncoder().encode(padded), 10);
  assert.throws(() => parseNpy(bytes, 'short.npy'), /short\.npy: .*shape \(10\) of <f4 needs 40 bytes of data, the file has 8/);
});
