// The trainer's view of data-parallel training over c10d: joins the process group named by torchrun-style
// environment variables (set by `avid launch`) and provides the gradient all-reduce, the all-gather of
// embeddings and indices for identical memory-bank updates, and scalar means.
import * as T from '../tensor/index.js';
import { fromEnvironment, initProcessGroup, allReduceGradients, allGatherTensor, allReduce, broadcastParameters, destroy, OverlappedGradients } from '../distributed/index.js';
import type { Module } from '../nn/index.js';
import type { Distributed } from './trainer.js';

export interface DataParallel extends Distributed {
  /** Makes every rank start from rank 0's parameters and buffers. */
  broadcastFrom0(module: Module): void;
  close(): void;
}

/** Joins the process group if WORLD_SIZE is set (else null: a single process). */
export function joinFromEnvironment(): DataParallel | null {
  const env = fromEnvironment();
  if (!env || env.worldSize === 1) return null;
  initProcessGroup(env);
  const rendezvous = env.storeFile ? `file ${env.storeFile}` : `${env.masterAddr}:${env.masterPort}`;
  process.stderr.write(`rank ${env.rank} of ${env.worldSize} joined (${env.backend}, ${rendezvous})\n`);
  return {
    rank: env.rank,
    worldSize: env.worldSize,
    allReduceGradients: (params) => allReduceGradients(params, { average: true }),
    overlapGradients: (params) => new OverlappedGradients(params),
    allGather: (t) => allGatherTensor(t),
    allReduceMean: (value) =>
      T.tidy(() => {
        const t = T.tensor(Float64Array.from([value]));
        allReduce([t], { average: true });
        return t.item();
      }),
    broadcastFrom0: (module) => broadcastParameters({ parameters: () => module.parameters(), buffers: () => module.namedBuffers().map(([, b]) => b) }, 0),
    close: () => destroy(),
  };
}
