// avid ablate-long-form --config <yaml> [--k 1,4,8] [--w video,4] [--set ...]
import path from 'node:path';
import { loadConfig } from '../../config/load.js';
import { runLongFormAblation, type AblationSetting } from '../../demo/long-form-ablation.js';
import { parseCommandLine } from '../flags.js';

export const summary = 'long-form sampling ablation: pre-train a grid of (k, w) settings, plot losses and probes';

const usage = `usage: avid ablate-long-form --config <file.yaml> [--k 1,4,8] [--w video,8] [--set key=value ...] [--no-probe] [--probe-labels <csv>]

Pre-trains the config once per (k, w): batches made of groups of k clips from the same long video within a
window of w clips (w = video: anywhere in that video; k = 1: uniform sampling). Writes
<runsDir>/<name>-long-form/ablation.html (loss curves and linear probes per setting) and ablation.json.
The probes train and test on the labelled videos of --probe-labels (default the config's data.labels), one
clip each, decoded once for all settings.`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseCommandLine({
    args: argv,
    options: {
      config: { type: 'string' },
      k: { type: 'string', default: '1,4,8' },
      w: { type: 'string', default: 'video,8' },
      set: { type: 'string', multiple: true, default: [] },
      'no-probe': { type: 'boolean', default: false },
      'probe-labels': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || !values.config) {
    console.log(usage);
    return values.help ? 0 : 2;
  }
  const base = loadConfig(values.config, values.set);
  const ks = values.k!.split(',').map(Number);
  const ws = values.w!.split(',').map((w) => (w.trim() === 'video' ? 'video' : Number(w)));
  const settings: AblationSetting[] = [];
  for (const k of ks) {
    if (!Number.isInteger(k) || k < 1) throw new Error(`--k: expected positive integers, got '${values.k}'`);
    for (const w of ws) {
      if (w !== 'video' && (!Number.isInteger(w) || w < k)) continue; // a window smaller than k cannot hold a group
      if (k === 1 && w !== 'video') continue; // k = 1 is uniform sampling whatever w
      settings.push({ k, w });
    }
  }
  const out = path.resolve(base.runsDir, `${base.name}-long-form`);
  const { page, table } = await runLongFormAblation(base, settings, out, { probe: !values['no-probe'], probeLabels: values['probe-labels'] });
  console.log(`\n${table}\n\nplots: ${page}`);
  return 0;
}
