// Where a run's training changes stage (Cross-AVID → CMA in the demo), for the markers on its loss curves.
// A staged run's config.json holds one resolved config per stage, in training order ({crossAvid: {...},
// cma: {...}}), each with its own train.epochs; its metrics.jsonl continues the epoch count from stage to
// stage. A plain run's config has train at the top level: one stage, no marker.
import type { RunConfig, TrainMetric } from './run-files.js';

export interface StageMarker {
  /** The first logged step of the new stage. */
  step: number;
  /** "cross-avid → cma". */
  label: string;
}

interface Stage {
  name: string;
  epochs: number;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The stages in the order the config lists them, or [] when the config is not a staged one. */
export function configStages(config: RunConfig): Stage[] {
  if ('train' in config) return [];
  const stages: Stage[] = [];
  for (const [key, value] of Object.entries(config)) {
    if (!isObject(value) || !isObject(value.train) || typeof value.train.epochs !== 'number') continue;
    stages.push({ name: typeof value.name === 'string' ? value.name : key, epochs: value.train.epochs });
  }
  return stages.length >= 2 ? stages : [];
}

/** A marker at the first logged step of each stage after the first (records sorted by step). */
export function stageMarkers(config: RunConfig | null, records: TrainMetric[]): StageMarker[] {
  if (!config) return [];
  const stages = configStages(config);
  const markers: StageMarker[] = [];
  let firstEpoch = 0;
  for (let i = 1; i < stages.length; i++) {
    firstEpoch += stages[i - 1].epochs;
    const first = records.find((r) => r.epoch >= firstEpoch);
    if (first) markers.push({ step: first.step, label: `${stages[i - 1].name} → ${stages[i].name}` });
  }
  return markers;
}
