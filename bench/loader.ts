// Loader throughput against the reference's data path, in one run, on the same clips: decode + the papers'
// augmentations + spectrogram (8 frames of 112² at 16 fps, 2 s of 24 kHz audio, 100×129) per clip.
//
// Configurations: avid with 1 worker and with all cores, on the raw files and on their `avid prepare` copies
// (prepared by this bench into a cache folder, resumable, so only the first run pays for it); and the
// reference's path (bench/reference/pyav_loader.py: PyAV + PIL + torchvision transforms + torch.stft, as
// AVID-CMA loads a clip, one Python process) on the raw files and on the same prepared copies.
//
// Per configuration: wall clips/s and clips per CPU-second — clips divided by the user + system CPU time the
// loader used: for avid its own threads (process.cpuUsage) plus its ffmpeg children (cutime + cstime of
// /proc/self/stat, counted when they are reaped); for the reference, its process (resource.getrusage). Each
// avid measurement runs one whole epoch of exactly `clips` samples, so no prefetched-then-discarded decode
// is counted. The machine is shared and noisy: the measurements alternate (avid's four configurations, then
// the reference's two, `--rounds` times) and the medians are reported, with every value and the load.
//
// Prints one JSON line. Options: --data DIR (default ../shared/data/av-clips) --clips 32 --batch 8
// --workers N (default: the core count) --rounds 3 --prepared-dir DIR --short-side 128 --python /usr/bin/python3
// --no-reference --train-steps 3 --no-train-step
import { parseArgs } from 'node:util';
import { existsSync, readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as T from '../src/tensor/index.js';
import { buildManifest, type ManifestEntry } from '../src/data/manifest.js';
import { prepareCollection } from '../src/data/prepare.js';
import { ClipDataset } from '../src/data/dataset.js';
import { DataLoader } from '../src/data/loader.js';
import { drainLoader } from './lib/drain-loader.js';
import { TRAINING_CLIP } from './lib/training-clip.js';
import { ANALYSIS_SPECTROGRAM } from '../src/media/spectrogram.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..');

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: path.resolve(repoRoot, '../shared/data/av-clips') },
    clips: { type: 'string', default: '32' },
    batch: { type: 'string', default: '8' },
    workers: { type: 'string', default: String(availableParallelism()) },
    rounds: { type: 'string', default: '3' },
    'prepared-dir': { type: 'string' },
    'short-side': { type: 'string', default: '128' },
    python: { type: 'string', default: '/usr/bin/python3' },
    'no-reference': { type: 'boolean', default: false },
    'train-steps': { type: 'string', default: '3' },
    'no-train-step': { type: 'boolean', default: false },
  },
});
const dataDir = path.resolve(values.data!);
const requestedClips = Number(values.clips);
const batchSize = Number(values.batch);
const allWorkers = Number(values.workers);
const rounds = Number(values.rounds);
const shortSide = Number(values['short-side']);
for (const [flag, v] of Object.entries({ '--clips': requestedClips, '--batch': batchSize, '--workers': allWorkers, '--rounds': rounds, '--short-side': shortSide })) {
  if (!Number.isInteger(v) || v < 1) throw new Error(`${flag} must be a positive integer; got ${v}`);
}

if (!existsSync(dataDir)) {
  console.log(JSON.stringify({ bench: 'loader', skipped: `no data at ${dataDir}` }));
  process.exit(0);
}

const loadAtStart = loadavg();

// ---- CPU accounting ------------------------------------------------------------------------------------

const clockTicks = (() => {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = Number(r.stdout?.trim());
  return Number.isFinite(n) && n > 0 ? n : 100;
})();

/** CPU seconds of this process's reaped children (user + system), from /proc/self/stat; 0 where there is none. */
function childrenCpuSeconds(): number {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    // Fields after the command name (which may hold spaces): state is field 3; cutime, cstime are 16, 17.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[16 - 3]) + Number(fields[17 - 3])) / clockTicks;
  } catch {
    return 0;
  }
}

function cpuSeconds(): { own: number; children: number } {
  const u = process.cpuUsage();
  return { own: (u.user + u.system) / 1e6, children: childrenCpuSeconds() };
}

// ---- the two collections: raw files and their prepared copies ---------------------------------------------

const raw = (await buildManifest([dataDir], { mode: 'audio-visual', verifyEnd: false })).entries;
if (raw.length === 0) {
  console.log(JSON.stringify({ bench: 'loader', skipped: `no usable audio-visual file in ${dataDir}` }));
  process.exit(0);
}
const preparedDir = values['prepared-dir']
  ? path.resolve(values['prepared-dir'])
  : path.join(tmpdir(), `avid-bench-prepared-${createHash('sha1').update(`${dataDir}:${shortSide}`).digest('hex').slice(0, 12)}`);
