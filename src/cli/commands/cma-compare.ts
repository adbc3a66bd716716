// avid cma-compare: CMA against Cross-AVID after the same number of updates, from one Cross-AVID checkpoint.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import * as T from '../../tensor/index.js';
import { compareEqualUpdates } from '../../demo/cma-compare.js';
import { parseCommandLine } from '../flags.js';

export const summary = 'CMA vs Cross-AVID after the same number of updates: two branches from one Cross-AVID checkpoint, probed alike';

const usage = `usage: avid cma-compare --init <cross-avid checkpoint> --manifest <manifest.jsonl> --labels <labels.csv> --out <dir>
                        [--config configs/cpu/cma.yaml] [--epochs E2] [--seeds 0,1] [--set key=value ...] [--threads n]

Both branches start from the Cross-AVID checkpoint (E1 epochs: model, memory banks, Z) and train E2 more
epochs with the same config (batch, learning rate and schedule, data order, seed); the Cross-AVID branch
runs it with objective.kind=avid (variant cross), the CMA branch as given. Each branch is then probed like
'avid eval-av' (linear probes per block on the labels' train/test split, retrieval) and its memory banks
diagnosed like 'avid cma-diagnose' (appended to its metrics). Runs land in <out>/<branch>-seed<s>; a branch
whose run already finished is not trained again. Writes <out>/equal-updates.json and <out>/equal-updates.txt.`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseCommandLine({
    args: argv,
    options: {
      init: { type: 'string' },
      manifest: { type: 'string' },
      labels: { type: 'string' },
      out: { type: 'string' },
      config: { type: 'string', default: 'configs/cpu/cma.yaml' },
      epochs: { type: 'string' },
      seeds: { type: 'string', default: '0' },
      set: { type: 'string', multiple: true, default: [] },
      threads: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || !values.init || !values.manifest || !values.labels || !values.out) {
    console.log(usage);
    return values.help ? 0 : 2;
  }
  const seeds = values.seeds.split(',').map(Number);
  if (seeds.some((s) => !Number.isInteger(s) || s < 0)) throw new Error(`cma-compare: --seeds must be a comma-separated list of integers ≥ 0, got ${values.seeds}`);
  const epochs = values.epochs === undefined ? undefined : Number(values.epochs);
  if (epochs !== undefined && !(Number.isInteger(epochs) && epochs > 0)) throw new Error(`cma-compare: --epochs must be a positive integer, got ${values.epochs}`);
  const overrides = [...values.set];
  if (values.threads) {
    T.setNumThreads(Number(values.threads));
    overrides.push(`train.threads=${values.threads}`);
  }
  const { table } = await compareEqualUpdates({ init: values.init, manifest: values.manifest, labels: values.labels, out: values.out, config: values.config, epochs, seeds, overrides });
  writeFileSync(path.join(values.out, 'equal-updates.txt'), `${table}\n`);
  console.log(table);
  return 0;
}
