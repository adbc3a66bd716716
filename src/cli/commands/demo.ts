// avid demo [--out runs/demo] [--quick]
import { runDemo } from '../../demo/demo.js';
import { parseCommandLine } from '../flags.js';

export const summary = 'the whole system on a synthetic world: generate, pre-train (Cross-AVID → CMA), evaluate, report';

const usage = `usage: avid demo [--out runs/demo] [--quick] [--cross-epochs N] [--cma-epochs N] [--videos N] [--seed N]

Generates the synthetic audio-visual world, pre-trains Cross-AVID and continues with CMA, evaluates the
encoders against a randomly initialised network (linear probes per block, retrieval, CMA positives,
sound localisation), writes <out>/report.html and prints a results table. About 15 minutes on 2 cores;
--quick is a few minutes (fewer videos and epochs) for a first look.`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseCommandLine({
    args: argv,
    options: {
      out: { type: 'string', default: 'runs/demo' },
      quick: { type: 'boolean', default: false },
      'cross-epochs': { type: 'string' },
      'cma-epochs': { type: 'string' },
      videos: { type: 'string' },
      seed: { type: 'string', default: '0' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  const result = await runDemo({
    out: values.out!,
    crossEpochs: num(values['cross-epochs']) ?? (values.quick ? 2 : undefined),
    cmaEpochs: num(values['cma-epochs']) ?? (values.quick ? 1 : undefined),
    videos: num(values.videos) ?? (values.quick ? 64 : undefined),
    seed: Number(values.seed),
  });
  console.log(`\n${result.table}\n\nreport: ${result.reportPath}`);
  return 0;
}
