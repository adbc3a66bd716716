// `avid launch`: N processes with torchrun's variables, [rank i]-prefixed output, threads split, and a
// failing rank stopping the whole launch with a message naming it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { availableParallelism, tmpdir } from 'node:os';
import { readdirSync, readFileSync } from 'node:fs';
import { availableBackends } from '../../src/distributed/index.js';
import { freePort, repoRoot, workersDir } from './helpers.js';
import { run as launchCommand } from '../../src/cli/commands/launch.js';

const skip = availableBackends().includes('gloo') ? false : 'the addon was built without Gloo (install libgloo-dev and rebuild)';
const worker = path.join(workersDir, 'launch.worker.ts');

function avid(args: string[], deadlineMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string; elapsedMs: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, [path.join(repoRoot, 'bin/avid.mjs'), ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const deadline = setTimeout(() => child.kill('SIGKILL'), deadlineMs);
    child.on('close', (code) => {
      clearTimeout(deadline);
      resolve({ code, stdout, stderr, elapsedMs: Date.now() - started });
    });
  });
}

test('launch starts N ranks with torchrun variables and prefixed output', { skip }, async () => {
  const r = await avid(['launch', '--nproc', '2', '--script', '--', worker]);
  assert.equal(r.code, 0, r.stderr);
  const threads = Math.max(1, Math.floor(availableParallelism() / 2));
  for (const rank of [0, 1]) {
    assert.ok(
      r.stdout.includes(`[rank ${rank}] rank=${rank} local=${rank}/2 world=2 sum=3 threads=${threads} addr=127.0.0.1 store=file`),
      `rank ${rank}'s line is missing from:\n${r.stdout}\n${r.stderr}`,
    );
  }
  // One machine: the ranks met through a file, so no listening-port warning, and the file is gone afterwards.
  assert.doesNotMatch(r.stderr, /TCPStore/);
});

test('--rendezvous tcp on one machine uses the TCP store and warns that it listens on every interface', { skip }, async () => {
  const r = await avid(['launch', '--nproc', '2', '--rendezvous', 'tcp', '--script', '--', worker]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\[rank 0\] rank=0 .* store=tcp/);
  assert.match(r.stderr, /\[rank 0\] avid: warning: the rendezvous store \(c10d TCPStore\) listens on every network interface/);
  assert.doesNotMatch(r.stderr, /\[rank 1\] avid: warning/, 'only rank 0 serves the store');
});

test('the file rendezvous is made in a private folder and removed after the launch', { skip }, async () => {
  const before = new Set(readdirSync(tmpdir()).filter((n) => n.startsWith('avid-rendezvous-')));
  const r = await avid(['launch', '--nproc', '2', '--script', '--', worker]);
  assert.equal(r.code, 0, r.stderr);
  const after = readdirSync(tmpdir()).filter((n) => n.startsWith('avid-rendezvous-') && !before.has(n));
  assert.deepEqual(after, [], 'the rendezvous folder is removed');
});

test('killing the launcher (SIGKILL) ends its ranks too', { skip }, async () => {
  const launcher = spawn(process.execPath, [path.join(repoRoot, 'bin/avid.mjs'), 'launch', '--nproc', '2', '--script', '--', worker, 'wait'], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  launcher.stderr.on('data', (d) => (stderr += d));
  const pids = await new Promise<number[]>((resolve, reject) => {
    const deadline = setTimeout(() => reject(new Error(`the ranks did not start:\n${stdout}\n${stderr}`)), 60_000);
    launcher.stdout.on('data', (d) => {
      stdout += d;
      const found = [...stdout.matchAll(/\] pid=(\d+)/g)].map((m) => Number(m[1]));
      if (found.length === 2) {
        clearTimeout(deadline);
        resolve(found);
      }
    });
  });
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return !/\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return false;
    }
  };
  assert.ok(pids.every(alive), 'both ranks run before the launcher is killed');
  launcher.kill('SIGKILL');
  const deadline = Date.now() + 15_000;
  while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const survivors = pids.filter(alive);
  for (const pid of survivors) process.kill(pid, 'SIGKILL');
  assert.deepEqual(survivors, [], 'ranks outlived their killed launcher');
});

test('two launches as two "machines" (--nnodes 2 --node-rank 0/1) form one group over loopback', { skip }, async () => {
  const master = `127.0.0.1:${await freePort()}`;
  const nodes = await Promise.all(
    [0, 1].map((node) => avid(['launch', '--nproc', '1', '--nnodes', '2', '--node-rank', String(node), '--master', master, '--script', '--', worker])),
  );
  nodes.forEach((r, node) => {
    assert.equal(r.code, 0, r.stderr);
    assert.ok(
      r.stdout.includes(`[rank ${node}] rank=${node} local=0/1 world=2 sum=3 `) && r.stdout.includes('store=tcp'),
      `node ${node}: global rank ${node}, local rank 0, sum over both machines; got:\n${r.stdout}\n${r.stderr}`,
    );
  });
});

test('launch runs avid commands: `avid launch --nproc 2 -- launch --help`', async () => {
  const r = await avid(['launch', '--nproc', '2', '--', 'launch', '--help']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^\[rank 0\] usage: avid launch/m);
  assert.match(r.stdout, /^\[rank 1\] usage: avid launch/m);
});

test('a failing rank stops the others and the launch names it', { skip }, async () => {
  // The survivors would wait 60 s in their barrier: the launch must end long before.
  const r = await avid(['launch', '--nproc', '2', '--timeout', '60000', '--script', '--', worker, 'fail-rank', '1']);
  assert.equal(r.code, 3, 'the failed rank\'s exit code');
  assert.match(r.stderr, /\[rank 1\] failing on purpose/);
  assert.match(r.stderr, /avid launch: rank 1 exited with code 3; stopping the other ranks/);
  assert.match(r.stderr, /avid launch: failed: rank 1 exited with code 3/);
  assert.ok(r.elapsedMs < 30_000, `took ${r.elapsedMs} ms`);
});

test('launch checks its options', async () => {
  await assert.rejects(launchCommand(['--nproc', '2']), /no command given: put the avid command after --/);
  await assert.rejects(launchCommand(['--', 'x']), /--nproc is required/);
  await assert.rejects(launchCommand(['--nproc', 'two', '--', 'x']), /--nproc must be a non-negative integer, got 'two'/);
  await assert.rejects(launchCommand(['--nproc', '0', '--', 'x']), /nproc must be an integer in \[1, ∞\], got 0/);
  await assert.rejects(launchCommand(['--nproc', '2', '--nnodes', '2', '--', 'x']), /--master ADDR:PORT .* is required with --nnodes > 1/);
  await assert.rejects(launchCommand(['--nproc', '2', '--master', 'nohost', '--', 'x']), /--master must be ADDR:PORT/);
  await assert.rejects(launchCommand(['--nproc', '2', '--backend', 'mpi', '--', 'x']), /--backend must be gloo or nccl/);
  await assert.rejects(launchCommand(['--nproc', '2', '--rendezvous', 'udp', '--', 'x']), /--rendezvous must be file or tcp, got 'udp'/);
  await assert.rejects(
    launchCommand(['--nproc', '1', '--nnodes', '2', '--master', '127.0.0.1:29500', '--rendezvous', 'file', '--', 'x']),
    /a file rendezvous needs every rank on one machine/,
  );
  await assert.rejects(
    launchCommand(['--nproc', '2', '--nnodes', '2', '--node-rank', '2', '--master', '10.0.0.1:29500', '--', 'x']),
    /node-rank must be an integer in \[0, 1\], got 2/,
  );
});
