// `avid manifest <dir|files...> --out manifest.jsonl`: probe media files, write the manifest and its rejects.
import {
  buildManifest,
  writeManifest,
  writeRejects,
  rejectsPathFor,
  summarizeManifest,
  MANIFEST_MODES,
  type ManifestMode,
} from '../../data/manifest.js';
import { computeSpectrogramStats } from '../../media/spectrogram-stats.js';
import { saveStats, ANALYSIS_SPECTROGRAM, COMPARISON_SPECTROGRAM } from '../../media/spectrogram.js';
import { parseCommandLine } from '../flags.js';

export const summary = 'probe media files into a manifest (JSONL) and a rejects file with reasons';

const usage = `usage: avid manifest <dir|files...> --out manifest.jsonl [options]

Probes every file (folders recursively, hidden files skipped) with ffprobe and writes one JSON line per
usable file, in sorted order (the line is the instance index), and <out>.rejects.jsonl with the reason for
each file that cannot be used.

options:
  --out FILE            manifest to write (required)
  --mode MODE           audio-visual (default) | audio | video: which streams a file must have
  --clip-seconds S      clip length; shorter files are rejected (default 2)
  --labels FILE         CSV file,label,fold[,group] carried into the entries
  --concurrency N       ffprobe processes at once (default 2)
  --spectrogram-stats FILE
                        also compute per-frequency-bin mean/std of the log spectrogram over the usable
                        files (2 windows of 2 s per file) and save them as JSON, for Z-normalisation
  --spectrogram NAME    analysis (100×129, default) | comparison (200×257)
  --no-verify-end       skip the check that the end of each file is readable (faster; truncated files
                        then fail later, at decode time)
  --quiet               no progress on stderr
  -h, --help            this help`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine({
    args: argv,
    allowPositionals: true,
    options: {
      out: { type: 'string', short: 'o' },
      mode: { type: 'string', default: 'audio-visual' },
      'clip-seconds': { type: 'string', default: '2' },
      labels: { type: 'string' },
      concurrency: { type: 'string', default: '2' },
      'no-verify-end': { type: 'boolean', default: false },
      'spectrogram-stats': { type: 'string' },
      spectrogram: { type: 'string', default: 'analysis' },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  if (positionals.length === 0) throw new Error(`no input given\n\n${usage}`);
  if (!values.out) throw new Error(`--out is required\n\n${usage}`);
  const mode = values.mode as ManifestMode;
  if (!MANIFEST_MODES.includes(mode)) throw new Error(`--mode must be one of ${MANIFEST_MODES.join(', ')}; got '${values.mode}'`);
  const clipSeconds = Number(values['clip-seconds']);
  if (!(clipSeconds > 0)) throw new Error(`--clip-seconds must be a positive number; got '${values['clip-seconds']}'`);
  const spectrograms = { analysis: ANALYSIS_SPECTROGRAM, comparison: COMPARISON_SPECTROGRAM } as const;
  const spectrogram = spectrograms[values.spectrogram as keyof typeof spectrograms];
  if (!spectrogram) throw new Error(`--spectrogram must be analysis or comparison; got '${values.spectrogram}'`);
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error(`--concurrency must be a positive integer; got '${values.concurrency}'`);

  const showProgress = !values.quiet && process.stderr.isTTY;
  const manifest = await buildManifest(positionals, {
    mode,
    clipSeconds,
    labels: values.labels,
    concurrency,
    verifyEnd: !values['no-verify-end'],
    onProgress: showProgress ? (done, total) => process.stderr.write(`\rprobing ${done}/${total}`) : undefined,
  });
  if (showProgress) process.stderr.write('\n');

  const rejectsPath = rejectsPathFor(values.out);
  writeManifest(values.out, manifest.entries);
  writeRejects(rejectsPath, manifest.rejects);

  const counts = summarizeManifest(manifest);
  const reasons = Object.entries(counts.byReason)
    .map(([reason, n]) => `${n} ${reason}`)
    .join(', ');
  console.log(`${counts.entries} usable file(s), ${counts.clips} clip(s) of ${clipSeconds} s (${mode}) -> ${values.out}`);
  console.log(`${counts.rejects} rejected${reasons ? `: ${reasons}` : ''} -> ${rejectsPath}`);
  for (const w of manifest.warnings) console.log(`warning: ${w}`);

  const statsPath = values['spectrogram-stats'];
  if (statsPath) {
    const withAudio = manifest.entries.filter((e) => e.audioSampleRate !== null);
    if (withAudio.length === 0) throw new Error('--spectrogram-stats: no usable file has an audio stream');
    const { stats, skipped } = await computeSpectrogramStats(withAudio, spectrogram, {
      concurrency,
      onProgress: showProgress ? (done, total) => process.stderr.write(`\rspectrogram statistics ${done}/${total}`) : undefined,
    });
    if (showProgress) process.stderr.write('\n');
    saveStats(statsPath, stats);
    console.log(`spectrogram statistics (${values.spectrogram}, ${stats.clips} clips, ${stats.frames} frames) -> ${statsPath}`);
    for (const s of skipped) console.log(`warning: statistics skipped ${s.path}: ${s.reason}`);
  }
  return 0;
}
