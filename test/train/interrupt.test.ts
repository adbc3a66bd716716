// Ctrl-C on a real `avid pretrain` over a tiny synthetic world, on both data paths (videos decoded into
// memory, and per-clip decoding on the native decoder's threads): the first SIGINT finishes the step, writes
// the checkpoint and exits 130, whether it is sent to the main process alone (`kill -INT pid`) or to the
// whole process group (a terminal's Ctrl-C) while native decodes are in flight; `--resume` then reproduces
// the uninterrupted losses exactly.
// With a fixture whose source misbehaves: a second SIGINT quits at once, and a source that hangs does not
// keep the run from stopping.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateWorld } from '../../src/data/synth/index.js';
import { openSafetensors } from '../../src/io/safetensors.js';
import { trainRecords } from '../helpers/run-metrics.js';

const repoRoot = path.resolve(import.meta.dirname, '../..');
let world = '';
let configFile = '';

before(async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'avid-interrupt-'));
  world = path.join(dir, 'world');
  await generateWorld({ out: world, videos: 8, seconds: 3, longVideos: 0, classes: 2, seed: 5, quiet: true } as never);
  configFile = path.join(dir, 'tiny.yaml');
  writeFileSync(
    configFile,
    [
      'name: tiny',
      `data: { source: ${JSON.stringify(path.join(world, 'clips'))}, workers: 2, prefetch: 1, clipsPerVideo: 2 }`,
      'video: { frames: 4, fps: 8, size: 32 }',
      'audio: { sampleRate: 16000, seconds: 1, hopSeconds: 0.02, windowSeconds: 0.02, freqBins: 129 }',
      'augment: { enabled: true }',
      'model: { width: 0.125, embeddingDim: 16 }',
      'objective: { negatives: 8 }',
      'optim: { lr: 1.0e-3, schedule: { kind: cosine } }',
      'train: { epochs: 3, batchSize: 4, checkpointEvery: 1000, logEvery: 1, threads: 1 }',
      '',
    ].join('\n'),
  );
});

interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/**
 * Starts `avid pretrain` in its own process group (so that the group can be signalled like a terminal's).
 * With `probe`, through the fixture that, on SIGUSR2, sends SIGINT to the group while a native decode runs.
 */
function avid(args: string[], o: { probe?: boolean } = {}): { pid: number; done: Promise<Finished> } {
  const command = o.probe ? ['--import', 'tsx', path.join(import.meta.dirname, 'fixtures/pretrain-ctrl-c-mid-decode.ts')] : ['bin/avid.mjs'];
  const child = spawn(process.execPath, [...command, 'pretrain', ...args], { cwd: repoRoot, detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<Finished>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stderr })));
  return { pid: child.pid!, done };
}

