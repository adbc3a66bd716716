// Starts one process per device for data-parallel training, as torchrun does: each child gets RANK,
// WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR and MASTER_PORT (read back by fromEnvironment), a
// share of the CPU threads, and its output prefixed with its rank. If one rank fails, the others are stopped
// and the launch fails naming that rank: a dead rank must never leave the rest waiting; if the launcher itself
// is killed, its ranks end with it (AVID_LAUNCHER_PID). On one machine the ranks meet through a file in a
// private temporary folder (AVID_RENDEZVOUS_FILE), so no port is opened for the rendezvous.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type { Writable } from 'node:stream';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const AVID_BIN = path.join(repoRoot, 'bin/avid.mjs');

export interface LaunchOptions {
  /** Processes on this machine. */
  nproc: number;
  /** Machines taking part (default 1) and this one's index (default 0). */
  nnodes?: number;
  nodeRank?: number;
  /** Rank 0's host and rendezvous port. */
  masterAddr: string;
  masterPort: number;
  /** The avid command and its arguments (`pretrain --config ...`), or with `script` a Node script and its arguments. */
  command: string[];
  /** Run `command[0]` as a JavaScript file through node (a .ts/.mts/.cts one with tsx) instead of an avid command. */
  script?: boolean;
  /** libtorch threads per process (AVID_NUM_THREADS); default floor(cores / nproc), at least 1. */
  threadsPerProcess?: number;
  /** Collective timeout for the children (AVID_DIST_TIMEOUT_MS); default: theirs. */
  timeoutMs?: number;
  backend?: 'gloo' | 'nccl';
  /** Base environment (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Where prefixed output goes (default the launcher's stdout/stderr). */
  stdout?: Writable;
  stderr?: Writable;
  /** After a failure, survivors get SIGTERM, and SIGKILL this long after (default 5 s). */
  killGraceMs?: number;
  /** Rendezvous: 'file' (default with one machine; opens no port) or 'tcp' (rank 0 serves MASTER_PORT; several machines). */
  rendezvous?: 'file' | 'tcp';
}

export interface RankExit {
  rank: number;
  localRank: number;
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface LaunchResult {
  /** The launcher's exit code: 0 when every rank succeeded, else the first failed rank's code (or 1). */
  code: number;
  /** The first rank that failed (the cause; later failures are usually consequences), or null. */
  firstFailure: RankExit | null;
  exits: RankExit[];
  /** One line saying what went wrong, or null on success. */
  message: string | null;
}

function describeExit(e: RankExit): string {
  return e.signal ? `was killed by signal ${e.signal}` : `exited with code ${e.code}`;
}

function check(name: string, value: number | undefined, min: number, max = Infinity): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`launch: ${name} must be an integer in [${min}, ${max === Infinity ? '∞' : max}], got ${String(value)}`);
  }
}

/** Prefixes each line of `input` with `prefix` on `output` (a last line without newline is flushed on close). */
function forwardLines(input: NodeJS.ReadableStream, output: Writable, prefix: string): Promise<void> {
  const lines = createInterface({ input, crlfDelay: Infinity });
  lines.on('line', (line) => output.write(`${prefix}${line}\n`));
  return new Promise((resolve) => lines.on('close', resolve));
}

