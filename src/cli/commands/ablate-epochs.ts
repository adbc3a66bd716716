// avid ablate-epochs <run> --protocol svm|probe|eval-av [protocol options]
import path from 'node:path';
import * as T from '../../tensor/index.js';
import { runEpochAnalysis } from '../../analyses/by-epoch.js';
import { formatTable } from '../../eval/results.js';
import { writeReport } from '../../report/build-report.js';
import { RUN_FILES } from '../../report/run-files.js';
import { parseFlags, numberList } from '../flags.js';
import { PROTOCOL_FLAGS, PROTOCOL_HELP, protocolFromFlags } from '../protocol-flags.js';

export const summary = 'downstream accuracy of every kept checkpoint of a run (and a random init) against epochs';

const usage = `usage: avid ablate-epochs <run dir> --protocol svm|probe|eval-av [protocol options] [--epochs LIST] [--no-random] [--no-report]

Evaluates every checkpoint the run kept (train.keepCheckpoints: checkpoints/epoch-<N>.safetensors, epoch 0 =
the initial weights) and a random initialisation of the same architecture ('random:<run>', seeded by --seed)
with one protocol and one set of settings. Writes <run>/results/by-epoch.json (per epoch: accuracy, binomial
standard error, chance, n; the random-init level) and rebuilds the run's report.html, whose "Downstream
accuracy by epoch" section draws the curve with its ±1 SE band against the chance and random-init levels.
Resumes: the file is rewritten after every evaluation, and an evaluation whose settings and checkpoint are
unchanged is reused. A by-epoch.json measured with other settings is refused (move it aside to start again).

${PROTOCOL_HELP}
  --epochs LIST              evaluate only these kept epochs now (default all); the others' stored results stay
  --no-random                skip the random init
  --no-report                do not rebuild report.html
  -h, --help                 this help`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, { ...PROTOCOL_FLAGS, epochs: { type: 'string' }, 'no-random': { type: 'boolean', default: false }, 'no-report': { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } }, { positionals: true });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  if (positionals.length !== 1) throw new Error(`give exactly one run directory (got ${positionals.length})\n\n${usage}`);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const { settings, runtime, threads } = protocolFromFlags(values, log);
  if (threads) T.setNumThreads(threads);
  const runDir = path.resolve(positionals[0]);
  const epochs = values.epochs === undefined ? undefined : numberList(values.epochs, '--epochs');
  const r = await runEpochAnalysis(runDir, settings, { ...runtime, randomInit: !values['no-random'], epochs });
  const pct = (x: number) => (100 * x).toFixed(1);
  const rows = [
    ...(r.randomInit ? [['random init', pct(r.randomInit.accuracy), pct(r.randomInit.se), pct(r.randomInit.chance), String(r.randomInit.n)]] : []),
    ...r.epochs.map((e) => [String(e.epoch), pct(e.accuracy), pct(e.se), pct(e.chance), String(e.n)]),
  ];
  console.log(`${r.metric}\n${formatTable(['epoch', 'accuracy %', 'SE %', 'chance %', 'n'], rows)}`);
  console.log(`\nresults: ${path.join(runDir, RUN_FILES.byEpoch)}`);
  if (!values['no-report']) console.log(`report: ${(await writeReport(runDir)).path}`);
  return 0;
}
