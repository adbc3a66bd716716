// Checkpoints kept beside last.safetensors at chosen epochs (train.keepCheckpoints), so that a run's
// representations can be evaluated as they were part-way through training. checkpoints/epoch-<N>.safetensors
// holds the state after N completed epochs; epoch-0 the initial weights (after `init`), before any step.
// They are whole checkpoints, like last: every command that reads a run's checkpoint reads them too.
import path from 'node:path';

/** A list of epochs, or every N-th epoch (0, N, 2N, ...). */
export type KeepCheckpoints = number[] | { every: number };

export function keepsEpoch(keep: KeepCheckpoints, epoch: number): boolean {
  return Array.isArray(keep) ? keep.includes(epoch) : epoch % keep.every === 0;
}

export function keptCheckpointPath(runDir: string, epoch: number): string {
  return path.join(runDir, 'checkpoints', `epoch-${epoch}.safetensors`);
}
