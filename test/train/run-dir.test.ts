// A run directory is never overwritten: an existing name is refused (naming --resume and --overwrite),
// --overwrite moves the old run aside, commands that run several trainings resume instead of repeating, a
// start that fails leaves nothing behind, a name cannot leave runsDir, and a resume may change only what
// does not make it another run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseConfig } from '../../src/config/load.js';
import { pretrain } from '../../src/train/pretrain.js';
import { resolveRunDir } from '../../src/train/run-dir.js';
import { RandomSource } from '../helpers/random-source.js';

function config(runsDir: string, extra: { name?: string; train?: Record<string, unknown>; model?: Record<string, unknown> } = {}) {
  return parseConfig(
    {
      name: extra.name ?? 'run',
      runsDir,
      data: { source: 'in-memory' },
      model: { width: 0.125, embeddingDim: 16, ...extra.model },
      objective: { negatives: 8 },
      train: { epochs: 1, batchSize: 4, logEvery: 1, checkpointEvery: 1000, ...extra.train },
    },
    'test',
  );
}
const quiet = () => ({ source: new RandomSource(16, 4), progress: null });
const metrics = (runDir: string) => readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8');

test('an existing run is refused, naming --resume and --overwrite; --overwrite moves it aside whole', async () => {
  const runsDir = mkdtempSync(path.join(tmpdir(), 'avid-rundir-'));
  const runDir = path.join(runsDir, 'run');
  await pretrain(config(runsDir), quiet());
  const before = metrics(runDir);
  await assert.rejects(pretrain(config(runsDir), quiet()), (e: Error) => e.message.includes(runDir) && e.message.includes('--resume') && e.message.includes('--overwrite'));
  assert.equal(metrics(runDir), before, 'the run was not touched');

  const result = await pretrain(config(runsDir), { ...quiet(), existing: 'overwrite' });
  assert.equal(result.status, 'completed');
  const aside = readdirSync(runsDir).filter((n) => /^run\.replaced-\d{4}-\d\d-\d\dT[\d-]+Z$/.test(n));
  assert.equal(aside.length, 1, readdirSync(runsDir).join(', '));
  assert.equal(metrics(path.join(runsDir, aside[0])), before, 'the old run is kept as it was');
  assert.ok(existsSync(path.join(runsDir, aside[0], 'checkpoints', 'last.safetensors')));
  assert.equal(metrics(runDir).split('\n').filter((l) => l.includes('"kind":"train"')).length, 4, 'the new run has its own metrics only');
});