async function waitForStep(runDir: string, step: number, run: { done: Promise<Finished> }): Promise<void> {
  let finished = false;
  run.done.then(() => (finished = true));
  while (!trainRecords(runDir).some((r) => r.step >= step)) {
    if (finished) throw new Error(`the run ended before step ${step}: ${(await run.done).stderr}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function checkpointStep(runDir: string): number {
  const reader = openSafetensors(path.join(runDir, 'checkpoints', 'last.safetensors'));
  reader.close();
  return JSON.parse(reader.header.metadata.scalars).step;
}

// The in-memory path decodes nothing while it trains: SIGINT goes to the main process. Per-clip decoding
// decodes on native threads during the steps: SIGINT goes to the whole group, as a terminal's Ctrl-C does,
// at a moment when decodes are in flight (the loader must stop them and the step still finish and save).
for (const [decodeCache, target] of [
  ['memory', 'process'],
  ['none', 'group'],
] as const) {
  test(`SIGINT to the ${target} saves and stops, --resume continues exactly (decodeCache: ${decodeCache})`, { timeout: 600_000 }, async () => {
    const runsDir = mkdtempSync(path.join(tmpdir(), `avid-sigint-${decodeCache}-`));
    const sets = ['--set', `runsDir=${runsDir}`, '--set', `data.decodeCache=${decodeCache}`];

    const reference = avid(['--config', configFile, ...sets, '--set', 'name=reference']);
    const r = await reference.done;
    assert.equal(r.code, 0, r.stderr);
    const expected = trainRecords(path.join(runsDir, 'reference'));
    assert.equal(expected.length, 12);

    const runDir = path.join(runsDir, 'stopped');
    const run = avid(['--config', configFile, ...sets, '--set', 'name=stopped'], { probe: target === 'group' });
    await waitForStep(runDir, 3, run);
    if (target === 'group') process.kill(run.pid, 'SIGUSR2');
    else process.kill(run.pid, 'SIGINT');
    const stopped = await run.done;
    assert.equal(stopped.code, 130, `exit code 130 after SIGINT to the ${target}: ${stopped.stderr}`);
    if (target === 'group') {
      const inFlight = /probe: SIGINT to the process group with (\d+) native decodes in flight/.exec(stopped.stderr);
      assert.ok(inFlight && Number(inFlight[1]) > 0, `the SIGINT was sent while native decodes ran: ${stopped.stderr}`);
    }
    assert.match(stopped.stderr, /interrupt: finishing this step, saving a checkpoint/);
    const logged = trainRecords(runDir);
    assert.ok(logged.length < 12, 'the run stopped early');
    assert.equal(checkpointStep(runDir), logged.at(-1)!.step, 'the checkpoint holds the last finished step');

    const resumed = avid(['--resume', runDir]);
    const rr = await resumed.done;
    assert.equal(rr.code, 0, rr.stderr);
    const after = trainRecords(runDir);
    assert.deepEqual(after.map((x) => x.step), expected.map((x) => x.step), 'each step logged once');
    for (let i = 0; i < expected.length; i++) assert.equal(after[i].loss, expected[i].loss, `step ${expected[i].step}`);
  });
}

/** Runs the misbehaving-source fixture; `onBatch` is called with each "building batch" line. */
function fixture(runDir: string, mode: 'busy' | 'stall', onBatch: (b: number, pid: number) => void): Promise<Finished & { stdout: string }> {
  const script = path.join(import.meta.dirname, 'fixtures/interrupt-run.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', script, runDir, mode], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => {
    stderr += d;
    for (const m of String(d).matchAll(/building batch (\d+)/g)) onBatch(Number(m[1]), child.pid!);
  });
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stderr, stdout })));
}

test('a second SIGINT quits at once, without waiting for the step', { timeout: 120_000 }, async () => {
  const runDir = mkdtempSync(path.join(tmpdir(), 'avid-sigint-twice-'));
  // Both signals arrive while batch 1 blocks the event loop; they are handled together once it yields.
  const r = await fixture(runDir, 'busy', (b, pid) => {
    if (b !== 1) return;
    process.kill(pid, 'SIGINT');
    setTimeout(() => process.kill(pid, 'SIGINT'), 300);
  });
  assert.equal(r.code, 130, r.stderr);
  assert.match(r.stderr, /quitting now/);
  assert.equal(r.stdout, '', 'the run did not get to return a result');
});

test('SIGINT stops a run whose data source never delivers the next batch, with a checkpoint', { timeout: 120_000 }, async () => {
  const runDir = mkdtempSync(path.join(tmpdir(), 'avid-sigint-stall-'));
  const r = await fixture(runDir, 'stall', (b, pid) => {
    if (b === 3) setTimeout(() => process.kill(pid, 'SIGINT'), 200);
  });
  assert.equal(r.code, 130, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { status: 'interrupted', step: 3 });
  assert.equal(checkpointStep(runDir), 3);
});

test('SIGINT before training starts leaves no run directory and exits 130', { timeout: 300_000 }, async () => {
  const runsDir = mkdtempSync(path.join(tmpdir(), 'avid-sigint-startup-'));
  const runDir = path.join(runsDir, 'early');
  const child = spawn(process.execPath, ['bin/avid.mjs', 'pretrain', '--config', configFile, '--set', `runsDir=${runsDir}`, '--set', 'name=early', '--set', 'data.decodeCache=memory'], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  let sent = false;
  child.stderr!.on('data', (d) => {
    stderr += d;
    // While the videos are probed: the run directory exists by then, and the decoders are running.
    if (!sent && /probing the files/.test(stderr)) {
      sent = true;
      child.kill('SIGINT');
    }
  });
  const code = await new Promise((resolve) => child.on('close', (c, s) => resolve(c ?? s)));
  assert.equal(code, 130, stderr);
  assert.match(stderr, /interrupted before training started/);
  assert.equal(existsSync(runDir), false, 'nothing left behind');
});
