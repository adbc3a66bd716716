// Child processes (ffmpeg, ffprobe) that never outlive their parent.
//
// Every process started here is registered until it exits. It is killed when its AbortSignal fires, when
// its time limit passes, when the Node process exits, and on SIGINT/SIGTERM/SIGHUP: an ffmpeg left running
// after a crashed or interrupted training run would keep burning the CPU that the next run needs.
import { spawn, type ChildProcess } from 'node:child_process';

const liveChildren = new Set<ChildProcess>();
/** Children killed because the program is stopping: their callers get an AbortError, not a decode failure. */
const killedForShutdown = new WeakSet<ChildProcess>();
const forwardedSignals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
let hooksInstalled = false;

/** Kills every live child now (SIGKILL: they hold no state worth flushing). Returns how many. */
export function killAllChildren(): number {
  let count = 0;
  for (const child of liveChildren) {
    if (child.exitCode === null && child.signalCode === null) {
      killedForShutdown.add(child);
      child.kill('SIGKILL');
      count++;
    }
  }
  return count;
}

/** The pids of children started here that have not exited yet (tests use it to prove nothing leaks). */
export function liveChildPids(): number[] {
  return [...liveChildren].map((c) => c.pid).filter((pid): pid is number => typeof pid === 'number');
}

function onExit(): void {
  killAllChildren();
}

function onSignal(signal: NodeJS.Signals): void {
  // A listener on a signal replaces Node's default "terminate". When no one else listens, kill the children,
  // restore the default and re-raise, so that Ctrl-C still stops the program. When someone does (a trainer
  // that finishes its step and saves a checkpoint first), leave the decision, and the children, to them:
  // killing them here would fail the work they are finishing; the exit hook still kills any that remain.
  if (process.listenerCount(signal) === 1) {
    killAllChildren();
    removeHooks();
    process.kill(process.pid, signal);
  }
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', onExit);
  for (const s of forwardedSignals) process.on(s, onSignal);
}

function removeHooks(): void {
  if (!hooksInstalled) return;
  hooksInstalled = false;
  process.off('exit', onExit);
  for (const s of forwardedSignals) process.off(s, onSignal);
}

export interface RunOptions {
  signal?: AbortSignal;
  /** Kill the process after this many milliseconds (default: no limit). */
  timeoutMs?: number;
  /** Write stdout into this buffer (bytes beyond its end are discarded and counted); else collect it. */
  stdoutInto?: Uint8Array;
  /**
   * More output streams: the child's fd 3, 4, ... (ffmpeg's `pipe:3`) are written into these buffers, so one
   * process can deliver several outputs (video frames and audio samples of the same clip).
   */
  extraOutputs?: Uint8Array[];
  /** Cap on collected stdout when no buffer is given (default 64 MiB). */
  maxStdoutBytes?: number;
  /** Cap on kept stderr (the tail is kept: the last error line is the useful one). Default 8 KiB. */
  maxStderrBytes?: number;
}

export interface RunResult {
  exitCode: number | null;
  /** The signal that ended the process, if any. */
  signal: NodeJS.Signals | null;
  /** Collected stdout, or the filled prefix of `stdoutInto`. */
  stdout: Uint8Array;
  /** Bytes of stdout written (may exceed stdout.length when output was discarded). */
  stdoutBytes: number;
  /** Bytes written to each of `extraOutputs` (fd 3, 4, ...). */
  extraBytes: number[];
  stderr: string;
  timedOut: boolean;
  aborted: boolean;
}

export class AbortError extends Error {
  constructor(message = 'aborted') {
    super(message);
    this.name = 'AbortError';
  }
}

/**
 * Runs `command` with `args` (an array: no shell is involved, so file names are never interpreted) and
 * resolves when it exits, whatever its exit code. Rejects with AbortError if the signal fired, and with the
 * spawn error if the program could not start.
 */
export function runProcess(command: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  const { signal, timeoutMs, stdoutInto } = options;
  const maxStdout = options.maxStdoutBytes ?? 64 * 1024 * 1024;
  const maxStderr = options.maxStderrBytes ?? 8 * 1024;
  if (signal?.aborted) return Promise.reject(new AbortError());

  return new Promise((resolve, reject) => {
    const extra = options.extraOutputs ?? [];
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe', ...extra.map(() => 'pipe' as const)], windowsHide: true });
    liveChildren.add(child);
    installHooks();

    const chunks: Buffer[] = [];
    let collected = 0;
    let stdoutBytes = 0;
    let stderr = '';
    let timedOut = false;
    let aborted = false;
    let settled = false;

    const kill = () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    };
    const onAbort = () => {
      aborted = true;
      kill();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const timer = timeoutMs ? setTimeout(() => ((timedOut = true), kill()), timeoutMs) : undefined;

    child.stdout!.on('data', (chunk: Buffer) => {
      if (stdoutInto) {
        const room = stdoutInto.length - stdoutBytes;
        if (room > 0) stdoutInto.set(room >= chunk.length ? chunk : chunk.subarray(0, room), stdoutBytes);
      } else if (collected < maxStdout) {
        const keep = Math.min(chunk.length, maxStdout - collected);
        chunks.push(keep === chunk.length ? chunk : chunk.subarray(0, keep));
        collected += keep;
      }
      stdoutBytes += chunk.length;
    });
    const extraBytes = extra.map(() => 0);
    extra.forEach((target, k) => {
      const stream = child.stdio[3 + k] as NodeJS.ReadableStream;
      stream.on('data', (chunk: Buffer) => {
        const room = target.length - extraBytes[k];
        if (room > 0) target.set(room >= chunk.length ? chunk : chunk.subarray(0, room), extraBytes[k]);
        extraBytes[k] += chunk.length;
      });
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
      if (stderr.length > 2 * maxStderr) stderr = stderr.slice(-maxStderr);
    });

    const finish = (error: Error | null, exitCode: number | null, exitSignal: NodeJS.Signals | null) => {
      if (settled) return;
      settled = true;
      liveChildren.delete(child);
      if (liveChildren.size === 0) removeHooks();
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (error) return reject(error);
      if (aborted) return reject(new AbortError());
      if (killedForShutdown.has(child)) return reject(new AbortError('stopped: the program is shutting down'));
      const stdout = stdoutInto ? stdoutInto.subarray(0, Math.min(stdoutBytes, stdoutInto.length)) : new Uint8Array(Buffer.concat(chunks));
      resolve({ exitCode, signal: exitSignal, stdout, stdoutBytes, extraBytes, stderr: stderr.slice(-maxStderr), timedOut, aborted });
    };
    child.on('error', (error: NodeJS.ErrnoException) => {
      kill();
      const missing = error.code === 'ENOENT';
      finish(missing ? new Error(`${command} not found on PATH: avid needs ffmpeg and ffprobe (Debian: apt-get install ffmpeg)`) : error, null, null);
    });
    // 'close' (not 'exit'): fires after stdout and stderr have been drained.
    child.on('close', (code, sig) => finish(null, code, sig));
  });
}

/** The last non-empty line of an ffmpeg/ffprobe stderr, without the "[demuxer @ 0x...]" prefix. */
export function lastErrorLine(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.replace(/^\[[^\]]*@ 0x[0-9a-f]+\]\s*/, '').trim())
    .filter((l) => l.length > 0);
  return lines.length > 0 ? lines[lines.length - 1] : '';
}
