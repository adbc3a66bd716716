// The loader's batch-level fetch: the samples of one batch that come from the same video are decoded in one
// call (ClipDataset.getGroup). Grouping must change nothing but the work done: the batches, the skipped
// samples and their reasons are those of decoding every sample on its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import * as T from '../../src/tensor/index.js';
import { buildManifest, type ManifestEntry } from '../../src/data/manifest.js';
import { ClipDataset, type ClipDatasetOptions, type ItemOutcome } from '../../src/data/dataset.js';
import { DataLoader, type LoaderStats } from '../../src/data/loader.js';
import { LongFormSampler } from '../../src/data/long-form-sampler.js';
import { ShuffleSampler, type Sampler } from '../../src/data/sampler.js';
import { decodesInFlight } from '../../src/media/native-decoder.js';
import { avClip, makeTempDir, skipWithoutAvClips } from '../media/fixtures.js';

// Long-GOP files (a keyframe every 4.8 s, 5 s, 8.4 s or only at the start), an AVI with decode-order
// timestamps and MP3, and AAC audio with noise substitution: where a shared pass could differ from a lone one.
const files = ['car-detection.mp4', 'skateboarding_dog.mp4', 'mmaction_test.avi', 'IronMan.mp4'];
const small: Partial<ClipDatasetOptions> = { clip: { numFrames: 4, fps: 8 }, frameSize: [32, 32] };

/** A dataset that records the size of every decode call the loader makes. */
class RecordingDataset extends ClipDataset {
  readonly callSizes: number[] = [];
  override getGroup(items: readonly number[], epoch: number, signal?: AbortSignal): Promise<ItemOutcome[]> {
    this.callSizes.push(items.length);
    return super.getGroup(items, epoch, signal);
  }
}

interface EpochRecord {
  batches: { video: Buffer; audio: Buffer; index: number[]; meta: unknown }[];
  stats: LoaderStats;
  callSizes: number[];
}

/** One epoch through a fresh loader, as bytes; the tensors are disposed and the loader closed. */
async function readEpoch(entries: ManifestEntry[], options: ClipDatasetOptions, sampler: (d: ClipDataset) => Sampler, batchSize: number, groupByVideo: boolean): Promise<EpochRecord> {
  const dataset = new RecordingDataset(entries, options);
  const loader = new DataLoader(dataset, { batchSize, sampler: sampler(dataset), workers: 2, groupByVideo, log: null, dropLast: false });
  const batches: EpochRecord['batches'] = [];
  try {
    for await (const b of loader.epoch(0)) {
      const bytes = (t: T.Tensor) => Buffer.from(t.toFloat32Array().buffer);
      batches.push({ video: bytes(b.video!), audio: bytes(b.audio!), index: b.index.toArray(), meta: b.meta });
      for (const t of [b.video!, b.audio!, b.index]) t.dispose();
    }
  } finally {
    await loader.close();
  }
  return { batches, stats: loader.stats(), callSizes: dataset.callSizes };
}

function longForm(k: number, batchSize: number, seed: number) {
  return (d: ClipDataset) => new LongFormSampler(d.entries.map((e) => d.itemsOfEntry(e.index).length), { k, w: k, batchSize, seed });
}

test('long-form batches (k clips of one video within w = k): grouped decoding gives byte-identical batches, with the augmentations', { skip: skipWithoutAvClips }, async () => {
  const { entries } = await buildManifest(files.map(avClip), { verifyEnd: false });
  const options: ClipDatasetOptions = { mode: 'train', seed: 11, clipsPerVideo: 'all', ...small };
  const tensorsBefore = T.memory().liveTensors;
  const grouped = await readEpoch(entries, options, longForm(4, 8, 11), 8, true);
  const alone = await readEpoch(entries, options, longForm(4, 8, 11), 8, false);
  assert.ok(grouped.callSizes.some((n) => n >= 4), `groups of k = 4 decoded in one call (call sizes ${grouped.callSizes.join(',')})`);
  assert.ok(alone.callSizes.every((n) => n === 1));
  assert.equal(grouped.callSizes.reduce((a, b) => a + b, 0), alone.callSizes.length, 'every sample fetched once either way');
  assert.equal(grouped.batches.length, alone.batches.length);
  grouped.batches.forEach((b, i) => {
    const a = alone.batches[i];
    assert.deepEqual(b.index, a.index, `batch ${i}: same samples`);
    assert.deepEqual(b.meta, a.meta, `batch ${i}: same clip times and flips`);
    assert.ok(b.video.equals(a.video), `batch ${i}: byte-identical video`);
    assert.ok(b.audio.equals(a.audio), `batch ${i}: byte-identical audio`);
  });
  assert.deepEqual(grouped.stats, alone.stats);
  assert.equal(grouped.stats.skipped.length, 0);
  assert.equal(T.memory().liveTensors, tensorsBefore, 'no tensor left');
  assert.equal(decodesInFlight(), 0);
});

