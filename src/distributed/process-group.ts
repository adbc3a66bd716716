// The process's one c10d process group (as torch.distributed's default group): rendezvous through a
// FileStore (ranks on one machine: no port opens) or a TCPStore served by rank 0 (several machines), then
// Gloo (CPU) or NCCL (CUDA builds) for the collectives.
import { native } from '../tensor/native.js';
import { DEFAULT_TIMEOUT_MS, type Backend, type ProcessGroupOptions } from './environment.js';

export interface ProcessGroupInfo {
  rank: number;
  worldSize: number;
  backend: Backend;
  timeoutMs: number;
  /** The first failure's message once a collective has failed (the group is then unusable), else null. */
  broken: string | null;
  /** The rendezvous store: 'file' (c10d FileStore) or 'tcp' (TCPStore on masterAddr:masterPort). */
  store: 'file' | 'tcp';
}

/** Printed once by rank 0 of a TCP rendezvous: libtorch's TCPStore cannot bind to one address. */
export const TCP_STORE_WARNING =
  'the rendezvous store (c10d TCPStore) listens on every network interface of rank 0, on MASTER_PORT, without ' +
  'authentication: anyone who can reach that port can join or disturb the run. Fence it (firewall, private ' +
  'network; see docs/distributed.md). Runs on one machine under `avid launch` use a file store and open no port.';

/** Backends this build of the addon supports ('gloo' needs Gloo's headers at build time, 'nccl' a CUDA libtorch). */
export function availableBackends(): Backend[] {
  // An addon built before the distributed layer existed has no distBackends: no backend then.
  return typeof native.distBackends === 'function' ? (native.distBackends() as Backend[]) : [];
}

/**
 * Joins the group: blocks until all `worldSize` ranks have connected (or `timeoutMs` passes, which throws).
 * Rendezvous through `storeFile` when given, else rank 0 serves a TCP store on masterAddr:masterPort.
 */
export function initProcessGroup(options: ProcessGroupOptions): ProcessGroupInfo {
  const { rank, worldSize, masterAddr, masterPort, storeFile, launcherPid } = options;
  if (launcherPid !== undefined) native.exitWithParent(launcherPid);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const backend = options.backend ?? 'gloo';
  for (const [key, value] of Object.entries({ rank, worldSize, masterPort, timeoutMs })) {
    if (!Number.isInteger(value)) throw new Error(`initProcessGroup: ${key} must be an integer, got ${String(value)}`);
  }
  if (typeof masterAddr !== 'string' || masterAddr === '') throw new Error('initProcessGroup: masterAddr must be a host name or address');
  if (storeFile !== undefined && (typeof storeFile !== 'string' || storeFile === '')) throw new Error('initProcessGroup: storeFile must be a file path');
  native.distInit(rank, worldSize, masterAddr, masterPort, timeoutMs, backend, storeFile ?? '');
  if (!storeFile && rank === 0 && worldSize > 1) process.stderr.write(`avid: warning: ${TCP_STORE_WARNING}\n`);
  return processGroupInfo()!;
}

/** The current group's settings, or null when none was initialised (or after destroy). */
export function processGroupInfo(): ProcessGroupInfo | null {
  return native.distInfo() as ProcessGroupInfo | null;
}

export function isInitialized(): boolean {
  return processGroupInfo() !== null;
}

/** This process's rank; 0 without a process group (single-process runs behave as rank 0 of 1). */
export function getRank(): number {
  return processGroupInfo()?.rank ?? 0;
}

/** Number of processes in the group; 1 without a process group. */
export function getWorldSize(): number {
  return processGroupInfo()?.worldSize ?? 1;
}

/** Blocks until every rank has reached the barrier (or fails with the rank and cause, within the timeout). */
export function barrier(): void {
  native.distBarrier();
}

/**
 * Leaves the group and frees it (idempotent). No implicit barrier: call barrier() first if other ranks may still
 * need this one. A group broken by a failure is abandoned rather than freed, since its threads may still be
 * waiting on a dead peer.
 */
export function destroy(): void {
  native.distDestroy();
}
