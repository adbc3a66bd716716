// avid eval-sync --checkpoint <file|random|random:<file>> --labels <csv> [--split test]
import { parseArgs } from 'node:util';
import { loadAVModel } from '../../models/index.js';
import { readLabelledVideos } from '../../eval/av-evaluation.js';
import { evaluateSync } from '../../eval/sync-evaluation.js';
import { geometryFromConfig } from '../../eval/localize.js';

export const summary = 'audio-visual synchronisation accuracy on easy and hard held-out pairs (AVTS)';

const usage = `usage: avid eval-sync --checkpoint <file|random|random:<file>> --labels <labels.csv> [--min-offset 1] [--all]
           [--model av-r2plus1d-10 --width 0.25]   (architecture, for 'random'; 'random:<file>' takes it and the clip geometry from <file>)

For each held-out video (split 'test' of the labels CSV, or all with --all): is the in-sync audio closer to
the video clip than an out-of-sync one? Easy: audio of another video. Hard: the same video's audio shifted by
at least --min-offset seconds. Chance is 50%.`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      checkpoint: { type: 'string' },
      labels: { type: 'string' },
      'min-offset': { type: 'string', default: '1' },
      all: { type: 'boolean', default: false },
      model: { type: 'string', default: 'av-r2plus1d-10' },
      width: { type: 'string', default: '1' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || !values.checkpoint || !values.labels) {
    console.log(usage);
    return values.help ? 0 : 2;
  }
  const { model, config, audioStats } = loadAVModel(values.checkpoint, { name: values.model as 'av-r2plus1d-10', width: Number(values.width) });
  try {
    const videos = (await readLabelledVideos(values.labels)).filter((v) => values.all || v.split === 'test');
    const r = await evaluateSync(model, videos, geometryFromConfig(config, audioStats), Number(values['min-offset']));
    console.log(`sync accuracy on ${r.videos} held-out videos: easy pairs ${(100 * r.easy).toFixed(1)}%, hard pairs ${(100 * r.hard).toFixed(1)}% (chance 50%)`);
  } finally {
    model.dispose();
  }
  return 0;
}
