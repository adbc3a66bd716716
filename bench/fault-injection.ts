// Fault injection: real `avid pretrain` runs on a tiny synthetic world, interrupted at random steps by
// SIGINT (sent to the whole process group, as a terminal's Ctrl-C is) or SIGKILL, each resumed with
// `--resume` until it finishes, and compared step for step with one uninterrupted run (losses equal within
// 1e-6 relative; on one CPU they are expected to be identical). Afterwards no temporary or unconfirmed
// checkpoint file may be left in any run directory.
//
// Prints one JSON line: runs, interruptions (by signal), mismatches (steps whose loss differs, is missing or
// is logged twice), maxRelativeDifference, filesLeftBehind, seconds.
// Options: --runs 4 --interruptions 2 (per run, at most) --seed 0 --decode-cache memory|none --videos 8
//          --epochs 3 --keep (keep the temporary folder and print its path)
import { parseArgs } from 'node:util';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateWorld } from '../src/data/synth/index.js';
import { trainRecords } from '../test/helpers/run-metrics.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '4' },
    interruptions: { type: 'string', default: '2' },
    seed: { type: 'string', default: '0' },
    'decode-cache': { type: 'string', default: 'memory' },
    videos: { type: 'string', default: '8' },
    epochs: { type: 'string', default: '3' },
    keep: { type: 'boolean', default: false },
  },
});
const runs = Number(values.runs);
const maxInterruptions = Number(values.interruptions);
const decodeCache = values['decode-cache'];
if (decodeCache !== 'memory' && decodeCache !== 'none') throw new Error(`--decode-cache must be memory or none, got ${decodeCache}`);
const repoRoot = path.resolve(import.meta.dirname, '..');
const started = performance.now();

