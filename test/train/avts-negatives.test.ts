// AVTS negatives as the real training source makes them. Two 6 s videos whose soundtracks are frequency
// sweeps, one rising and one falling, so that any 1 s audio window tells which video it comes from (the
// sweep's direction) and where it starts (its frequency). The test reads both back from the spectrograms the
// MediaBatchSource yields: it never sees the offsets the source drew.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as T from '../../src/tensor/index.js';
import { buildManifest } from '../../src/data/manifest.js';
import { parseConfig } from '../../src/config/load.js';
import { MediaBatchSource, createTrainingSource } from '../../src/train/media-batch-source.js';
import { hardShareAt } from '../../src/ssl/avts.js';
import type { SpectrogramStats } from '../../src/media/spectrogram.js';
import { spectrogramConfigFor } from '../../src/media/audio-input.js';
import type { TrainBatch } from '../../src/train/batch-source.js';

const SECONDS = 6;
const SAMPLE_RATE = 24000;
// Instantaneous frequency of the rising sweep: F0 + RATE·t; the falling one: F1 − RATE·t.
const F0 = 500;
const F1 = 7000;
const RATE = 1000;
const MIN_OFFSET = 1.5;

function makeVideo(file: string, phase: string): void {
  const r = spawnSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc=size=32x32:rate=8:duration=${SECONDS}`, '-f', 'lavfi', '-i', `aevalsrc=0.5*sin(2*PI*(${phase})):s=${SAMPLE_RATE}:d=${SECONDS}`, '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '192k', '-shortest', file], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

function config(dir: string, share: number, decodeCache: 'memory' | 'none') {
  return parseConfig({
    data: { source: dir, workers: 1, decodeCache, clipsPerVideo: 4 },
    video: { frames: 4, fps: 8, size: 32 },
    augment: { enabled: false },
    audio: { sampleRate: SAMPLE_RATE, seconds: 1, hopSeconds: 0.02, windowSeconds: 0.02, freqBins: 129 },
    objective: { kind: 'avts', avts: { hardNegativeShare: share, curriculumEpochs: 1, minOffsetSeconds: MIN_OFFSET } },
    train: { batchSize: 4 },
  });
}

/** The identity normalisation: the spectrogram's log power as is, so its peak bin is the sweep's frequency. */
function identityStats(c: ReturnType<typeof config>): SpectrogramStats {
  const bins = c.audio.freqBins;
  return { config: spectrogramConfigFor(c.audio), mean: new Array(bins).fill(0), std: new Array(bins).fill(1), frames: 1, clips: 1 };
}

/**
 * Which sweep a (frames, bins) spectrogram holds and where its window starts in its file: the peak bin's
 * frequency per frame, a line fitted through it (slope gives the direction, the intercept the start time).
 */
function locate(spectrogram: Float32Array, frames: number, bins: number, hopSeconds: number): { rising: boolean; startSec: number } {
  const hz = SAMPLE_RATE / 2 / (bins - 1);
  const points: [number, number][] = [];
  // The first and last frames see half a window of padding.
  for (let f = 2; f < frames - 2; f++) {
    let best = 0;
    for (let b = 1; b < bins; b++) if (spectrogram[f * bins + b] > spectrogram[f * bins + best]) best = b;
    points.push([f * hopSeconds, best * hz]);
  }
  const n = points.length;
  const mt = points.reduce((s, p) => s + p[0], 0) / n;
  const mf = points.reduce((s, p) => s + p[1], 0) / n;
  const slope = points.reduce((s, p) => s + (p[0] - mt) * (p[1] - mf), 0) / points.reduce((s, p) => s + (p[0] - mt) ** 2, 0);
  const rising = slope > 0;
  // At time τ into the window the frequency is F0 + RATE·(start + τ) (rising) or F1 − RATE·(start + τ).
  const startSec = rising ? (mf - F0) / RATE - mt : (F1 - mf) / RATE - mt;
  return { rising, startSec };
}

async function collect(source: MediaBatchSource, epoch: number): Promise<{ positive: Float32Array[]; negative: Float32Array[]; hard: boolean[]; shape: number[] }> {
  const out = { positive: [] as Float32Array[], negative: [] as Float32Array[], hard: [] as boolean[], shape: [] as number[] };
  for await (const batch of source.epoch(epoch, 0) as AsyncIterable<TrainBatch>) {
    assert.ok(batch.audioNegative && batch.negativeIsHard, 'an AVTS batch carries negative audio and which rows are hard');
    const [b, , frames, bins] = batch.audio.shape;
    out.shape = [frames, bins];
    const rows = (t: T.Tensor) => Array.from({ length: b }, (_, i) => T.tidy(() => t.select(0, i).toFloat32Array()));
    out.positive.push(...rows(batch.audio));
    out.negative.push(...rows(batch.audioNegative));
    out.hard.push(...(batch.negativeIsHard.toArray() as (number | boolean)[]).map(Boolean));
    for (const t of [batch.video, batch.audio, batch.index, batch.audioNegative, batch.negativeIsHard]) t?.dispose();
  }
  return out;
}

for (const decodeCache of ['none', 'memory'] as const) {
  test(`AVTS hard negatives are the same video's audio at least the minimum offset away; easy ones another sample's (decodeCache ${decodeCache})`, { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'avid-avts-negatives-'));
    try {
      makeVideo(path.join(dir, 'rising.mp4'), `${F0}*t+${RATE / 2}*t*t`);
      makeVideo(path.join(dir, 'falling.mp4'), `${F1}*t-${RATE / 2}*t*t`);
      const { entries } = await buildManifest([dir], { clipSeconds: 1 });
      assert.equal(entries.length, 2);
      const c = config(dir, 0.5, decodeCache);
      const source = await createTrainingSource(c, entries, identityStats(c));
      const before = T.memory().liveTensors;
      try {
        const frames = Math.round(c.audio.seconds / c.audio.hopSeconds);
        // The curriculum: the easy phase (epoch 0) has no hard negatives, then half of them are hard.
        for (const epoch of [0, 1, 2]) {
          source.setHardNegativeShare(hardShareAt(c.objective.avts, epoch));
          const { positive, negative, hard, shape } = await collect(source, epoch);
          assert.equal(positive.length, 8);
          if (epoch === 0) assert.ok(hard.every((h) => !h), 'no hard negatives during the easy phase');
          else assert.ok(hard.some(Boolean) && hard.some((h) => !h), `a mix of hard and easy negatives in epoch ${epoch}: ${hard}`);
          for (let i = 0; i < positive.length; i++) {
            const pos = locate(positive[i], shape[0], shape[1], c.audio.hopSeconds);
            const neg = locate(negative[i], shape[0], shape[1], c.audio.hopSeconds);
            assert.ok(shape[0] >= frames - 1);
            assert.ok(pos.startSec > -0.05 && pos.startSec < SECONDS - c.audio.seconds + 0.05, `in-sync window at ${pos.startSec.toFixed(3)} s`);
            if (hard[i]) {
              assert.equal(neg.rising, pos.rising, `hard negative ${i} comes from the same video`);
              const offset = Math.abs(neg.startSec - pos.startSec);
              assert.ok(offset >= MIN_OFFSET - 0.05, `hard negative ${i} is ${offset.toFixed(3)} s away (minimum ${MIN_OFFSET} s)`);
            } else {
              // Easy: another video's in-sync audio, the next such sample's in the batch.
              assert.notEqual(neg.rising, pos.rising, `easy negative ${i} comes from the other video`);
              const batchStart = i - (i % 4);
              const from = [1, 2, 3].map((s) => batchStart + ((i + s) % 4)).find((j) => locate(positive[j], shape[0], shape[1], c.audio.hopSeconds).rising !== pos.rising)!;
              assert.deepEqual(negative[i], positive[from], `easy negative ${i} is sample ${from}'s in-sync audio`);
            }
          }
        }
      } finally {
        await source.close();
      }
      assert.equal(T.memory().liveTensors, before);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
