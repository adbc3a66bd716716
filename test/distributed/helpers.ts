// Spawning small multi-process jobs for the distributed tests: a free loopback port per test, N node
// processes running one worker script, and a hard deadline so that a bug can never hang the suite.
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../../src/distributed/free-port.js';

export { freePort };
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const workersDir = path.join(repoRoot, 'test/distributed/workers');

export interface RankResult {
  rank: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Milliseconds from spawn to exit. */
  elapsedMs: number;
}

export interface Job {
  children: ChildProcess[];
  /** Resolves when every process has exited (or was killed at the deadline). */
  done: Promise<RankResult[]>;
  /** Resolves when rank `rank` has printed a line containing `text`. */
  waitFor(rank: number, text: string): Promise<void>;
}

/** Starts `worldSize` processes of `node --import tsx <worker> <rank> <worldSize> <port> ...extra`. */
export function startRanks(worker: string, worldSize: number, port: number, extra: string[] = [], deadlineMs = 60_000): Job {
  const children: ChildProcess[] = [];
  const outputs: { stdout: string; stderr: string }[] = [];
  const waiters: { rank: number; text: string; resolve: () => void }[] = [];
  const check = () => {
    for (const w of [...waiters]) {
      if (outputs[w.rank].stdout.includes(w.text)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  const results: Promise<RankResult>[] = [];
  for (let rank = 0; rank < worldSize; rank++) {
    const started = Date.now();
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(workersDir, worker), String(rank), String(worldSize), String(port), ...extra],
      { cwd: repoRoot, env: { ...process.env, AVID_NUM_THREADS: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    children.push(child);
    const out = { stdout: '', stderr: '' };
    outputs.push(out);
    child.stdout!.on('data', (d) => {
      out.stdout += d;
      check();
    });
    child.stderr!.on('data', (d) => (out.stderr += d));
    results.push(
      new Promise((resolve) => {
        child.on('close', (code, signal) => resolve({ rank, code, signal, ...out, elapsedMs: Date.now() - started }));
      }),
    );
  }
  const deadline = setTimeout(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }, deadlineMs);
  const done = Promise.all(results).finally(() => clearTimeout(deadline));
  return {
    children,
    done,
    waitFor: (rank, text) =>
      new Promise((resolve) => {
        waiters.push({ rank, text, resolve });
        check();
      }),
  };
}

/** The JSON object a worker printed on its line starting with `RESULT `. */
export function resultOf(r: RankResult): Record<string, unknown> {
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`rank ${r.rank} printed no RESULT line (code ${r.code}, signal ${r.signal}); stderr:\n${r.stderr}`);
  return JSON.parse(line.slice('RESULT '.length));
}
