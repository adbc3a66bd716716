// avid ablate-data-size --config <yaml> --fractions 0.125,0.25,0.5,1 [--repeat N] [--equal updates|epochs] --protocol ...
import * as T from '../../tensor/index.js';
import { loadConfig } from '../../config/load.js';
import { runDataSizeAnalysis, dataSizeTable, EQUAL_BUDGETS } from '../../analyses/data-size.js';
import { parseFlags, numberList, positiveInt, oneOf } from '../flags.js';
import { PROTOCOL_FLAGS, PROTOCOL_HELP, protocolFromFlags } from '../protocol-flags.js';

export const summary = 'downstream accuracy against pre-training data size: one run per nested fraction of the data';

const usage = `usage: avid ablate-data-size --config <file.yaml> --fractions 0.125,0.25,0.5,1 [--repeat N]
       [--equal epochs|updates] [--set key=value ...] [--out DIR] --protocol svm|probe|eval-av [protocol options]

Pre-trains the config once per fraction of its videos (nested seeded subsets of the manifest: the 1/8 subset
lies inside the 1/4 one, and so on; --repeat N draws N such nestings, seeded by the config's seed and the
repeat), evaluates each run's last checkpoint and a random initialisation of the architecture with one
protocol, and writes <out>/ablation.json and <out>/ablation.html (accuracy against the number of training
videos, log axis, ±1 SE). --equal epochs (default): every run trains train.epochs epochs (smaller subsets
get fewer updates); --equal updates: every run makes the full set's number of updates (smaller subsets get
more epochs; warm-up, milestones and kept checkpoints stretched alike). The choice is stated in both outputs.
Resumes: finished runs are not trained again, finished evaluations are reused; results of other evaluation
settings or the other --equal are refused.
  --out DIR                  default <runsDir>/<name>-data-size

${PROTOCOL_HELP}
  -h, --help                 this help`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, {
    ...PROTOCOL_FLAGS,
    config: { type: 'string' },
    fractions: { type: 'string', default: '0.125,0.25,0.5,1' },
    repeat: { type: 'string', default: '1' },
    equal: { type: 'string', default: 'epochs' },
    set: { type: 'string', multiple: true, default: [] },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  if (!values.config) throw new Error(`--config is required\n\n${usage}`);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const { settings, runtime, threads } = protocolFromFlags(values, log);
  if (threads) T.setNumThreads(threads);
  const base = loadConfig(values.config, values.set);
  const { results, json, page } = await runDataSizeAnalysis(base, settings, {
    ...runtime,
    fractions: numberList(values.fractions, '--fractions'),
    repeats: positiveInt(values.repeat, '--repeat'),
    equal: oneOf(values.equal, '--equal', EQUAL_BUDGETS),
    outDir: values.out,
  });
  console.log(`${results.metric}\n${results.budget}\n${dataSizeTable(results)}\n\nresults: ${json}\npage: ${page}`);
  return 0;
}
