// `avid prepare <videos-folder|manifest> --out <dir>`: a training-friendly copy of a collection (small short
// side, frequent keyframes, mono 24 kHz audio) with its own manifest.
import { parseArgs } from 'node:util';
import { availableParallelism } from 'node:os';
import { prepareCollection, PREPARE_MODES } from '../../data/prepare.js';
import { summarizeManifest, type ManifestMode } from '../../data/manifest.js';
import { Progress } from '../../train/progress.js';

export const summary = 'transcode a collection into a training-friendly copy (small, frequent keyframes, mono 24 kHz) with a manifest';

const usage = `usage: avid prepare <videos-folder|manifest.jsonl> --out <dir> [options]

Transcodes every usable video (folders recursively) with ffmpeg into <dir>, keeping the folder layout:
H.264 (libx264, preset fast, yuv420p) at a short side of --short-side pixels (never upscaled), a keyframe
at least every --keyframe-seconds, and mono AAC audio at 24 kHz; a file without audio gets a video-only copy
(and is said so). Writes <dir>/manifest.jsonl (for pretrain's data.source and eval), its rejects with the
reasons, and <dir>/labels.csv when the files have labels. Resumable: finished copies are skipped, and the
temporaries of an interrupted run are removed.

options:
  --out DIR               folder to write (required; not inside the input folder)
  --short-side N          short side in pixels, even (default 128, for 112² crops; 256 for 224²)
  --keyframe-seconds S    longest gap between keyframes (default 0.5)
  --workers N             ffmpeg processes at once (default: the core count, ${availableParallelism()} here)
  --mode MODE             audio-visual (default) | video: what the prepared manifest requires
  --clip-seconds S        clip length; shorter files are rejected (default 2)
  --labels FILE           CSV file,label,fold[,group] for a folder input (a manifest carries its own)
  --crf N                 x264 quality, lower is better and larger (default 23)
  --no-verify-end         skip the check that the end of each input is readable
  --quiet                 no progress on stderr
  -h, --help              this help`;

function number(text: string, flag: string, check: (n: number) => boolean, what: string): number {
  const n = Number(text);
  if (text.trim() === '' || !check(n)) throw new Error(`${flag} must be ${what}; got '${text}'`);
  return n;
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      out: { type: 'string', short: 'o' },
      'short-side': { type: 'string', default: '128' },
      'keyframe-seconds': { type: 'string', default: '0.5' },
      workers: { type: 'string', default: String(availableParallelism()) },
      mode: { type: 'string', default: 'audio-visual' },
      'clip-seconds': { type: 'string', default: '2' },
      labels: { type: 'string' },
      crf: { type: 'string', default: '23' },
      'no-verify-end': { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  if (positionals.length !== 1) throw new Error(`expected one input (a folder of videos or a manifest), got ${positionals.length}\n\n${usage}`);
  if (!values.out) throw new Error(`--out is required\n\n${usage}`);
  const mode = values.mode as ManifestMode;
  if (!PREPARE_MODES.includes(mode)) throw new Error(`--mode must be one of ${PREPARE_MODES.join(', ')}; got '${values.mode}'`);
  const shortSide = number(values['short-side']!, '--short-side', (n) => Number.isInteger(n) && n >= 16 && n % 2 === 0, 'an even integer ≥ 16');
  const keyframeSeconds = number(values['keyframe-seconds']!, '--keyframe-seconds', (n) => n > 0, 'a positive number');
  const workers = number(values.workers!, '--workers', (n) => Number.isInteger(n) && n >= 1, 'a positive integer');
  const clipSeconds = number(values['clip-seconds']!, '--clip-seconds', (n) => n > 0, 'a positive number');
  const crf = number(values.crf!, '--crf', (n) => n >= 0 && n <= 51, 'a number from 0 to 51');

  const quiet = values.quiet;
  const bars: { probing?: Progress; writing?: Progress } = {};
  const result = await prepareCollection(positionals[0], {
    outDir: values.out,
    shortSide,
    keyframeSeconds,
    workers,
    mode,
    clipSeconds,
    crf,
    labels: values.labels,
    verifyEnd: !values['no-verify-end'],
    onProbe: quiet ? undefined : (done, total) => (bars.probing ??= new Progress('probing', total)).update(done),
    onProgress: quiet
      ? undefined
      : (done, total, outcome) => {
          if (bars.probing) bars.probing.done();
          bars.probing = undefined;
          (bars.writing ??= new Progress('preparing', total)).update(done, { last: outcome.status });
        },
  });
  bars.probing?.done();
  bars.writing?.done();

  if (result.cleaned.length > 0) console.log(`removed ${result.cleaned.length} temporary file(s) of an interrupted run`);
  console.log(`${result.transcoded.length} transcoded, ${result.skipped.length} already prepared (skipped), ${result.failed.length} failed -> ${values.out}`);
  if (result.videoOnly.length > 0) console.log(`${result.videoOnly.length} without audio, kept video-only: ${result.videoOnly.join(', ')}`);
  const counts = summarizeManifest(result);
  const reasons = Object.entries(counts.byReason)
    .map(([reason, n]) => `${n} ${reason}`)
    .join(', ');
  console.log(`${counts.entries} usable file(s), ${counts.clips} clip(s) of ${clipSeconds} s (${mode}) -> ${result.manifestPath}`);
  console.log(`${counts.rejects} rejected${reasons ? `: ${reasons}` : ''} -> ${result.rejectsPath}`);
  if (result.labelsPath) console.log(`labels -> ${result.labelsPath}`);
  return 0;
}
