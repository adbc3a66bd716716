// Clips cut from videos decoded in memory match the clips ffmpeg decodes one by one for the same plan.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateWorld } from '../../src/data/synth/index.js';
import { buildManifest } from '../../src/data/manifest.js';
import { ClipDataset, type ClipDatasetOptions } from '../../src/data/dataset.js';
import { InMemoryClipDataset, decodeAllVideos } from '../../src/data/in-memory-videos.js';

test('in-memory clips equal per-clip decodes (timing, crop, flip, audio)', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'avid-inmem-'));
  await generateWorld({ out: dir, videos: 3, seconds: 3, longVideos: 0, classes: 2, seed: 5, quiet: true } as never);
  const { entries } = await buildManifest([path.join(dir, 'clips')], { mode: 'audio-visual', clipSeconds: 1 });
  const options: ClipDatasetOptions = { mode: 'train', seed: 1, clip: { numFrames: 4, fps: 8, audioSeconds: 1, audioOffsetSec: 0.2, audioDurationJitter: null }, frameSize: [32, 32], sampleRate: 16000, clipsPerVideo: 2 };
  const reference = new ClipDataset(entries, options);
  const decoded = await decodeAllVideos(entries, { fps: 8, shortSide: 64, sampleRate: 16000 });
  const memory = new InMemoryClipDataset(entries, options, decoded);
  for (let i = 0; i < reference.length; i++) {
    const a = await reference.get(i, 3);
    const b = await memory.get(i, 3);
    assert.deepEqual([b.startSec, b.flip, b.crop], [a.startSec, a.flip, a.crop], 'same plan');
    assert.equal(b.video!.length, a.video!.length);
    let diff = 0;
    a.video!.forEach((v, k) => (diff += Math.abs(v - b.video![k])));
    const meanDiff = diff / a.video!.length;
    assert.ok(meanDiff < 12, `item ${i}: mean pixel difference ${meanDiff.toFixed(2)} of 255`);
    assert.equal(b.audio!.length, a.audio!.length);
    let dot = 0;
    let na = 0;
    let nb = 0;
    a.audio!.forEach((v, k) => {
      dot += v * b.audio![k];
      na += v * v;
      nb += b.audio![k] ** 2;
    });
    assert.ok(dot / Math.sqrt(na * nb + 1e-12) > 0.98, `item ${i}: audio correlation ${dot / Math.sqrt(na * nb)}`);
  }
});
