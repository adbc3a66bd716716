import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../../src/cli/commands/report.js';
import { writeMetrics } from './fixtures/run-dir.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

test('`avid report <run dir>` builds report.html and prints its path', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'avid-report-cli-'));
  try {
    writeMetrics(dir);
    const built = spawnSync(process.execPath, [path.join(repoRoot, 'bin/avid.mjs'), 'report', dir, '--embed-limit', '64'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(built.status, 0, built.stderr);
    assert.match(built.stdout, /^ {2}final training loss +\d+\.\d+ +step 35, epoch 2$/m, 'the headline numbers');
    assert.match(built.stdout, /^not available: Linear probes per block; Downstream accuracy by epoch; Cross-modal agreement/m);
    assert.match(built.stdout, /^report written in [0-9.]+ s: (.*)$/m);
    assert.equal(built.stdout.match(/: (\/.*)$/m)?.[1], path.join(dir, 'report.html'));
    assert.ok(existsSync(path.join(dir, 'report.html')));
    // --tensorboard: the run's metrics as an event file (36 steps + 3 epochs); no embeddings for the projector.
    const exported = spawnSync(process.execPath, [path.join(repoRoot, 'bin/avid.mjs'), 'report', dir, '--tensorboard'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(exported.status, 0, exported.stderr);
    assert.match(exported.stdout, /^tensorboard: 39 scalar events in .*\/tensorboard\/events\.out\.tfevents\.\d+\..*\.avid-report; no results\/embeddings\.json for the projector$/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('avid report explains bad arguments', async (t) => {
  const out: string[] = [];
  const err: string[] = [];
  t.mock.method(console, 'log', (...args: unknown[]) => out.push(args.join(' ')));
  t.mock.method(console, 'error', (...args: unknown[]) => err.push(args.join(' ')));
  assert.equal(await run(['--help']), 0);
  assert.match(out.join('\n'), /usage: avid report <run dir>/);
  assert.equal(await run([]), 2);
  assert.match(err.pop()!, /expected one run directory, got 0/);
  assert.equal(await run(['a', '--embed-limit', 'lots']), 2);
  assert.match(err.pop()!, /--embed-limit must be a size in KiB \(0 or more\), got 'lots'/);
  assert.equal(await run(['a', '--seed=1.5']), 2);
  assert.match(err.pop()!, /--seed must be a non-negative integer/);
  assert.equal(await run(['a', '--colour']), 2);
  assert.match(err.pop()!, /unknown flag --colour; --help lists the flags/);
  await assert.rejects(run([path.join(tmpdir(), 'no-such-run-dir')]), /run directory not found/);
});
