// The audio feature cache is keyed by the data files' sizes and modification times as well as their paths:
// a file replaced under the same name is extracted again, an unchanged one is served from the cache.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as T from '../../src/tensor/index.js';
import { extractAudioFeatures } from '../../src/eval/audio-features.js';
import { createAudioFrontend } from '../../src/eval/audio-frontend.js';

function wav(file: string, frequency: number): void {
  const rate = 16000;
  const samples = Int16Array.from({ length: rate }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * frequency * i) / rate)));
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + samples.byteLength, 4);
  header.write('WAVEfmt ', 8);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36);
  header.writeUInt32LE(samples.byteLength, 40);
  writeFileSync(file, Buffer.concat([header, Buffer.from(samples.buffer)]));
}

// An "encoder" whose one block is the spectrogram's mean per frequency bin: features differ with the sound.
const encoder = {
  forwardBlocks: (x: T.Tensor) => ({ bins: x.mean([1, 2]) }),
  namedModules: () => [],
  eval: () => undefined,
};

test('a data file replaced under the same name is not served the old features', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'avid-feature-key-'));
  const file = path.join(dir, 'sound.wav');
  wav(file, 440);
  const options = { blocks: { bins: 'flatten' as const }, frontend: createAudioFrontend({ sampleRate: 16000 }), sampleRate: 16000, clipSeconds: 0.5, clipsPerSample: 1, cacheDir: path.join(dir, 'cache'), encoderIdentity: 'test' };
  const first = await extractAudioFeatures(encoder, [file], options);
  assert.equal(first.fromCache, false);
  const again = await extractAudioFeatures(encoder, [file], options);
  assert.equal(again.fromCache, true, 'an unchanged file is served from the cache');
  wav(file, 2000); // same size, new content
  utimesSync(file, new Date(), new Date(Date.now() + 5000));
  const replaced = await extractAudioFeatures(encoder, [file], options);
  assert.equal(replaced.fromCache, false, 'the replaced file is extracted again');
  const a = first.blocks.get('bins')!;
  const b = replaced.blocks.get('bins')!;
  assert.notDeepEqual(Array.from(a.data), Array.from(b.data));
});
