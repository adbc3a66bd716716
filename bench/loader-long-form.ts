// Long-form batches through the loader: the k clips of one video (within a window of w = k clip slots) that a
// batch holds decoded in one call, where clips reached from the same keyframe share one pass over the file
// (groupByVideo, the default), against the same batches decoded one clip at a time (groupByVideo: false) —
// byte-identical batches (test/data/loader-groups.test.ts), so only the work differs.
//
// The real videos are 3–30 s long: to give each several clip slots, the manifest cuts them into slots of
// --slot-seconds (default 0.5 s, the video clip's length), so that a 30 s video holds 60 slots and a group of
// k = 8 or 16 fits in most files. Each clip: 8 frames of 112² at 16 fps, 2 s of 24 kHz audio, the papers'
// augmentations, the 100×129 spectrogram — the loader's whole work, decode and assembly.
//
// Per configuration: wall clips/s and clips per CPU-second (clips divided by the user + system CPU time of this
// process: the decoder runs on its native threads, there are no child processes). Each measurement is one
// epoch of the same first --batches batches of the long-form order, so no prefetched-then-discarded decode is
// counted. The machine is shared and noisy: the two configurations alternate, --rounds times, and the medians
// are reported with every value and the load average.
//
// Also measured the same way: several clips per video (--clips-per-video, default 4: clip c of C drawn in the
// c-th of C equal segments of the file) under the shuffled sampler, where the clips of one video that happen
// to share a batch are one call; they share a pass only when they fall after the same keyframe.
//
// Prints one JSON line. Options: --data DIR (default ../shared/data/av-clips) --k 8,16 --batch 16
// --batches 6 --workers 2 --rounds 3 --slot-seconds 0.5 --clips-per-video 4 (0: not measured)
import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as T from '../src/tensor/index.js';
import { buildManifest, type ManifestEntry } from '../src/data/manifest.js';
import { ClipDataset } from '../src/data/dataset.js';
import { DataLoader } from '../src/data/loader.js';
import { drainLoader } from './lib/drain-loader.js';
import { TRAINING_CLIP } from './lib/training-clip.js';
import { LongFormSampler } from '../src/data/long-form-sampler.js';
import { ShuffleSampler, type Sampler } from '../src/data/sampler.js';
import { ANALYSIS_SPECTROGRAM } from '../src/media/spectrogram.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    data: { type: 'string', default: path.resolve(repoRoot, '../shared/data/av-clips') },
    k: { type: 'string', default: '8,16' },
    batch: { type: 'string', default: '16' },
    batches: { type: 'string', default: '6' },
    workers: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '3' },
    'slot-seconds': { type: 'string', default: '0.5' },
    'clips-per-video': { type: 'string', default: '4' },
  },
});
const dataDir = path.resolve(values.data!);
const ks = values.k!.split(',').map(Number);
const batchSize = Number(values.batch);
const batches = Number(values.batches);
const workers = Number(values.workers);
const rounds = Number(values.rounds);
const slotSeconds = Number(values['slot-seconds']);
const clipsPerVideo = Number(values['clips-per-video']);
if (!Number.isInteger(clipsPerVideo) || clipsPerVideo < 0) throw new Error(`--clips-per-video must be an integer ≥ 0; got ${values['clips-per-video']}`);
for (const [flag, v] of Object.entries({ '--batch': batchSize, '--batches': batches, '--workers': workers, '--rounds': rounds, ...Object.fromEntries(ks.map((k) => ['--k', k])) })) {
  if (!Number.isInteger(v) || v < 1) throw new Error(`${flag} must be a positive integer; got ${v}`);
}
for (const k of ks) if (batchSize % k !== 0) throw new Error(`--batch (${batchSize}) must be a multiple of every --k (${k})`);
if (!(slotSeconds > 0)) throw new Error(`--slot-seconds must be > 0; got ${values['slot-seconds']}`);
if (!existsSync(dataDir)) {
  console.log(JSON.stringify({ bench: 'loader-long-form', skipped: `no data at ${dataDir}` }));
  process.exit(0);
}
const loadAtStart = loadavg();