const prepareStarted = performance.now();
const prepared = await prepareCollection(dataDir, { outDir: preparedDir, shortSide, workers: allWorkers, verifyEnd: false });
const prepareSeconds = (performance.now() - prepareStarted) / 1000;
if (prepared.entries.length !== raw.length) {
  throw new Error(`the prepared copy in ${preparedDir} has ${prepared.entries.length} audio-visual files, the raw folder ${raw.length}: delete ${preparedDir} and run again`);
}

// Exactly `clips` samples per epoch: clipsPerVideo × files (rounded up to whole files, the same for both).
const clipsPerVideo = Math.ceil(requestedClips / raw.length);
const clips = clipsPerVideo * raw.length;

interface Measurement {
  clips: number;
  wallSeconds: number;
  cpuSeconds: number;
  childCpuSeconds: number;
  clipsPerSec: number;
  clipsPerCpuSecond: number;
  maxRssMB: number;
  skipped: number;
}

async function measureAvid(entries: ManifestEntry[], workers: number, seed: number): Promise<Measurement> {
  const dataset = new ClipDataset(entries, { mode: 'train', seed, clip: { numFrames: 8, fps: 16 }, frameSize: [112, 112], clipsPerVideo });
  const loader = new DataLoader(dataset, { batchSize, workers, prefetch: 2, dropLast: false, spectrogram: ANALYSIS_SPECTROGRAM, log: null });
  const cpu0 = cpuSeconds();
  const t0 = performance.now();
  const done = await drainLoader(loader);
  const wallSeconds = (performance.now() - t0) / 1000;
  const cpu1 = cpuSeconds();
  const childCpuSeconds = cpu1.children - cpu0.children;
  const cpu = cpu1.own - cpu0.own + childCpuSeconds;
  return {
    clips: done,
    wallSeconds,
    cpuSeconds: cpu,
    childCpuSeconds,
    clipsPerSec: done / wallSeconds,
    clipsPerCpuSecond: done / cpu,
    maxRssMB: process.resourceUsage().maxRSS / 1024,
    skipped: loader.stats().skipped.length,
  };
}

interface ReferenceMeasurement {
  set: string;
  clips: number;
  wallSeconds: number;
  cpuSeconds: number;
  clipsPerSec: number;
  clipsPerCpuSecond: number;
  maxRssMB: number;
  failures: number;
}

const scratch = mkdtempSync(path.join(tmpdir(), 'avid-bench-loader-'));
const setsFile = path.join(scratch, 'sets.json');
writeFileSync(setsFile, JSON.stringify({ raw: raw.map((e) => e.path), prepared: prepared.entries.map((e) => e.path) }));
let referenceNote: string | null = values['no-reference'] ? 'not run (--no-reference)' : null;

function measureReference(seed: number): Record<string, ReferenceMeasurement> | null {
  if (referenceNote) return null;
  const script = path.join(here, 'reference', 'pyav_loader.py');
  const r = spawnSync(values.python!, [script, '--sets', setsFile, '--clips', String(clips), '--batch', String(batchSize), '--seed', String(seed)], { encoding: 'utf8' });
  if (r.status !== 0) {
    referenceNote = `${values.python} ${path.relative(repoRoot, script)} failed: ${(r.error?.message ?? r.stderr ?? '').trim().split('\n').slice(-1)[0]} (it needs Debian's python3-av, python3-torch, python3-torchvision, python3-pil)`;
    return null;
  }
  const out: Record<string, ReferenceMeasurement> = {};
  for (const line of r.stdout.trim().split('\n')) {
    const m = JSON.parse(line) as ReferenceMeasurement;
    out[m.set] = m;
  }
  return out;
}

// ---- alternating rounds ----------------------------------------------------------------------------------

