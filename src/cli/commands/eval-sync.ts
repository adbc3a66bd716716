// avid eval-sync --checkpoint <file|random|random:<file>|oracle> --labels <csv> [--split test]
import path from 'node:path';
import { readRunArtifact, avModelOf, disposeArtifact } from '../../train/run-artifact.js';
import { PretrainConfig } from '../../config/schema.js';
import { readLabelledVideos } from '../../eval/av-evaluation.js';
import { evaluateSync, evaluateSyncOracle, groundTruthEvents, type SyncAccuracy, type SyncRate } from '../../eval/sync-evaluation.js';
import { clipGeometry } from '../../eval/clip-geometry.js';
import { clipGeometryWithStatsFile } from '../../eval/audio-stats-file.js';
import { parseFlags, positiveInt, positiveNumber, seed as seedFlag, checkpointFlag, frontendFlag, ARCHITECTURE_FLAGS, CHECKPOINT_HELP, FRONTEND_FLAGS, FRONTEND_HELP, AUDIO_STATS_FLAGS, AUDIO_STATS_HELP } from '../flags.js';
import { resultsDestination, writeEvaluationResults } from '../results-destination.js';

export const summary = 'audio-visual synchronisation accuracy on easy and hard held-out pairs (AVTS)';

const usage = `usage: avid eval-sync --checkpoint <run|file|random|random:<file>|oracle[:<file>]> --labels <labels.csv>
           [--min-offset 1] [--pairs 4] [--seed 0] [--all] [--json] [--out results.json]
           [--model av-r2plus1d-10 --width 0.25]   (architecture, for 'random' only)

For each held-out video (split 'test' of the labels CSV, or all with --all), --pairs clips: is the in-sync
audio closer to the video clip than an out-of-sync one? Easy: audio of another video. Hard: the same video's
audio shifted by at least --min-offset seconds (drawn as training draws them). Chance is 50%; the ± figures
are binomial standard errors over pairs. With ground truth beside the videos (avid synth's <file>.json),
hard pairs whose two audio windows hold the same event pattern to within half a frame (a regular rhythm
shifted by a multiple of its period) are counted apart as ambiguous.
'oracle' scores pairs with a hand-made detector instead of a model (correlation of the frames' luminance
increase with the audio's onset strength), in the geometry of <file> (or 8 frames at 8 fps, 64 px, 1 s).
The rates go into the run's results/sync.json (a table in the report; details in results/details/) or, with
--out (required outside a run: a file elsewhere, random, oracle), into that JSON file. --json also prints them.

${CHECKPOINT_HELP}
${FRONTEND_HELP}
${AUDIO_STATS_HELP}`;

const rate = (r: SyncRate) => `${(100 * r.accuracy).toFixed(1)}% ± ${(100 * r.standardError).toFixed(1)} (n=${r.n})`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, {
    checkpoint: { type: 'string' },
    labels: { type: 'string' },
    'min-offset': { type: 'string', default: '1' },
    pairs: { type: 'string', default: '4' },
    seed: { type: 'string', default: '0' },
    all: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    out: { type: 'string' },
    ...ARCHITECTURE_FLAGS,
    ...FRONTEND_FLAGS,
    ...AUDIO_STATS_FLAGS,
    help: { type: 'boolean', default: false },
  });
  if (values.help || !values.checkpoint || !values.labels) {
    console.log(usage);
    return values.help ? 0 : 2;
  }
  const pairsPerVideo = positiveInt(values.pairs, '--pairs');
  const minOffsetSeconds = positiveNumber(values['min-offset'], '--min-offset');
  const options = { minOffsetSeconds, pairsPerVideo, seed: seedFlag(values.seed) };
  const frontend = frontendFlag(values);
  const destination = resultsDestination(values.checkpoint, values.out);
  const videos = (await readLabelledVideos(values.labels))
    .filter((v) => values.all || v.split === 'test')
    .map((v) => ({ ...v, events: groundTruthEvents(v.path) }));
  let r: SyncAccuracy;
  const oracle = /^oracle(:|$)/.exec(values.checkpoint);
  if (oracle && values['audio-stats'] !== undefined) throw new Error(`--audio-stats: the oracle scores pairs without an audio network, so no spectrogram statistics apply`);
  if (oracle) {
    const file = values.checkpoint.slice('oracle:'.length);
    // The oracle has no weights: only a clip geometry, of <file> or a small default one.
    const config = file ? readRunArtifact(`random:${file}`, { withModel: false }).config : PretrainConfig.parse({ data: { source: 'oracle' }, video: { frames: 8, fps: 8, size: 64 }, audio: { seconds: 1 } });
    r = await evaluateSyncOracle(videos, clipGeometry(config, null, frontend), options);
  } else {
    const { input, random } = checkpointFlag(values, { defaultModel: 'av-r2plus1d-10' });
    const artifact = readRunArtifact(input, { seed: options.seed, random });
    try {
      r = await evaluateSync(avModelOf(artifact, 'eval-sync'), videos, clipGeometryWithStatsFile(artifact.config, artifact.audioStats, frontend, values['audio-stats']), options);
    } finally {
      disposeArtifact(artifact);
    }
  }
  const rows = [['easy (another video)', r.easy], ['hard (same video, shifted)', r.hard], ['hard, distinguishable', r.hardDistinct], ['hard, ambiguous', r.hardAmbiguous]]
    .filter((row): row is [string, SyncRate] => row[1] !== null)
    .map(([name, x]) => [name, Math.round(1000 * x.accuracy) / 10, Math.round(1000 * x.standardError) / 10, x.n]);
  const title = `Audio-visual synchronisation on ${path.basename(values.labels)} (${r.videos} videos × ${r.pairsPerVideo} pairs, chance 50%)`;
  const written = writeEvaluationResults(destination, { name: 'sync', title, details: { checkpoint: values.checkpoint, ...(values['audio-stats'] ? { audioStats: path.resolve(values['audio-stats']) } : {}), options, ...r }, table: { headers: ['pairs', 'accuracy %', '± %', 'n'], rows } });
  if (values.json) {
    console.log(JSON.stringify(r));
    return 0;
  }
  console.log(`sync accuracy on ${r.videos} held-out videos × ${r.pairsPerVideo} pairs (chance 50%):`);
  console.log(`  easy pairs (another video's audio):        ${rate(r.easy)}`);
  console.log(`  hard pairs (same video, ≥ ${minOffsetSeconds} s away):      ${rate(r.hard)}`);
  if (r.hardDistinct && r.hardAmbiguous) {
    console.log(`    of which distinguishable:               ${rate(r.hardDistinct)}`);
    console.log(`    of which ambiguous (same event pattern): ${rate(r.hardAmbiguous)}`);
  }
  const labels = Object.entries(r.hardByLabel);
  if (labels.length > 1) console.log(`  hard pairs by class: ${labels.map(([k, v]) => `${k}: ${(100 * v.accuracy).toFixed(0)}% (n=${v.n})`).join(', ')}`);
  console.log(`results: ${written.join(', ')}`);
  return 0;
}