test('several clips per video under a shuffled sampler: the clips of one video that share a batch are one call, the batches unchanged', { skip: skipWithoutAvClips }, async () => {
  const { entries } = await buildManifest(files.map(avClip), { verifyEnd: false });
  const options: ClipDatasetOptions = { mode: 'train', seed: 12, clipsPerVideo: 3, ...small };
  const shuffled = (d: ClipDataset) => new ShuffleSampler(d.length, 12);
  const grouped = await readEpoch(entries, options, shuffled, 6, true);
  const alone = await readEpoch(entries, options, shuffled, 6, false);
  assert.ok(grouped.callSizes.some((n) => n >= 2), `some clips of one video shared a batch and a call (call sizes ${grouped.callSizes.join(',')})`);
  assert.equal(grouped.batches.length, alone.batches.length);
  grouped.batches.forEach((b, i) => {
    const a = alone.batches[i];
    assert.deepEqual([b.index, b.meta], [a.index, a.meta], `batch ${i}`);
    assert.ok(b.video.equals(a.video) && b.audio.equals(a.audio), `batch ${i}: byte-identical`);
  });
  assert.deepEqual(grouped.stats, alone.stats);
});

test('a damaged file in a group costs only its own samples, with the reasons of decoding them alone; the other videos are untouched', { skip: skipWithoutAvClips }, async () => {
  const { dir, cleanup } = makeTempDir();
  try {
    const { entries } = await buildManifest(files.map(avClip), { verifyEnd: false });
    // Damaged after the manifest was written: car-detection cut in half (its index is at the front, so it
    // opens; the clips in the second half find nothing), and another entry's file replaced by text.
    const cut = path.join(dir, 'car-detection-cut.mp4');
    const source = readFileSync(avClip('car-detection.mp4'));
    writeFileSync(cut, source.subarray(0, Math.floor(source.length / 2)));
    const garbage = path.join(dir, 'skateboarding-dog-overwritten.mp4');
    writeFileSync(garbage, 'overwritten by a text editor\n');
    const damaged = entries.map((e) => (e.path.endsWith('car-detection.mp4') ? { ...e, path: cut } : e.path.endsWith('skateboarding_dog.mp4') ? { ...e, path: garbage } : e));
    const options: ClipDatasetOptions = { mode: 'train', seed: 13, clipsPerVideo: 'all', ...small };
    const tensorsBefore = T.memory().liveTensors;
    const grouped = await readEpoch(damaged, options, longForm(4, 8, 13), 8, true);
    const alone = await readEpoch(damaged, options, longForm(4, 8, 13), 8, false);
    assert.ok(grouped.callSizes.some((n) => n >= 4));

    const byPath = (stats: LoaderStats, file: string) => stats.skipped.filter((s) => s.path === file);
    const cutIndex = damaged.findIndex((e) => e.path === cut);
    const cutClips = damaged[cutIndex].numClips;
    const skippedCut = byPath(grouped.stats, cut);
    assert.ok(skippedCut.length > 0 && skippedCut.length < cutClips, `the cut file loses some of its ${cutClips} clips, not all (lost ${skippedCut.length})`);
    for (const s of skippedCut) assert.ok(damaged[cutIndex].durationSec * s.clipIndex / cutClips > 10, `clip ${s.clipIndex} of the cut file lies in its missing half`);
    const skippedGarbage = byPath(grouped.stats, garbage);
    assert.equal(skippedGarbage.length, damaged.find((e) => e.path === garbage)!.numClips, 'every clip of the overwritten file skipped');
    for (const s of skippedGarbage) assert.match(s.reason, /^unreadable/);
    assert.equal(grouped.stats.skipped.length, skippedCut.length + skippedGarbage.length, 'the intact videos lose nothing');

    // The same skips, reasons and batches as decoding every sample alone (the order of skips may differ).
    const sorted = (stats: LoaderStats) => [...stats.skipped].sort((a, b) => a.index - b.index || a.clipIndex - b.clipIndex);
    assert.deepEqual(sorted(grouped.stats), sorted(alone.stats));
    assert.equal(grouped.stats.decoded, alone.stats.decoded);
    assert.equal(grouped.batches.length, alone.batches.length);
    grouped.batches.forEach((b, i) => {
      const a = alone.batches[i];
      assert.deepEqual([b.index, b.meta], [a.index, a.meta], `batch ${i}`);
      assert.ok(b.video.equals(a.video) && b.audio.equals(a.audio), `batch ${i}: byte-identical`);
    });
    assert.equal(T.memory().liveTensors, tensorsBefore, 'no tensor left');
    assert.equal(decodesInFlight(), 0);
  } finally {
    cleanup();
  }
});

test('getGroup: items of one entry only; an aborted signal rejects the whole call', { skip: skipWithoutAvClips }, async () => {
  const { entries } = await buildManifest(files.map(avClip), { verifyEnd: false });
  const dataset = new ClipDataset(entries, { mode: 'train', seed: 1, clipsPerVideo: 'all', ...small });
  const [first, second] = [dataset.itemsOfEntry(0), dataset.itemsOfEntry(1)];
  await assert.rejects(dataset.getGroup([first[0], second[0]], 0), /getGroup takes items of one entry, got entries 0, 1/);
  const aborted = new AbortController();
  aborted.abort();
  await assert.rejects(dataset.getGroup(first, 0, aborted.signal), (e: unknown) => (e as Error).name === 'AbortError');
  assert.equal(decodesInFlight(), 0);
});
