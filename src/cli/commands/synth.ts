// `avid synth`: writes the synthetic audio-visual world (videos with known labels, events and boxes).
import { generateWorld, WORLD_DEFAULTS } from '../../data/synth/index.js';
import { parseCommandLine } from '../flags.js';

export const summary = 'write a synthetic audio-visual dataset with ground truth (H.264 + AAC .mp4 files)';

const d = WORLD_DEFAULTS;
const usage = `usage: avid synth --out <dir> [options]

Renders videos of a synthetic world (a sounding object, a silent distractor, a textured background) and
writes them as .mp4 with labels.csv, world.json and one ground-truth .json per video.

options:
  --out <dir>            output directory (created; a non-empty one must hold an earlier world)
  --videos <n>           short clips                                  (default ${d.videos})
  --seconds <s>          length of a short clip                       (default ${d.seconds})
  --classes <c>          number of classes, 2..24                     (default ${d.classes})
  --long-videos <n>      long videos made of several shots            (default ${d.longVideos})
  --long-seconds <s>     length of a long video                       (default ${d.longSeconds})
  --shot-seconds <a,b>   range of shot lengths in a long video        (default ${d.shotSeconds.join(',')})
  --seed <n>             random seed; the same seed gives the same files (default ${d.seed})
  --size <px>            frame width and height, even                 (default ${d.size})
  --fps <n>              frames per second                            (default ${d.fps})
  --sample-rate <hz>     audio sample rate                            (default ${d.sampleRate})
  --concurrency <n>      videos encoded at once                       (default ${d.concurrency})
  --quiet                no progress
  --help`;

function numberOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new Error(`--${name}: expected a number, got '${value}'`);
  return n;
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseCommandLine({
    args: argv,
    options: {
      out: { type: 'string' },
      videos: { type: 'string' },
      seconds: { type: 'string' },
      classes: { type: 'string' },
      'long-videos': { type: 'string' },
      'long-seconds': { type: 'string' },
      'shot-seconds': { type: 'string' },
      seed: { type: 'string' },
      size: { type: 'string' },
      fps: { type: 'string' },
      'sample-rate': { type: 'string' },
      concurrency: { type: 'string' },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  if (!values.out) {
    console.error(`avid synth: --out is required\n\n${usage}`);
    return 2;
  }
  let shotSeconds: [number, number] | undefined;
  if (values['shot-seconds'] !== undefined) {
    const parts = values['shot-seconds'].split(',').map((p) => numberOption('shot-seconds', p)!);
    if (parts.length !== 2) throw new Error(`--shot-seconds: expected two numbers 'shortest,longest', got '${values['shot-seconds']}'`);
    shotSeconds = [parts[0], parts[1]];
  }
  const progress = !values.quiet && process.stderr.isTTY;
  const world = await generateWorld({
    out: values.out,
    videos: numberOption('videos', values.videos),
    seconds: numberOption('seconds', values.seconds),
    classes: numberOption('classes', values.classes),
    longVideos: numberOption('long-videos', values['long-videos']),
    longSeconds: numberOption('long-seconds', values['long-seconds']),
    shotSeconds,
    seed: numberOption('seed', values.seed),
    size: numberOption('size', values.size),
    fps: numberOption('fps', values.fps),
    sampleRate: numberOption('sample-rate', values['sample-rate']),
    concurrency: numberOption('concurrency', values.concurrency),
    onProgress: progress
      ? (done, total, file) => process.stderr.write(`\rsynth: ${done}/${total} ${file}`.padEnd(48) + (done === total ? '\n' : ''))
      : undefined,
  });
  const clips = world.videos.filter((v) => !v.long).length;
  if (!values.quiet) {
    console.log(`wrote ${clips} clips and ${world.videos.length - clips} long videos of ${world.classes.length} classes to ${world.out} in ${world.elapsedSec.toFixed(1)} s`);
    for (const pair of world.confusablePairs) console.log(`  classes ${pair.classes.join(' & ')} share their ${pair.shares}: ${pair.description}`);
    console.log(`  labels: ${world.labelsPath}\n  world:  ${world.worldPath}`);
  }
  return 0;
}