const entries = (await buildManifest([dataDir], { mode: 'audio-visual', clipSeconds: slotSeconds, verifyEnd: false })).entries;
if (entries.length === 0) {
  console.log(JSON.stringify({ bench: 'loader-long-form', skipped: `no usable audio-visual file in ${dataDir}` }));
  process.exit(0);
}

/** The long-form order cut to its first `batches` batches: the same clips for both configurations. */
function firstBatches(base: Sampler, n: number): Sampler {
  return { epochOrder: (epoch) => base.epochOrder(epoch).slice(0, n) };
}

interface Measurement {
  clips: number;
  wallSeconds: number;
  cpuSeconds: number;
  clipsPerSec: number;
  clipsPerCpuSecond: number;
  decodeCalls: number;
}

/** k > 0: long-form batches over every clip slot; k = 0: `clipsPerVideo` clips per video, shuffled. */
async function measure(list: ManifestEntry[], k: number, grouped: boolean, seed: number): Promise<Measurement> {
  const dataset = new ClipDataset(list, { mode: 'train', seed, clip: { numFrames: 8, fps: 16 }, frameSize: [112, 112], clipsPerVideo: k > 0 ? 'all' : clipsPerVideo });
  let decodeCalls = 0;
  const getGroup = dataset.getGroup.bind(dataset);
  dataset.getGroup = (items, epoch, signal) => (decodeCalls++, getGroup(items, epoch, signal));
  const base = k > 0 ? new LongFormSampler(list.map((e) => dataset.itemsOfEntry(e.index).length), { k, w: k, batchSize, seed }) : new ShuffleSampler(dataset.length, seed);
  const loader = new DataLoader(dataset, { batchSize, sampler: firstBatches(base, batches * batchSize), workers, prefetch: 2, groupByVideo: grouped, dropLast: false, spectrogram: ANALYSIS_SPECTROGRAM, log: null });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const done = await drainLoader(loader);
  const wallSeconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  if (loader.stats().skipped.length > 0) throw new Error(`skipped clips: ${JSON.stringify(loader.stats().skipped.slice(0, 3))}`);
  return { clips: done, wallSeconds, cpuSeconds, clipsPerSec: done / wallSeconds, clipsPerCpuSecond: done / cpuSeconds, decodeCalls };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const round3 = (x: number) => Math.round(x * 1000) / 1000;
const summary = (runs: Measurement[]) => ({
  clips: runs[0].clips,
  decodeCalls: runs[0].decodeCalls,
  clipsPerSec: round3(median(runs.map((m) => m.clipsPerSec))),
  clipsPerCpuSecond: round3(median(runs.map((m) => m.clipsPerCpuSecond))),
  runs: runs.map((m) => ({ clipsPerSec: round3(m.clipsPerSec), clipsPerCpuSecond: round3(m.clipsPerCpuSecond) })),
});

const results: Record<string, unknown> = {};
for (const k of clipsPerVideo > 0 ? [...ks, 0] : ks) {
  const grouped: Measurement[] = [];
  const oneByOne: Measurement[] = [];
  // Same seed in a round for both: the same clips, crops and flips.
  for (let round = 0; round < rounds; round++) {
    grouped.push(await measure(entries, k, true, round + 1));
    oneByOne.push(await measure(entries, k, false, round + 1));
  }
  const g = summary(grouped);
  const o = summary(oneByOne);
  const ratios = { ratioPerCpuSecond: round3(g.clipsPerCpuSecond / o.clipsPerCpuSecond), ratioWall: round3(g.clipsPerSec / o.clipsPerSec) };
  if (k > 0) results[`longFormK${k}`] = { k, w: k, grouped: g, oneByOne: o, ...ratios };
  else results.clipsPerVideo = { clipsPerVideo, sampler: 'shuffled', grouped: g, oneByOne: o, ...ratios };
}

console.log(
  JSON.stringify({
    bench: 'loader-long-form',
    config: {
      data: dataDir,
      files: entries.length,
      slotSeconds,
      clipSlots: entries.reduce((n, e) => n + e.numClips, 0),
      batchSize,
      batches,
      workers,
      rounds,
      ...TRAINING_CLIP,
      cores: availableParallelism(),
      torchThreads: T.getNumThreads(),
    },
    ...results,
    loadAverage: { start: loadAtStart.map(round3), end: loadavg().map(round3) },
  }),
);
