// avid localize --checkpoint <file|random|random:<file>> <video...> [--out dir]
import { parseArgs } from 'node:util';
import path from 'node:path';
import { loadAVModel, VIDEO_BLOCKS, type VideoBlockName } from '../../models/index.js';
import { localizeClip, geometryFromConfig } from '../../eval/localize.js';

export const summary = 'sound localisation: Grad-CAM heatmaps of the audio-visual score over video frames';

const usage = `usage: avid localize --checkpoint <file|random|random:<file>> <video> [<video> ...] [--out <dir>] [--start <seconds>]
           [--layer conv4x] [--size <px>] [--no-render] [--seed 0]
           [--model av-r2plus1d-10 --width 0.25]   (architecture, for 'random'; 'random:<file>' takes it and the clip geometry from <file> or a plain state dict)

Back-propagates the audio-visual score to a video block (--layer: conv2x..conv5x; default conv4x, a 4×4 grid
at 64² input where conv5x is 2×2) and writes, per video, PNG frames with the heatmap overlaid and an MP4 of
the overlay with the clip's sound (not with --no-render). --size feeds larger frames than the run trained on
(the network is fully convolutional): a finer heatmap. Videos with ground truth beside them (<file>.json
with per-frame boxes, as \`avid synth\` writes) are scored: the share of frames whose heatmap peak falls
inside the sounding object's box; the box's share of the frame is what a peak placed at random would score.
--seed sets the initialisation of 'random' models.`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      checkpoint: { type: 'string' },
      out: { type: 'string', default: 'localization' },
      start: { type: 'string' },
      layer: { type: 'string', default: 'conv4x' },
      size: { type: 'string' },
      'no-render': { type: 'boolean', default: false },
      seed: { type: 'string', default: '0' },
      model: { type: 'string', default: 'av-r2plus1d-10' },
      width: { type: 'string', default: '1' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || !values.checkpoint || positionals.length === 0) {
    console.log(usage);
    return values.help ? 0 : 2;
  }
  const layer = values.layer as VideoBlockName;
  if (!VIDEO_BLOCKS.includes(layer) || layer === 'pool' || layer === 'conv1') throw new Error(`--layer: expected one of conv2x, conv3x, conv4x, conv5x, got '${values.layer}'`);
  const size = values.size === undefined ? undefined : Number(values.size);
  if (size !== undefined && !(Number.isInteger(size) && size >= 16)) throw new Error(`--size: expected an integer of at least 16 pixels, got '${values.size}'`);
  const { model, config, audioStats } = loadAVModel(values.checkpoint, { name: values.model as 'av-r2plus1d-10', width: Number(values.width) }, Number(values.seed));
  const geometry = geometryFromConfig(config, audioStats);
  const hitRates: number[] = [];
  const boxShares: number[] = [];
  try {
    for (const file of positionals) {
      const outDir = values['no-render'] ? undefined : path.resolve(values.out);
      const result = await localizeClip(model, path.resolve(file), geometry, { outDir, layer, size, startSec: values.start === undefined ? undefined : Number(values.start) });
      const score = result.boxHitRate === null ? '' : `${result.video ? ', ' : ': '}peak in the sounding object's box in ${(100 * result.boxHitRate).toFixed(0)}% of frames (box: ${(100 * (result.boxShare ?? 0)).toFixed(0)}% of the frame)`;
      console.log(`${file}${result.video ? `: ${result.frames.length} frames and ${result.video}` : ''}${score}`);
      if (result.boxHitRate !== null) {
        hitRates.push(result.boxHitRate);
        boxShares.push(result.boxShare ?? 0);
      }
    }
  } finally {
    model.dispose();
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  if (hitRates.length > 1) {
    const frames = hitRates.length * geometry.frames;
    const p = mean(hitRates);
    console.log(`mean box score over ${hitRates.length} videos (${frames} frames, ${layer}): ${(100 * p).toFixed(1)}% ± ${(100 * Math.sqrt((p * (1 - p)) / frames)).toFixed(1)}; a random peak: ${(100 * mean(boxShares)).toFixed(1)}%`);
  }
  return 0;
}