export async function launch(options: LaunchOptions): Promise<LaunchResult> {
  const nnodes = options.nnodes ?? 1;
  const nodeRank = options.nodeRank ?? 0;
  check('nproc', options.nproc, 1);
  check('nnodes', nnodes, 1);
  check('node-rank', nodeRank, 0, nnodes - 1);
  check('master port', options.masterPort, 1, 65535);
  check('threads', options.threadsPerProcess, 1);
  check('timeout', options.timeoutMs, 1);
  if (options.command.length === 0) throw new Error('launch: no command to run (put it after --)');
  const worldSize = options.nproc * nnodes;
  const threads = options.threadsPerProcess ?? Math.max(1, Math.floor(availableParallelism() / options.nproc));
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  // A closed pipe downstream (`avid launch ... | head`) must not crash the launcher and orphan its ranks.
  for (const out of [stdout, stderr]) if (out.listenerCount('error') === 0) out.on('error', () => {});
  // Only TypeScript scripts need tsx's loader (resolved from the caller's project); plain .js/.mjs run as they are.
  const needsTsx = options.script && /\.[cm]?ts$/.test(options.command[0] ?? '');
  const argv = options.script ? [...(needsTsx ? ['--import', 'tsx'] : []), ...options.command] : [AVID_BIN, ...options.command];

  const rendezvous = options.rendezvous ?? (nnodes === 1 ? 'file' : 'tcp');
  if (rendezvous === 'file' && nnodes > 1) throw new Error('launch: a file rendezvous needs every rank on one machine (--nnodes 1); use tcp');
  // mkdtemp makes the folder readable by this user only, so no one else can join through the file.
  const storeDir = rendezvous === 'file' ? mkdtempSync(path.join(tmpdir(), 'avid-rendezvous-')) : null;

  const children: ChildProcess[] = [];
  const exits: RankExit[] = [];
  let firstFailure: RankExit | null = null;
  let killTimer: NodeJS.Timeout | undefined;
  const stopOthers = (signal: NodeJS.Signals) => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill(signal);
  };
  const onSignal = (signal: NodeJS.Signals) => stopOthers(signal);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const finished: Promise<void>[] = [];
  for (let localRank = 0; localRank < options.nproc; localRank++) {
    const rank = nodeRank * options.nproc + localRank;
    const env: NodeJS.ProcessEnv = {
      ...(options.env ?? process.env),
      RANK: String(rank),
      WORLD_SIZE: String(worldSize),
      LOCAL_RANK: String(localRank),
      LOCAL_WORLD_SIZE: String(options.nproc),
      GROUP_RANK: String(nodeRank),
      MASTER_ADDR: options.masterAddr,
      MASTER_PORT: String(options.masterPort),
      AVID_NUM_THREADS: String(threads),
      OMP_NUM_THREADS: String(threads),
      AVID_LAUNCHER_PID: String(process.pid),
    };
    if (storeDir) env.AVID_RENDEZVOUS_FILE = path.join(storeDir, 'store');
    else delete env.AVID_RENDEZVOUS_FILE;
    if (options.timeoutMs !== undefined) env.AVID_DIST_TIMEOUT_MS = String(options.timeoutMs);
    if (options.backend !== undefined) env.AVID_DIST_BACKEND = options.backend;
    const child = spawn(process.execPath, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    const prefix = `[rank ${rank}] `;
    const streams = [forwardLines(child.stdout!, stdout, prefix), forwardLines(child.stderr!, stderr, prefix)];
    finished.push(
      new Promise<void>((resolve) => {
        child.on('error', (error) => {
          stderr.write(`avid launch: rank ${rank} could not start: ${error.message}\n`);
        });
        // Failures are ordered by 'exit' (the moment the process ended), not 'close' (after its output drained),
        // so that the rank that failed first, the cause, is the one named.
        let exit: RankExit | null = null;
        const record = (code: number | null, signal: NodeJS.Signals | null) => {
          if (exit) return;
          exit = { rank, localRank, code, signal };
          exits.push(exit);
          if ((code !== 0 || signal) && firstFailure === null) {
            firstFailure = exit;
            const others = children.filter((c) => c !== child && c.exitCode === null && c.signalCode === null);
            stderr.write(`avid launch: rank ${rank} ${describeExit(exit)}${others.length ? '; stopping the other ranks' : ''}\n`);
            stopOthers('SIGTERM');
            killTimer = setTimeout(() => stopOthers('SIGKILL'), options.killGraceMs ?? 5000);
          }
        };
        child.on('exit', record);
        child.on('close', async (code, signal) => {
          record(code, signal);
          await Promise.all(streams);
          resolve();
        });
      }),
    );
  }
  try {
    await Promise.all(finished);
  } finally {
    clearTimeout(killTimer);
    if (storeDir) rmSync(storeDir, { recursive: true, force: true });
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  exits.sort((a, b) => a.rank - b.rank);
  const failure = firstFailure as RankExit | null;
  if (failure === null) return { code: 0, firstFailure: null, exits, message: null };
  const others = exits.filter((e) => e !== failure).map((e) => `rank ${e.rank} ${e.signal === 'SIGTERM' || e.signal === 'SIGKILL' ? 'was stopped' : describeExit(e)}`);
  const message = `rank ${failure.rank} ${describeExit(failure)}` + (others.length ? ` (then: ${others.join(', ')})` : '');
  return { code: failure.code && failure.code > 0 ? failure.code : 1, firstFailure: failure, exits, message };
}
