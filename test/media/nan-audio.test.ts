// A float WAV holding NaN/Inf samples is rejected by name: left out of the spectrogram statistics (which
// stay finite) and skipped by the loader (counted, with the reason), instead of turning every statistic and
// every loss it touches into NaN.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as T from '../../src/tensor/index.js';
import { computeSpectrogramStats } from '../../src/media/spectrogram-stats.js';
import { buildManifest } from '../../src/data/manifest.js';
import { ClipDataset } from '../../src/data/dataset.js';
import { DataLoader } from '../../src/data/loader.js';
import { SequentialSampler } from '../../src/data/sampler.js';
import { firstNonFiniteSample } from '../../src/media/finite-samples.js';
import { spectrogramConfigFor } from '../../src/media/audio-input.js';

const RATE = 16000;
const SPECTROGRAM = spectrogramConfigFor({ sampleRate: RATE, windowSeconds: 0.02, hopSeconds: 0.02, freqBins: 129 });

/** A mono IEEE-float WAV (format 3) of `samples`. */
function floatWav(samples: Float32Array): Buffer {
  const data = Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVE', 8);
  header.write('fmt ', 12);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(3, 20); // IEEE float
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(RATE, 24);
  header.writeUInt32LE(RATE * 4, 28);
  header.writeUInt16LE(4, 32);
  header.writeUInt16LE(32, 34);
  header.write('data', 36);
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

function tone(seconds: number, poison?: { at: number; value: number }): Float32Array {
  const samples = Float32Array.from({ length: seconds * RATE }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 440 * i) / RATE));
  if (poison) for (let i = 0; i < seconds * RATE; i += RATE / 4) samples[i + poison.at] = poison.value; // four per second
  return samples;
}

function world() {
  const dir = mkdtempSync(path.join(tmpdir(), 'avid-nan-audio-'));
  writeFileSync(path.join(dir, 'good.wav'), floatWav(tone(3)));
  writeFileSync(path.join(dir, 'nan.wav'), floatWav(tone(3, { at: 7, value: NaN })));
  writeFileSync(path.join(dir, 'inf.wav'), floatWav(tone(3, { at: 3, value: Infinity })));
  return dir;
}

test('firstNonFiniteSample finds NaN and ±Infinity, and nothing in finite audio', () => {
  assert.equal(firstNonFiniteSample(Float32Array.from([0, 1, -3.4e38])), -1);
  assert.equal(firstNonFiniteSample(Float32Array.from([0, NaN, 1])), 1);
  assert.equal(firstNonFiniteSample(Float32Array.from([0, 2, -Infinity])), 2);
});

test('spectrogram statistics leave out files with NaN/Inf samples, name them, and stay finite', { timeout: 120_000 }, async () => {
  const dir = world();
  const files = ['good.wav', 'nan.wav', 'inf.wav'].map((f) => ({ path: path.join(dir, f), durationSec: 3 }));
  const config = SPECTROGRAM;
  const { stats, skipped } = await computeSpectrogramStats(files, config, { clipSeconds: 1, clipsPerFile: 2 });
  assert.deepEqual(skipped.map((s) => path.basename(s.path)).sort(), ['inf.wav', 'nan.wav']);
  for (const s of skipped) assert.match(s.reason, /audio holds non-finite samples \((NaN|Infinity) at \d+\.\d{3} s\)/);
  assert.ok([...stats.mean, ...stats.std].every(Number.isFinite), 'statistics are finite');
  assert.equal(stats.clips, 2, 'only the good file counted');
});

test('the loader skips clips with NaN/Inf audio, naming the file, and its batches stay finite', { timeout: 120_000 }, async () => {
  const dir = world();
  const { entries } = await buildManifest([dir], { mode: 'audio', clipSeconds: 1 });
  assert.equal(entries.length, 3);
  const dataset = new ClipDataset(entries, { mode: 'train', seed: 0, modalities: 'audio', sampleRate: RATE, clip: { audioSeconds: 1, audioOffsetSec: 0, audioDurationJitter: null }, augment: { crop: null, flip: false, colorJitter: null, volume: null }, clipsPerVideo: 1 });
  const loader = new DataLoader(dataset, { batchSize: 1, sampler: new SequentialSampler(dataset.length), spectrogram: SPECTROGRAM, log: null });
  const kept: string[] = [];
  for await (const batch of loader.epoch(0)) {
    kept.push(path.basename(batch.meta[0].path));
    assert.equal(T.tidy(() => batch.audio!.isfinite().all().item()), 1);
    batch.audio!.dispose();
    batch.index.dispose();
  }
  assert.deepEqual(kept, ['good.wav']);
  const skipped = loader.stats().skipped;
  assert.deepEqual(skipped.map((s) => path.basename(s.path)).sort(), ['inf.wav', 'nan.wav']);
  for (const s of skipped) assert.match(s.reason, /audio holds non-finite samples/);
  await loader.close();
});
