// avid ablate-long-form --config <yaml> [--k 1,4,8] [--w video,4] [--seeds 0,1] [--objective in-batch] [--set ...]
import path from 'node:path';
import { loadConfig } from '../../config/load.js';
import { runLongFormAblation, ABLATION_OBJECTIVES, type AblationSetting } from '../../demo/long-form-ablation.js';
import { parseFlags, positiveInt, seedList, oneOf } from '../flags.js';

export const summary = 'long-form sampling ablation: pre-train a grid of (k, w) settings, plot losses and probes';

const usage = `usage: avid ablate-long-form --config <file.yaml> [--k 1,4,8] [--w video,8] [--seeds 0,1|0-3] [--objective in-batch|avid|cma|config]
       [--set key=value ...] [--no-probe] [--probe-labels <csv>]

Pre-trains the config once per (k, w) and seed: batches made of groups of k clips from the same long video
within a window of w clips (w = video: anywhere in that video; k = 1: uniform sampling). Writes
<runsDir>/<name>-long-form/ablation.html (loss curves and linear probes per setting, means over the seeds)
and ablation.json; the table gives means ± standard errors over the seeds.
The objective is the in-batch contrastive loss unless --objective says otherwise ('config': the config's
own): its negatives are the batch's other clips, so k and w change what it contrasts against. A memory-bank
objective (avid, cma) draws negatives uniformly from all clips, whatever the batch.
The probes train and test on the labelled videos of --probe-labels (default the config's data.labels), one
clip each, decoded once for all settings.`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, {
    config: { type: 'string' },
    k: { type: 'string', default: '1,4,8' },
    w: { type: 'string', default: 'video,8' },
    set: { type: 'string', multiple: true, default: [] },
    'no-probe': { type: 'boolean', default: false },
    'probe-labels': { type: 'string' },
    seeds: { type: 'string' },
    objective: { type: 'string', default: 'in-batch' },
    help: { type: 'boolean', default: false },
  });
  if (values.help || !values.config) {
    console.log(usage);
    return values.help ? 0 : 2;
  }
  const base = loadConfig(values.config, values.set);
  const ks = values.k.split(',').map((k) => positiveInt(k, '--k'));
  const ws = values.w.split(',').map((w) => (w.trim() === 'video' ? 'video' : positiveInt(w, '--w')));
  const settings: AblationSetting[] = [];
  for (const k of ks) {
    for (const w of ws) {
      if (w !== 'video' && w < k) continue; // a window smaller than k cannot hold a group
      if (k === 1 && w !== 'video') continue; // k = 1 is uniform sampling whatever w
      settings.push({ k, w });
    }
  }
  const objective = oneOf(values.objective, '--objective', ABLATION_OBJECTIVES);
  const seeds = values.seeds === undefined ? undefined : seedList(values.seeds);
  const out = path.resolve(base.runsDir, `${base.name}-long-form`);
  const { page, table } = await runLongFormAblation(base, settings, out, { probe: !values['no-probe'], probeLabels: values['probe-labels'], seeds, objective });
  console.log(`\n${table}\n\nplots: ${page}`);
  return 0;
}