/** mulberry32: the plan of interruptions is repeatable from --seed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = random(Number(values.seed));

const work = mkdtempSync(path.join(tmpdir(), 'avid-fault-injection-'));
const world = path.join(work, 'world');
await generateWorld({ out: world, videos: Number(values.videos), seconds: 3, longVideos: 0, classes: 2, seed: 5, quiet: true } as never);
const configFile = path.join(work, 'tiny.yaml');
writeFileSync(
  configFile,
  [
    `runsDir: ${JSON.stringify(path.join(work, 'runs'))}`,
    `data: { source: ${JSON.stringify(path.join(world, 'clips'))}, workers: 2, prefetch: 1, clipsPerVideo: 2, decodeCache: ${decodeCache} }`,
    'video: { frames: 4, fps: 8, size: 32 }',
    'audio: { sampleRate: 16000, seconds: 1, hopSeconds: 0.02, windowSeconds: 0.02, freqBins: 129 }',
    'augment: { enabled: true }',
    'model: { width: 0.125, embeddingDim: 16 }',
    'objective: { negatives: 8 }',
    'optim: { lr: 1.0e-3, schedule: { kind: cosine } }',
    // A checkpoint every 2 steps: SIGKILL then falls between checkpoints as often as on one.
    `train: { epochs: ${Number(values.epochs)}, batchSize: 4, checkpointEvery: 2, logEvery: 1, threads: 1 }`,
    '',
  ].join('\n'),
);

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

function avid(args: string[]): { pid: number; done: Promise<Exit> } {
  const child = spawn(process.execPath, ['bin/avid.mjs', 'pretrain', ...args], { cwd: repoRoot, detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  return { pid: child.pid!, done: new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stderr }))) };
}

/** Waits until `runDir` has logged `step`; false if the run ended first. */
async function reached(runDir: string, step: number, run: { done: Promise<Exit> }): Promise<boolean> {
  let ended = false;
  void run.done.then(() => (ended = true));
  while (!trainRecords(runDir).some((r) => r.step >= step)) {
    if (ended) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}

const reference = avid(['--config', configFile, '--set', 'name=reference']);
const referenceExit = await reference.done;
if (referenceExit.code !== 0) throw new Error(`the reference run failed: ${referenceExit.stderr}`);
const expected = trainRecords(path.join(work, 'runs', 'reference'));
const totalSteps = expected.length;

const interruptions = { SIGINT: 0, SIGKILL: 0 };
const problems: string[] = [];
let mismatches = 0;
let maxRelativeDifference = 0;
let filesLeftBehind = 0;

for (let r = 0; r < runs; r++) {
  const name = `run-${r}`;
  const runDir = path.join(work, 'runs', name);
  // Interruption steps: distinct, increasing, inside the run.
  const count = 1 + Math.floor(rand() * maxInterruptions);
  const steps = [...new Set(Array.from({ length: count }, () => 1 + Math.floor(rand() * (totalSteps - 1))))].sort((a, b) => a - b);
  let first = true;
  for (const step of steps) {
    const signal: NodeJS.Signals = rand() < 0.5 ? 'SIGINT' : 'SIGKILL';
    const run = avid(first ? ['--config', configFile, '--set', `name=${name}`] : ['--resume', runDir]);
    first = false;
    if (!(await reached(runDir, step, run))) {
      problems.push(`${name}: ended before step ${step}: ${(await run.done).stderr.slice(-300)}`);
      continue;
    }
    // SIGINT to the group (the decoders get it too, as from a terminal); SIGKILL to the main process.
    process.kill(signal === 'SIGINT' ? -run.pid : run.pid, signal);
    const exit = await run.done;
    interruptions[signal]++;
    if (signal === 'SIGINT' && exit.code !== 130 && exit.code !== 0) problems.push(`${name}: SIGINT at step ${step} exited ${exit.code ?? exit.signal}: ${exit.stderr.slice(-300)}`);
  }
  const last = avid(first ? ['--config', configFile, '--set', `name=${name}`] : ['--resume', runDir]);
  const lastExit = await last.done;
  if (lastExit.code !== 0) problems.push(`${name}: the final resume exited ${lastExit.code ?? lastExit.signal}: ${lastExit.stderr.slice(-300)}`);

  const got = trainRecords(runDir);
  const byStep = new Map<number, number[]>();
  for (const g of got) byStep.set(g.step, [...(byStep.get(g.step) ?? []), g.loss]);
  for (const e of expected) {
    const losses = byStep.get(e.step) ?? [];
    if (losses.length !== 1) {
      mismatches++;
      continue;
    }
    const relative = Math.abs(losses[0] - e.loss) / Math.max(Math.abs(e.loss), 1e-12);
    maxRelativeDifference = Math.max(maxRelativeDifference, relative);
    if (!(relative <= 1e-6)) mismatches++;
  }
  mismatches += got.filter((g) => !expected.some((e) => e.step === g.step)).length;

  const left = (dir: string): string[] =>
    existsSync(dir)
      ? readdirSync(dir).flatMap((n) => {
          const p = path.join(dir, n);
          if (statSync(p).isDirectory()) return left(p);
          return n.endsWith('.tmp') || n === 'pending.safetensors' ? [p] : [];
        })
      : [];
  const stray = left(runDir);
  filesLeftBehind += stray.length;
  if (stray.length) problems.push(`${name}: left behind ${stray.join(', ')}`);
}

console.log(
  JSON.stringify({
    bench: 'fault-injection',
    decodeCache,
    runs,
    stepsPerRun: totalSteps,
    interruptions: { total: interruptions.SIGINT + interruptions.SIGKILL, sigint: interruptions.SIGINT, sigkill: interruptions.SIGKILL },
    mismatches,
    maxRelativeDifference,
    filesLeftBehind,
    problems,
    seconds: Number(((performance.now() - started) / 1000).toFixed(1)),
    ...(values.keep ? { kept: work } : {}),
  }),
);
if (!values.keep) rmSync(work, { recursive: true, force: true });
