// The rendezvous settings of one process, read from the environment variables torchrun sets (and
// `avid launch` sets the same way): RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT.

/** Collectives wait this long for the other ranks before failing (10 min; checkpoints on rank 0 can be slow). */
export const DEFAULT_TIMEOUT_MS = 600_000;

export type Backend = 'gloo' | 'nccl';

export interface ProcessGroupOptions {
  /** This process's index in [0, worldSize). */
  rank: number;
  worldSize: number;
  /** Host of rank 0, which serves the rendezvous store. */
  masterAddr: string;
  masterPort: number;
  /** How long a collective (and the rendezvous) may wait for the other ranks. */
  timeoutMs?: number;
  /** 'gloo' (CPU, default) or 'nccl' (CUDA builds only). */
  backend?: Backend;
  /**
   * Rendezvous through this file (c10d's FileStore) instead of a TCP store on masterAddr:masterPort: for ranks
   * that all run on one machine, so that no port opens. Every rank names the same new file.
   */
  storeFile?: string;
  /** The pid of the `avid launch` that started this rank: the rank ends when that process does. */
  launcherPid?: number;
}

export interface DistEnvironment extends Required<Omit<ProcessGroupOptions, 'storeFile' | 'launcherPid'>>, Pick<ProcessGroupOptions, 'storeFile' | 'launcherPid'> {
  /** Index of this process on its machine (which GPU it should use). */
  localRank: number;
  /** Processes on this machine. */
  localWorldSize: number;
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback?: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') {
    if (fallback !== undefined) return fallback;
    throw new Error(`distributed environment: ${name} is not set (WORLD_SIZE is, so RANK, MASTER_ADDR and MASTER_PORT must be too)`);
  }
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`distributed environment: ${name}='${raw}' is not a non-negative integer`);
  return value;
}

/**
 * The process-group settings from torchrun-style variables, or null when WORLD_SIZE is not set (a plain,
 * single-process run). AVID_DIST_TIMEOUT_MS and AVID_DIST_BACKEND override the timeout and backend;
 * AVID_RENDEZVOUS_FILE (set by a one-machine `avid launch`) replaces the TCP store by a FileStore, and
 * AVID_LAUNCHER_PID ties the rank's life to its launcher's.
 */
export function fromEnvironment(env: NodeJS.ProcessEnv = process.env): DistEnvironment | null {
  if (env.WORLD_SIZE === undefined || env.WORLD_SIZE === '') return null;
  const worldSize = integer(env, 'WORLD_SIZE');
  if (worldSize < 1) throw new Error(`distributed environment: WORLD_SIZE='${env.WORLD_SIZE}' must be at least 1`);
  const single = worldSize === 1;
  const rank = integer(env, 'RANK', single ? 0 : undefined);
  if (rank >= worldSize) throw new Error(`distributed environment: RANK=${rank} must be below WORLD_SIZE=${worldSize}`);
  const masterAddr = env.MASTER_ADDR || (single ? '127.0.0.1' : '');
  if (!masterAddr) throw new Error('distributed environment: MASTER_ADDR is not set (the host of rank 0)');
  const masterPort = integer(env, 'MASTER_PORT', single ? 29500 : undefined);
  if (masterPort < 1 || masterPort > 65535) throw new Error(`distributed environment: MASTER_PORT=${masterPort} is not a port (1-65535)`);
  const localRank = integer(env, 'LOCAL_RANK', rank);
  const localWorldSize = integer(env, 'LOCAL_WORLD_SIZE', worldSize);
  const timeoutMs = integer(env, 'AVID_DIST_TIMEOUT_MS', DEFAULT_TIMEOUT_MS);
  if (timeoutMs < 1) throw new Error('distributed environment: AVID_DIST_TIMEOUT_MS must be positive');
  const backend = (env.AVID_DIST_BACKEND || 'gloo') as Backend;
  if (backend !== 'gloo' && backend !== 'nccl') {
    throw new Error(`distributed environment: AVID_DIST_BACKEND='${env.AVID_DIST_BACKEND}' is not a backend (allowed: gloo, nccl)`);
  }
  const storeFile = env.AVID_RENDEZVOUS_FILE || undefined;
  const launcherPid = env.AVID_LAUNCHER_PID ? integer(env, 'AVID_LAUNCHER_PID') : undefined;
  return {
    rank, worldSize, localRank, localWorldSize, masterAddr, masterPort, timeoutMs, backend,
    ...(storeFile !== undefined && { storeFile }),
    ...(launcherPid !== undefined && { launcherPid }),
  };
}