test("existing: 'resume' returns a finished run untouched, continues one given more epochs, and moves aside one of another config", async () => {
  const runsDir = mkdtempSync(path.join(tmpdir(), 'avid-rundir-resume-'));
  const runDir = path.join(runsDir, 'run');
  await pretrain(config(runsDir), quiet());
  const before = metrics(runDir);
  const again = await pretrain(config(runsDir), { ...quiet(), existing: 'resume' });
  assert.deepEqual([again.status, again.step, again.losses.length], ['completed', 4, 0]);
  assert.equal(metrics(runDir), before, 'a finished run is not trained again');

  const longer = await pretrain(config(runsDir, { train: { epochs: 2 } }), { ...quiet(), existing: 'resume' });
  assert.deepEqual([longer.status, longer.step, longer.losses.length], ['completed', 8, 4], 'continued from step 4');
  const records = metrics(runDir).trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(records.filter((r) => r.kind === 'train').map((r) => r.step), [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual(records.find((r) => r.kind === 'resume').overrides, { 'train.epochs': { from: 1, to: 2 } });

  const other = await pretrain(config(runsDir, { model: { embeddingDim: 8 } }), { ...quiet(), existing: 'resume' });
  assert.equal(other.step, 4, 'another config starts again');
  assert.equal(readdirSync(runsDir).filter((n) => n.startsWith('run.replaced-')).length, 1, 'the old run was moved aside');
});

test('a start that fails before the first step leaves nothing behind; batchSize above the dataset names both', async () => {
  const runsDir = mkdtempSync(path.join(tmpdir(), 'avid-rundir-fail-'));
  await assert.rejects(pretrain(config(runsDir, { train: { batchSize: 32 } }), { source: new RandomSource(16, 32), progress: null }), /train\.batchSize 32 is larger than the dataset: 16 training instances/);
  assert.deepEqual(readdirSync(runsDir), [], 'no run directory left');
  // A data source that does not exist: the run directory is not left either.
  const missing = parseConfig({ name: 'missing', runsDir, data: { source: path.join(runsDir, 'nowhere') } }, 'test');
  await assert.rejects(pretrain(missing, { progress: null }), /data\.source not found/);
  assert.deepEqual(readdirSync(runsDir), []);
});

test('a name may not leave runsDir', async () => {
  const runsDir = mkdtempSync(path.join(tmpdir(), 'avid-rundir-name-'));
  for (const name of ['/tmp/elsewhere', '../x', 'a/../../x', '..', '.', '']) {
    assert.throws(() => resolveRunDir(runsDir, name), /a run's name is a folder inside runsDir/, name);
    await assert.rejects(pretrain(config(runsDir, { name }), quiet()), /a run's name is a folder inside runsDir/, name);
  }
  assert.equal(resolveRunDir(runsDir, 'ablation/k1'), path.join(runsDir, 'ablation', 'k1'));
  assert.equal(existsSync(path.join(path.dirname(runsDir), 'x')), false);
});

test('resume refuses changes that make another run, by name; stale temporary files are removed', async () => {
  const runsDir = mkdtempSync(path.join(tmpdir(), 'avid-rundir-refuse-'));
  const runDir = path.join(runsDir, 'run');
  await pretrain(config(runsDir), quiet());
  await assert.rejects(pretrain(config(runsDir, { model: { width: 0.25 } }), { ...quiet(), resumeDir: runDir }), (e: Error) => /model\.width: 0\.125 → 0\.25/.test(e.message) && /Keys that may change on resume: .*optim\.lr/.test(e.message));
  // Left by a process killed while writing (its pid is long gone).
  const stale = path.join(runDir, 'checkpoints', '.last.safetensors.999999999.1700000000000.0.tmp');
  writeFileSync(stale, 'partial');
  const resumed = await pretrain(config(runsDir, { train: { epochs: 2 } }), { ...quiet(), resumeDir: runDir });
  assert.equal(resumed.step, 8);
  assert.equal(existsSync(stale), false, 'the stale temporary file is gone');

  // Through the CLI: --resume with a refused --set names the key, and --overwrite with --resume is refused.
  const repo = path.resolve(import.meta.dirname, '../..');
  const r = spawnSync(process.execPath, ['bin/avid.mjs', 'pretrain', '--resume', runDir, '--set', 'seed=3'], { encoding: 'utf8', cwd: repo });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /seed: 0 → 3/);
});

test('a warning says when NCE negatives are cut below the configured number', async () => {
  const runsDir = mkdtempSync(path.join(tmpdir(), 'avid-negatives-'));
  const written: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array) => (written.push(String(chunk)), true)) as typeof process.stderr.write;
  try {
    const c = config(runsDir);
    c.objective.negatives = 256;
    await pretrain(c, quiet());
  } finally {
    process.stderr.write = write;
  }
  assert.match(written.join(''), /warning: objective\.negatives is 256 but the memory bank holds 16 instances: each step draws 15 negatives/);
});

test('avid pretrain: --overwrite is a shared flag (a misspelling suggests it) and excludes --resume', async () => {
  const { run } = await import('../../src/cli/commands/pretrain.js');
  await assert.rejects(run(['--config', 'x.yaml', '--overwirte']), /unknown flag --overwirte \(did you mean --overwrite\?\)/);
  await assert.rejects(run(['--resume', 'somewhere', '--overwrite']), /--resume and --overwrite exclude each other/);
});
