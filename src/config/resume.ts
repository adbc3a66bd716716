// Which config keys a resumed run may change. A resumed run restores its model, optimizer state, memory
// banks and data order from the checkpoint; a key that shapes any of those (the model, the data, the
// objective, the seed, the sampler) cannot change without the run silently becoming another run, so such a
// change is refused by name. The keys below change only how the rest of the run proceeds; pretrain applies
// them on top of the restored state (optim.lr replaces the restored base learning rate) and records them.
import { ConfigError } from './load.js';
import type { PretrainConfig } from './schema.js';

/** Keys (or whole sections, ending in '.') that may change on resume. */
export const RESUMABLE_KEYS = [
  'train.epochs',
  'train.checkpointEvery',
  'train.logEvery',
  'train.threads',
  'train.device',
  'train.precision',
  'train.tensorboard',
  'data.workers',
  'data.prefetch',
  'data.decodeCache',
  'data.maxRejectShare',
  'optim.lr',
  'optim.weightDecay',
  'optim.clipGradNorm',
] as const;

export interface ConfigChange {
  from: unknown;
  to: unknown;
}

/** The leaves that differ between two configs, by dotted key (arrays compare whole). */
export function configDifferences(before: unknown, after: unknown, prefix = ''): Record<string, ConfigChange> {
  const out: Record<string, ConfigChange> = {};
  const isSection = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (isSection(before) && isSection(after)) {
    const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
    for (const key of keys) Object.assign(out, configDifferences(before[key], after[key], prefix ? `${prefix}.${key}` : key));
    return out;
  }
  if (JSON.stringify(before) !== JSON.stringify(after)) out[prefix || '(root)'] = { from: before ?? null, to: after ?? null };
  return out;
}

/**
 * The changes from the stored config of a run (`source` names its file) to the config it resumes with.
 * Throws a ConfigError naming every key that may not change on resume; returns the allowed changes.
 */
export function checkResumeChanges(stored: unknown, next: PretrainConfig, source: string): Record<string, ConfigChange> {
  // The run's name and folder are where it lives, not what it is.
  const changes = configDifferences(stored, next);
  delete changes.name;
  delete changes.runsDir;
  const refused = Object.keys(changes).filter((key) => !(RESUMABLE_KEYS as readonly string[]).includes(key));
  if (refused.length) {
    const list = refused.map((k) => `  ${k}: ${JSON.stringify(changes[k].from)} → ${JSON.stringify(changes[k].to)}`).join('\n');
    throw new ConfigError(
      `cannot resume ${source} with these changes (they would make it another run):\n${list}\n` +
        `Keys that may change on resume: ${RESUMABLE_KEYS.join(', ')}. Start a new run (another name) for the others.`,
    );
  }
  return changes;
}

export function isResumeChangeAllowed(stored: unknown, next: PretrainConfig): boolean {
  try {
    checkResumeChanges(stored, next, '');
    return true;
  } catch {
    return false;
  }
}
