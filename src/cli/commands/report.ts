// `avid report <run dir>`: (re)builds <run dir>/report.html from whatever the run has written so far.
import { formatHighlights, writeReport } from '../../report/index.js';
import { parseCommandLine } from '../flags.js';

export const summary = 'build <run dir>/report.html: one self-contained page with the run\'s plots and results';

const USAGE = `usage: avid report <run dir> [options]

Builds <run dir>/report.html, one HTML file that opens from disk (no server, no network): training curves,
probe accuracy, CMA positives, retrieval examples, the embedding map, localisation heatmaps, the config, the
data summary and the versions. Sections whose files the run does not have say "not available".

options:
  --embed-limit <KiB>  embed images and media up to this size in the page (default 512); larger files are
                       linked by relative path, so keep report.html inside its run directory
  --seed <n>           seed of the t-SNE layout of raw embeddings (default 0)
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
  if (positionals.length !== 1) {
    console.error(`avid report: expected one run directory, got ${positionals.length}\n\n${USAGE}`);
    return 2;
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
  console.log(`report written in ${((Date.now() - started) / 1000).toFixed(1)} s: ${report.path}`);
  return 0;
}