const configs = [
  { name: 'rawOneWorker', entries: raw, workers: 1 },
  { name: 'rawAllWorkers', entries: raw, workers: allWorkers },
  { name: 'preparedOneWorker', entries: prepared.entries, workers: 1 },
  { name: 'preparedAllWorkers', entries: prepared.entries, workers: allWorkers },
] as const;
const avidRuns: Record<string, Measurement[]> = Object.fromEntries(configs.map((c) => [c.name, []]));
const referenceRuns: Record<string, ReferenceMeasurement[]> = { raw: [], prepared: [] };
try {
  for (let round = 0; round < rounds; round++) {
    for (const c of configs) avidRuns[c.name].push(await measureAvid(c.entries, c.workers, round + 1));
    const ref = measureReference(round + 1);
    if (ref) for (const set of ['raw', 'prepared']) referenceRuns[set].push(ref[set]);
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
const round3 = (x: number) => Math.round(x * 1000) / 1000;
function summary<M extends { clipsPerSec: number; clipsPerCpuSecond: number; maxRssMB: number; cpuSeconds: number; wallSeconds: number }>(runs: M[], extra: (m: M[]) => Record<string, unknown> = () => ({})) {
  if (runs.length === 0) return null;
  return {
    clipsPerSec: round3(median(runs.map((m) => m.clipsPerSec))),
    clipsPerCpuSecond: round3(median(runs.map((m) => m.clipsPerCpuSecond))),
    cpuSecondsPerClip: round3(median(runs.map((m) => m.cpuSeconds / (m.clipsPerSec * m.wallSeconds)))),
    peakRssMB: Math.round(Math.max(...runs.map((m) => m.maxRssMB))),
    runs: runs.map((m) => ({ clipsPerSec: round3(m.clipsPerSec), clipsPerCpuSecond: round3(m.clipsPerCpuSecond) })),
    ...extra(runs),
  };
}
const avid = Object.fromEntries(
  configs.map((c) => [c.name, summary(avidRuns[c.name], (runs) => ({ workers: c.workers, childCpuShare: round3(median(runs.map((m) => m.childCpuSeconds / m.cpuSeconds))), skipped: runs.reduce((n, m) => n + m.skipped, 0) }))]),
) as Record<(typeof configs)[number]['name'], NonNullable<ReturnType<typeof summary>>>;
const reference = referenceRuns.raw.length > 0 ? { raw: summary(referenceRuns.raw)!, prepared: summary(referenceRuns.prepared)! } : null;

const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined && b > 0 ? round3(a / b) : null);
const perCpu = (name: keyof typeof avid, set: 'raw' | 'prepared') => ({
  oneWorker: ratio(avid[name.replace('AllWorkers', 'OneWorker') as keyof typeof avid].clipsPerCpuSecond, reference?.[set].clipsPerCpuSecond),
  allWorkers: ratio(avid[name.replace('OneWorker', 'AllWorkers') as keyof typeof avid].clipsPerCpuSecond, reference?.[set].clipsPerCpuSecond),
});

// ---- the training step it must feed ----------------------------------------------------------------------

let trainStep: { clipsPerSec: number; stepSeconds: number } | null = null;
let trainStepNote: string | null = null;
const trainBench = path.join(here, 'train-step.ts');
if (values['no-train-step']) trainStepNote = 'not run (--no-train-step)';
else if (!existsSync(trainBench)) trainStepNote = 'bench/train-step.ts not found';
else {
  const r = spawnSync(process.execPath, ['--import', 'tsx', trainBench, '--no-reference', '--batch', String(batchSize), '--frames', '8', '--size', '112', '--steps', values['train-steps']!, '--warmup', '1'], {
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
    config: {
      data: dataDir,
      files: raw.length,
      clips,
      rounds,
      batchSize,
      ...TRAINING_CLIP,
      cores: availableParallelism(),
      torchThreads: T.getNumThreads(),
      avidDecoder: 'in-process FFmpeg libraries on native threads (src/media/decode.ts, native/media_decode.cc)',
      prepared: { dir: preparedDir, shortSide, keyframeSeconds: prepared.settings.keyframeSeconds, transcodedNow: prepared.transcoded.length, seconds: round3(prepareSeconds) },
    },
    avid,
    reference,
    referenceNote,
    // avid / reference in clips per CPU-second (targets: raw vs raw ≥ 4, prepared vs raw ≥ 10, prepared vs prepared ≥ 2).
    ratiosPerCpuSecond: reference
      ? {
          rawVsRaw: perCpu('rawAllWorkers', 'raw'),
          preparedVsRaw: perCpu('preparedAllWorkers', 'raw'),
          preparedVsPrepared: perCpu('preparedAllWorkers', 'prepared'),
        }
      : null,
    ratiosWall: reference
      ? {
          rawVsRaw: ratio(avid.rawAllWorkers.clipsPerSec, reference.raw.clipsPerSec),
          preparedVsRaw: ratio(avid.preparedAllWorkers.clipsPerSec, reference.raw.clipsPerSec),
          preparedVsPrepared: ratio(avid.preparedAllWorkers.clipsPerSec, reference.prepared.clipsPerSec),
        }
      : null,
    // Wall clips/s with all workers over 1 worker (target ≥ 0.8 × cores).
    scaling: { raw: ratio(avid.rawAllWorkers.clipsPerSec, avid.rawOneWorker.clipsPerSec), prepared: ratio(avid.preparedAllWorkers.clipsPerSec, avid.preparedOneWorker.clipsPerSec), workers: allWorkers },
    trainStep,
    trainStepNote,
    loaderToTrainStepRatio: trainStep ? { raw: ratio(avid.rawAllWorkers.clipsPerSec, trainStep.clipsPerSec), prepared: ratio(avid.preparedAllWorkers.clipsPerSec, trainStep.clipsPerSec) } : null,
    loadAverage: { start: loadAtStart.map(round3), end: loadavg().map(round3) },
  }),
);
