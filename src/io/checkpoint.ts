// Checkpoints: one safetensors file holding everything needed to resume (model, optimizer slots, objective
// state such as memory banks, the default generator) under prefixed keys, and the scalars (epoch, step, Z,
// optimizer step and learning rates, config) as JSON in the metadata. Written atomically by saveSafetensors.
// The model's tensors are stored under `model.<PyTorch key>`, so the file also loads as a plain state dict.
import { existsSync } from 'node:fs';
import { Tensor, tidy } from '../tensor/index.js';
import { saveSafetensors, loadSafetensors } from './safetensors.js';

export const CHECKPOINT_FORMAT = 'avid-checkpoint-1';

export interface CheckpointContents {
  /** Tensor groups by prefix: model, optimizer, objective, rng ... */
  groups: Record<string, Map<string, Tensor>>;
  /** JSON-able scalars. */
  scalars: Record<string, unknown>;
}

export function saveCheckpoint(file: string, contents: CheckpointContents): void {
  const entries: [string, Tensor][] = [];
  for (const [prefix, tensors] of Object.entries(contents.groups)) {
    for (const [key, t] of tensors) entries.push([`${prefix}.${key}`, t]);
  }
  tidy(() => {
    // safetensors stores contiguous CPU data; views (e.g. a slice) are copied first.
    const cpu = entries.map(([k, t]) => [k, t.device === 'cpu' ? t : t.cpu()] as [string, Tensor]);
    saveSafetensors(file, cpu, { format: CHECKPOINT_FORMAT, scalars: JSON.stringify(contents.scalars) });
  });
}

/** Loads a checkpoint; the caller owns the returned tensors (dispose them, or call inside tidy). */
export function loadCheckpoint(file: string): CheckpointContents {
  if (!existsSync(file)) throw new Error(`checkpoint not found: ${file}`);
  const { tensors, metadata } = loadSafetensors(file);
  const groups: Record<string, Map<string, Tensor>> = {};
  for (const [key, t] of tensors) {
    const dot = key.indexOf('.');
    const prefix = metadata.format === CHECKPOINT_FORMAT && dot > 0 ? key.slice(0, dot) : 'model';
    const rest = metadata.format === CHECKPOINT_FORMAT && dot > 0 ? key.slice(dot + 1) : key;
    (groups[prefix] ??= new Map()).set(rest, t);
  }
  let scalars: Record<string, unknown> = {};
  if (metadata.scalars) {
    try {
      scalars = JSON.parse(metadata.scalars);
    } catch {
      throw new Error(`checkpoint ${file}: metadata 'scalars' is not valid JSON`);
    }
  }
  return { groups, scalars };
}

export function disposeContents(contents: CheckpointContents): void {
  for (const tensors of Object.values(contents.groups)) tensors.forEach((t) => t.dispose());
}
