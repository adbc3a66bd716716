import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { readdirSync, writeFileSync, readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import * as T from '../../src/tensor/index.js';
import { buildManifest, type ManifestEntry } from '../../src/data/manifest.js';
import { ClipDataset, type ClipDatasetOptions } from '../../src/data/dataset.js';
import { DataLoader, type Batch } from '../../src/data/loader.js';
import { ShuffleSampler, SequentialSampler, shardOrder } from '../../src/data/sampler.js';
import { liveChildPids } from '../../src/media/child-processes.js';
import { decodesInFlight } from '../../src/media/native-decoder.js';
import { avClip, avClipsDir, esc10Dir, repoRoot, skipWithoutAvClips, skipWithoutEsc10, makeTempDir } from '../media/fixtures.js';

const small: Partial<ClipDatasetOptions> = { clip: { numFrames: 4, fps: 8 }, frameSize: [32, 32] };
const files = ['boat.mp4', 'grid_speaker.mp4', 'mmaction_test.avi', 'dog_barking.mp4'];
let entries: ManifestEntry[] = [];

async function manifestEntries(): Promise<ManifestEntry[]> {
  if (entries.length === 0) entries = (await buildManifest(files.map(avClip), { verifyEnd: false })).entries;
  return entries;
}

interface Snapshot {
  video: number[];
  audio: number[];
  index: number[];
  meta: Batch['meta'];
}

/** Reads every batch of one epoch into plain arrays, disposing the tensors. */
async function drain(loader: DataLoader, epoch: number): Promise<Snapshot[]> {
  const out: Snapshot[] = [];
  for await (const batch of loader.epoch(epoch)) {
    out.push({ video: Array.from(batch.video!.toFloat32Array()), audio: Array.from(batch.audio!.toFloat32Array()), index: batch.index.toArray(), meta: batch.meta });
    batch.video!.dispose();
    batch.audio!.dispose();
    batch.index.dispose();
  }
  return out;
}

test('batches: shapes and dtypes; same seed → byte-identical batches whatever the worker count; other seed or epoch → other augmentations', { skip: skipWithoutAvClips }, async () => {
  const list = await manifestEntries();
  const run = async (seed: number, workers: number, epoch: number) => {
    const loader = new DataLoader(new ClipDataset(list, { mode: 'train', seed, ...small }), { batchSize: 2, workers, log: null });
    try {
      return await drain(loader, epoch);
    } finally {
      await loader.close();
    }
  };
  const first = await run(1, 2, 0);
  assert.equal(first.length, 2);
  assert.equal(first[0].video.length, 2 * 3 * 4 * 32 * 32);
  assert.equal(first[0].audio.length, 2 * 1 * 100 * 129);
  assert.deepEqual([...first[0].index, ...first[1].index].sort(), [0, 1, 2, 3]);
  const again = await run(1, 1, 0);
  assert.deepEqual(again, first, 'same seed, one worker instead of two: identical batches');
  const otherSeed = await run(2, 2, 0);
  for (const other of [otherSeed]) {
    assert.notDeepEqual(other.map((b) => b.meta.map((m) => m.startSec)), first.map((b) => b.meta.map((m) => m.startSec)));
    const byIndex = (snap: Snapshot[], i: number) => {
      for (const b of snap) {
        const k = b.index.indexOf(i);
        if (k >= 0) return b.video.slice(k * 3 * 4 * 32 * 32, (k + 1) * 3 * 4 * 32 * 32);
      }
      throw new Error('missing');
    };
    for (let i = 0; i < 4; i++) assert.notDeepEqual(byIndex(other, i), byIndex(first, i), `sample ${i} augmented differently`);
  }
  // Another epoch: other clip times and augmentations (the plan is what the decode executes).
  const dataset = new ClipDataset(list, { mode: 'train', seed: 1, ...small });
  for (let i = 0; i < 4; i++) assert.notDeepEqual(dataset.plan(i, 1), dataset.plan(i, 0));
});

test('shapes and layout: (B,3,T,H,W) float32 normalised video, (B,1,100,129) audio, int64 index', { skip: skipWithoutAvClips }, async () => {
  const list = await manifestEntries();
  const loader = new DataLoader(new ClipDataset(list, { mode: 'eval', seed: 0, clipsPerVideo: 1, ...small }), { batchSize: 3, log: null });
  const it = loader.epoch(0);
  const { value: batch } = await it.next();
  assert.deepEqual(batch!.video!.shape, [3, 3, 4, 32, 32]);
  assert.equal(batch!.video!.dtype, 'float32');
  assert.deepEqual(batch!.audio!.shape, [3, 1, 100, 129]);
  assert.equal(batch!.index.dtype, 'int64');
  assert.deepEqual(batch!.index.toArray(), [0, 1, 2]);
  const mean = T.tidy(() => batch!.video!.mean().item());
  assert.ok(mean > -2.2 && mean < 2.7, `ImageNet-normalised values: mean ${mean}`);
  for (const t of [batch!.video!, batch!.audio!, batch!.index]) t.dispose();
  await it.return(undefined);
  await loader.close();
});

test('a file that fails to decode is skipped, counted and logged; batches stay full; nothing leaks', { skip: skipWithoutAvClips }, async () => {
  const { dir, cleanup } = makeTempDir();
  try {
    const list = await manifestEntries();
    const broken = path.join(dir, 'broken.mp4');
    writeFileSync(broken, 'not a video at all');
    // As if the file was damaged after the manifest was written.
    const withBroken: ManifestEntry[] = [...list, { ...list[0], index: list.length, path: broken }];
    const logged: string[] = [];
    const tensorsBefore = T.memory().liveTensors;
    const loader = new DataLoader(new ClipDataset(withBroken, { mode: 'train', seed: 5, ...small }), { batchSize: 2, workers: 2, log: (m) => logged.push(m), dropLast: false });
    const batches = await drain(loader, 0);
    await loader.close();
    assert.deepEqual(batches.map((b) => b.index.length), [2, 2], '4 good samples in 2 full batches');
    assert.ok(!batches.some((b) => b.index.includes(4)));
    const stats = loader.stats();
    assert.equal(stats.decoded, 4);
    assert.equal(stats.skipped.length, 1);
    assert.equal(stats.skipped[0].path, broken);
    assert.equal(stats.skipped[0].index, 4);
    assert.match(stats.skipped[0].reason, /^unreadable/);
    assert.equal(logged.length, 1);
    assert.match(logged[0], /skipped .*broken\.mp4 \(clip 0, epoch 0\): unreadable/);
    assert.equal(T.memory().liveTensors, tensorsBefore, 'no tensor left after iterating and closing');
    assert.deepEqual(liveChildPids(), []);
  } finally {
    cleanup();
  }
});

test('close() in the middle of an epoch stops every decode; the loader cannot be reused', { skip: skipWithoutAvClips }, async () => {
  const list = await manifestEntries();
  const many = Array.from({ length: 12 }, (_, i) => ({ ...list[i % list.length], index: i }));
  const tensorsBefore = T.memory().liveTensors;
  const loader = new DataLoader(new ClipDataset(many, { mode: 'train', seed: 3, ...small }), { batchSize: 2, workers: 2, prefetch: 3, log: null });
  const it = loader.epoch(0);
  const { value } = await it.next();
  for (const t of [value!.video!, value!.audio!, value!.index]) t.dispose();
  assert.ok(decodesInFlight() > 0, 'prefetching while the consumer works');
  await loader.close();
  assert.equal(decodesInFlight(), 0);
  assert.deepEqual(liveChildPids(), []);
  assert.equal(T.memory().liveTensors, tensorsBefore);
  await assert.rejects(it.next(), /loader closed/);
  await assert.rejects(loader.epoch(1).next(), /loader: closed/);
});

test('an error thrown by the consumer inside the loop stops the decodes: none left running, no tensor leaked', { skip: skipWithoutAvClips }, async () => {
  const list = await manifestEntries();
  const many = Array.from({ length: 12 }, (_, i) => ({ ...list[i % list.length], index: i }));
  const tensorsBefore = T.memory().liveTensors;
  const loader = new DataLoader(new ClipDataset(many, { mode: 'train', seed: 4, ...small }), { batchSize: 2, workers: 2, prefetch: 3, log: null });
  await assert.rejects(
    (async () => {
      for await (const batch of loader.epoch(0)) {
        for (const t of [batch.video!, batch.audio!, batch.index]) t.dispose();
        throw new Error('loss is NaN');
      }
    })(),
    /loss is NaN/,
  );
  assert.equal(decodesInFlight(), 0, 'leaving the loop ended the epoch and its decodes');
  assert.deepEqual(liveChildPids(), []);
  assert.equal(T.memory().liveTensors, tensorsBefore);
  await loader.close();
});

test('Ctrl-C (SIGINT) during an epoch: the program stops while native decodes are running', { skip: skipWithoutAvClips }, async () => {
  const { dir, cleanup } = makeTempDir();
  try {
    const script = path.join(dir, 'train.mts');
    writeFileSync(script, `
      import { buildManifest } from ${JSON.stringify(path.join(repoRoot, 'src/data/manifest.ts'))};
      import { ClipDataset } from ${JSON.stringify(path.join(repoRoot, 'src/data/dataset.ts'))};
      import { DataLoader } from ${JSON.stringify(path.join(repoRoot, 'src/data/loader.ts'))};
      import { decodesInFlight } from ${JSON.stringify(path.join(repoRoot, 'src/media/native-decoder.ts'))};
      const { entries } = await buildManifest([${JSON.stringify(avClipsDir)}], { verifyEnd: false });
      const loader = new DataLoader(new ClipDataset(entries, { mode: 'train', seed: 1, clip: { numFrames: 64, fps: 16 }, frameSize: [256, 256] }), { batchSize: 4, workers: 2, log: null });
      const timer = setInterval(() => { if (decodesInFlight() >= 2) { console.log('decoding'); clearInterval(timer); } }, 5);
      for (let epoch = 0; ; epoch++) for await (const b of loader.epoch(epoch)) { b.video.dispose(); b.audio.dispose(); b.index.dispose(); }
    `);
    const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    assert.deepEqual(liveChildPids(), []);
    child.kill('SIGINT');
    const ended = await new Promise((resolve) => child.once('close', (code, signal) => resolve(signal ?? code)));
    assert.equal(ended, 'SIGINT', 'the default Ctrl-C behaviour is kept with decodes on native threads');
  } finally {
    cleanup();
  }
});

test('evaluation: K uniformly spaced clips per video in order; the on-disk cache returns the same bytes', { skip: skipWithoutAvClips }, async () => {
  const { dir, cleanup } = makeTempDir();
  try {
    const list = (await manifestEntries()).slice(0, 2);
    const dataset = new ClipDataset(list, { mode: 'eval', seed: 0, clipsPerVideo: 3, cacheDir: dir, ...small });
    assert.equal(dataset.length, 6);
    assert.deepEqual(Array.from({ length: 6 }, (_, i) => dataset.item(i)), [0, 0, 0, 1, 1, 1].map((index, i) => ({ index, clipIndex: i % 3, clipCount: 3 })));
    const fresh = await dataset.get(1, 0);
    const cached = await dataset.get(1, 7);
    assert.equal(fresh.fromCache, false);
    assert.equal(cached.fromCache, true, 'evaluation clips do not depend on the epoch: the cache serves them');
    assert.deepEqual(cached.video, fresh.video);
    assert.deepEqual(cached.audio, fresh.audio);
    assert.equal(readdirSync(dir).length, 1);
    const plans = [0, 1, 2].map((i) => dataset.plan(i, 0));
    assert.deepEqual(plans.map((p) => p.timing.audioStartSec), plans.map((p) => p.startSec), 'aligned audio');
    assert.equal(plans[0].startSec, 0);
    assert.ok(plans.every((p) => !p.flip && p.colorJitter.order.length === 0 && p.volumeGain === 1));
    assert.throws(() => new ClipDataset(list, { mode: 'train', seed: 0, cacheDir: dir }), /evaluation only/);
  } finally {
    cleanup();
  }
});

test('samplers: a shuffled order per (seed, epoch); ranks share it without overlap and with equal lengths', () => {
  const a = new ShuffleSampler(10, 1).epochOrder(0);
  assert.deepEqual([...a].sort((x, y) => x - y), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(new ShuffleSampler(10, 1).epochOrder(0), a);
  assert.notDeepEqual(new ShuffleSampler(10, 1).epochOrder(1), a);
  assert.notDeepEqual(new ShuffleSampler(10, 2).epochOrder(0), a);
  const shards = [0, 1, 2].map((rank) => new ShuffleSampler(10, 1, { rank, worldSize: 3 }).epochOrder(0));
  assert.deepEqual(shards.map((s) => s.length), [3, 3, 3]);
  assert.equal(new Set(shards.flat()).size, 9, 'no overlap');
  assert.deepEqual(new SequentialSampler(5, { rank: 1, worldSize: 2 }).epochOrder(0), [1, 3]);
  assert.throws(() => shardOrder([1, 2], 2, 2), /rank must be an integer in \[0, 2\)/);
});

test('audio-only dataset over ESC-10 .ogg files: spectrogram batches, no video', { skip: skipWithoutEsc10 }, async () => {
  const oggs = readdirSync(esc10Dir).filter((f) => f.endsWith('.ogg')).sort().slice(0, 3).map((f) => path.join(esc10Dir, f));
  const { entries: list } = await buildManifest(oggs, { mode: 'audio', verifyEnd: false });
  const loader = new DataLoader(new ClipDataset(list, { mode: 'eval', seed: 0, modalities: 'audio', clipsPerVideo: 2 }), { batchSize: 4, log: null });
  const shapes: number[][] = [];
  for await (const batch of loader.epoch(0)) {
    assert.equal(batch.video, undefined);
    shapes.push(batch.audio!.shape);
    batch.audio!.dispose();
    batch.index.dispose();
  }
  await loader.close();
  assert.deepEqual(shapes, [[4, 1, 100, 129], [2, 1, 100, 129]]);
});
