// Loader throughput: clips/s of decode + augmentation + spectrogram (8 frames of 112² at 16 fps and 2 s of
// 24 kHz audio per clip, the papers' pre-training augmentations) from the real videos of
// ../shared/data/av-clips, with 1 worker and with all workers; beside the training step's clips/s from
// bench/train-step.ts when it exists (the target: the loader delivers ≥ 3× what the step consumes).
// Prints one JSON line. Options: --clips 32 --batch 8 --workers N (default: the CPU count) --no-train-step
import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as T from '../src/tensor/index.js';
import { buildManifest } from '../src/data/manifest.js';
import { ClipDataset } from '../src/data/dataset.js';
import { DataLoader } from '../src/data/loader.js';
import { ANALYSIS_SPECTROGRAM } from '../src/media/spectrogram.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..');
const clipsDir = path.resolve(repoRoot, '../shared/data/av-clips');

const { values } = parseArgs({
  options: {
    clips: { type: 'string', default: '32' },
    batch: { type: 'string', default: '8' },
    workers: { type: 'string', default: String(availableParallelism()) },
    'train-steps': { type: 'string', default: '3' },
    'no-train-step': { type: 'boolean', default: false },
  },
});
const clips = Number(values.clips);
const batchSize = Number(values.batch);
const allWorkers = Number(values.workers);

if (!existsSync(clipsDir)) {
  console.log(JSON.stringify({ bench: 'loader', skipped: `no data at ${clipsDir}` }));
  process.exit(0);
}

const { entries } = await buildManifest([clipsDir], { mode: 'audio-visual', verifyEnd: false });

async function measure(workers: number): Promise<{ workers: number; clips: number; seconds: number; clipsPerSec: number; collateSeconds: number; skipped: number }> {
  const dataset = new ClipDataset(entries, { mode: 'train', seed: 1, clip: { numFrames: 8, fps: 16 }, frameSize: [112, 112] });
  const loader = new DataLoader(dataset, { batchSize, workers, prefetch: 2, dropLast: false, spectrogram: ANALYSIS_SPECTROGRAM, log: null });
  let done = 0;
  const t0 = performance.now();
  try {
    for (let epoch = 0; done < clips; epoch++) {
      const it = loader.epoch(epoch);
      for (;;) {
        const { value, done: finished } = await it.next();
        if (finished) break;
        done += value.index.size(0);
        for (const t of [value.video, value.audio, value.index]) t?.dispose();
        if (done >= clips) {
          await it.return(undefined);
          break;
        }
      }
    }
  } finally {
    await loader.close();
  }
  const seconds = (performance.now() - t0) / 1000;
  // The augmentation + spectrogram share, timed alone on decoded samples (main-thread work per clip).
  const samples = await Promise.all([0, 1, 2, 3, 4, 5, 6, 7].slice(0, batchSize).map((i) => dataset.get(i % dataset.length, 99)));
  const c0 = performance.now();
  for (let r = 0; r < 3; r++) {
    const b = loader.collate(samples);
    for (const t of [b.video, b.audio, b.index]) t?.dispose();
  }
  const collateSeconds = (performance.now() - c0) / 1000 / 3 / samples.length;
  return { workers, clips: done, seconds, clipsPerSec: done / seconds, collateSeconds, skipped: loader.stats().skipped.length };
}

const one = await measure(1);
const all = await measure(allWorkers);

let trainStep: { clipsPerSec: number; stepSeconds: number } | null = null;
let trainStepNote: string | null = null;
const trainBench = path.join(here, 'train-step.ts');
if (values['no-train-step']) trainStepNote = 'not run (--no-train-step)';
else if (!existsSync(trainBench)) trainStepNote = 'bench/train-step.ts not found';
else {
  const steps = values['train-steps']!;
  const r = spawnSync(process.execPath, ['--import', 'tsx', trainBench, '--no-reference', '--batch', String(batchSize), '--frames', '8', '--size', '112', '--steps', steps, '--warmup', '1'], {
    cwd: repoRoot,
    encoding: 'utf8',
  });
  try {
    const line = JSON.parse(r.stdout.trim().split('\n').pop()!);
    trainStep = { clipsPerSec: line.avid.clipsPerSec, stepSeconds: line.avid.stepSeconds };
  } catch {
    trainStepNote = `bench/train-step.ts failed: ${(r.stderr || r.stdout).trim().split('\n').pop()}`;
  }
}

console.log(
  JSON.stringify({
    bench: 'loader',
    config: { clips, batchSize, frames: 8, fps: 16, size: 112, audioSeconds: 2, sampleRate: 24000, spectrogram: '100x129', augment: 'papers (crop, flip, colour jitter, audio offset/duration/volume)', files: entries.length, torchThreads: T.getNumThreads() },
    oneWorker: one,
    allWorkers: all,
    scaling: all.clipsPerSec / one.clipsPerSec,
    mainThreadSecondsPerClip: all.collateSeconds,
    trainStep,
    trainStepNote,
    loaderToTrainStepRatio: trainStep ? all.clipsPerSec / trainStep.clipsPerSec : null,
  }),
);
