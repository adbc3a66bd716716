import { Module } from './module.js';
import { BatchNorm } from './layers.js';

/** Switches every batch-norm layer of `module` to synchronised statistics across data-parallel ranks. */
export function useSyncBatchNorm(module: Module, on = true): number {
  let count = 0;
  for (const [, m] of module.namedModules()) {
    if (m instanceof BatchNorm) {
      m.sync = on;
      count++;
    }
  }
  return count;
}
