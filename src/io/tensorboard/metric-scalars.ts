// Which TensorBoard scalars a metrics.jsonl record becomes, the same for the trainer (live) and for
// `avid report --tensorboard` (afterwards): a step record's numbers as train/<name> at its step, an epoch
// record's numbers as epoch/<name> indexed by epoch (its x axis counts epochs, not steps).

/** The sub-folder of the run directory that holds the event files and the projector layout. */
export const TENSORBOARD_DIR = 'tensorboard';

const NOT_SCALARS = new Set(['kind', 'step', 'epoch', 'time']);

/** The event step and the tagged values of one metrics record, or null for records that are not plotted (resume). */
export function metricScalars(record: Record<string, unknown>): { step: number; scalars: Record<string, number> } | null {
  const kind = record.kind;
  if (kind !== 'train' && kind !== 'epoch') return null;
  const prefix = kind === 'train' ? 'train' : 'epoch';
  const step = kind === 'train' ? record.step : record.epoch;
  if (typeof step !== 'number' || !Number.isSafeInteger(step) || step < 0) return null;
  const scalars: Record<string, number> = {};
  for (const [key, value] of Object.entries(record)) {
    if (NOT_SCALARS.has(key)) continue;
    if (typeof value === 'number' && Number.isFinite(value)) scalars[`${prefix}/${key}`] = value;
    else if (typeof value === 'boolean') scalars[`${prefix}/${key}`] = value ? 1 : 0;
  }
  return { step, scalars };
}
