// `avid report <run dir>`: (re)builds <run dir>/report.html from whatever the run has written so far.
import { exportRunToTensorBoard, formatHighlights, writeComparison, writeReport } from '../../report/index.js';
import { parseCommandLine } from '../flags.js';

export const summary = 'build <run dir>/report.html: one self-contained page with the run\'s plots and results';

const USAGE = `usage: avid report <run dir> [options]
       avid report <run dir> <run dir> ... --out <compare.html> [options]

Builds <run dir>/report.html, one HTML file that opens from disk (no server, no network): training curves,
probe accuracy, CMA positives, retrieval examples, the embedding map, localisation heatmaps, the config, the
data summary and the versions. Sections whose files the run does not have say "not available".

With several run directories, writes one comparison page to --out: conclusions computed from the numbers
(with standard errors; the first run is the baseline), loss curves overlaid with stage changes, the linear
probe per block with chance and error bars, retrieval, and the config keys that differ.

options:
  --embed-limit <KiB>  embed images and media up to this size in the page (default 512); larger files are
                       linked by relative path, so keep report.html inside its run directory
  --seed <n>           seed of the t-SNE layout of raw embeddings (default 0)
  --tensorboard        also write <run dir>/tensorboard/: metrics.jsonl as TensorBoard scalars and
                       results/embeddings.json in the projector's layout (tensorboard --logdir it)
  --out <file>         where the comparison page goes (required with several run directories)
  -h, --help           show this help`;

export async function run(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseCommandLine({
      args: argv,
      allowPositionals: true,
      options: {
        'embed-limit': { type: 'string' },
        seed: { type: 'string' },
        out: { type: 'string' },
        tensorboard: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    console.error(`avid report: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length === 0) {
    console.error(`avid report: expected one run directory, got 0\n\n${USAGE}`);
    return 2;
  }
  if (positionals.length > 1 && values.out === undefined) {
    console.error(`avid report: comparing ${positionals.length} runs needs --out <file.html> (the page belongs to no single run)`);
    return 2;
  }
  if (positionals.length === 1 && values.out !== undefined) {
    console.error('avid report: --out is for comparing several runs; one run\'s report is always <run dir>/report.html (its media are linked relative to it)');
    return 2;
  }
  if (positionals.length > 1 && values.tensorboard) {
    console.error('avid report: --tensorboard exports one run; run it on each run directory');
    return 2;
  }
  if (positionals.length > 1) {
    const comparison = writeComparison(positionals, values.out!);
    for (const line of comparison.conclusions) console.log(`  ${line}`);
    console.log(`comparison of ${comparison.runs.join(', ')} written: ${comparison.path}`);
    return 0;
  }
  const embedLimit = values['embed-limit'] === undefined ? 512 : Number(values['embed-limit']);
  if (!Number.isFinite(embedLimit) || embedLimit < 0) {
    console.error(`avid report: --embed-limit must be a size in KiB (0 or more), got '${values['embed-limit']}'`);
    return 2;
  }
  const seed = values.seed === undefined ? 0 : Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0) {
    console.error(`avid report: --seed must be a non-negative integer, got '${values.seed}'`);
    return 2;
  }
  const started = Date.now();
  const report = await writeReport(positionals[0], { embedLimitBytes: embedLimit * 1024, seed });
  if (report.highlights.length) console.log(formatHighlights(report.highlights));
  const unavailable = report.sections.filter((s) => s.status !== 'ok');
  if (unavailable.length) console.log(`not available: ${unavailable.map((s) => `${s.title}${s.status === 'invalid' ? ' (unreadable input, see the page)' : ''}`).join('; ')}`);
  if (values.tensorboard) {
    const exported = exportRunToTensorBoard(positionals[0]);
    console.log(`tensorboard: ${exported.eventFile ? `${exported.events} scalar events in ${exported.eventFile}` : `no event file (${exported.eventsNote})`}${exported.projectorConfig ? `; projector: ${exported.projectorConfig}` : '; no results/embeddings.json for the projector'}`);
  }
  console.log(`report written in ${((Date.now() - started) / 1000).toFixed(1)} s: ${report.path}`);
  return 0;
}
