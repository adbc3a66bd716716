// avid localize --checkpoint <file|random|random:<file>> <video...> [--out dir]
import { parseArgs } from 'node:util';
import path from 'node:path';
import { loadAVModel } from '../../models/index.js';
import { localizeClip, geometryFromConfig } from '../../eval/localize.js';

export const summary = 'sound localisation: Grad-CAM heatmaps of the audio-visual score over video frames';

const usage = `usage: avid localize --checkpoint <file|random|random:<file>> <video> [<video> ...] [--out <dir>] [--start <seconds>]
           [--model av-r2plus1d-10 --width 0.25]   (architecture, for 'random'; 'random:<file>' takes it and the clip geometry from <file> or a plain state dict)

Back-propagates the audio-visual score to the last video block and writes, per video, PNG frames with the
heatmap overlaid and an MP4 of the overlay with the clip's sound. Videos with ground truth beside them
(<file>.json with per-frame boxes, as \`avid synth\` writes) are scored: the share of frames whose heatmap
peak falls inside the sounding object's box.`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      checkpoint: { type: 'string' },
      out: { type: 'string', default: 'localization' },
      start: { type: 'string' },
      model: { type: 'string', default: 'av-r2plus1d-10' },
      width: { type: 'string', default: '1' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || !values.checkpoint || positionals.length === 0) {
    console.log(usage);
    return values.help ? 0 : 2;
  }
  const { model, config, audioStats } = loadAVModel(values.checkpoint, { name: values.model as 'av-r2plus1d-10', width: Number(values.width) });
  const geometry = geometryFromConfig(config, audioStats);
  const hitRates: number[] = [];
  try {
    for (const file of positionals) {
      const result = await localizeClip(model, path.resolve(file), geometry, { outDir: path.resolve(values.out), startSec: values.start === undefined ? undefined : Number(values.start) });
      const score = result.boxHitRate === null ? '' : `, peak in the sounding object's box in ${(100 * result.boxHitRate).toFixed(0)}% of frames`;
      console.log(`${file}: ${result.frames.length} frames and ${result.video}${score}`);
      if (result.boxHitRate !== null) hitRates.push(result.boxHitRate);
    }
  } finally {
    model.dispose();
  }
  if (hitRates.length > 1) console.log(`mean box score over ${hitRates.length} videos: ${(100 * hitRates.reduce((a, b) => a + b, 0) / hitRates.length).toFixed(1)}%`);
  return 0;
}
