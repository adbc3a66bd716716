// avid localize --checkpoint <file|random|random:<file>> <video...> [--out dir]
import { parseArgs } from 'node:util';
import path from 'node:path';
import { loadAVModel, VIDEO_BLOCKS, type VideoBlockName } from '../../models/index.js';
import { localizeClip, outputStems, geometryFromConfig, decodeLocalizationClip, localizationSize, type LocalizationClip } from '../../eval/localize.js';

export const summary = 'sound localisation: Grad-CAM heatmaps of the audio-visual score over video frames';

const usage = `usage: avid localize --checkpoint <file|random|random:<file>> <video> [<video> ...] [--out <dir>] [--start <seconds>]
           [--layer conv3x] [--size <px>] [--no-render] [--seeds 0]
           [--model av-r2plus1d-10 --width 0.25]   (architecture, for 'random'; 'random:<file>' takes it and the clip geometry from <file> or a plain state dict)

Back-propagates the audio-visual score to a video block (--layer: conv2x..conv5x; default conv3x: at 64²
input conv5x is a 2×2 grid and conv4x 4×4) and writes, per video, PNG frames with the heatmap overlaid and an
MP4 of the overlay with the clip's sound (not with --no-render). The frames fed to the network are --size
pixels (default twice the run's video.size; the network is fully convolutional: a finer heatmap). Videos with
ground truth beside them (<file>.json with per-frame boxes, as \`avid synth\` writes) are scored: the share
of frames whose heatmap peak falls inside the sounding object's box; the box's share of the frame is what a
peak placed at random would score. --seeds 0-7 (or 0,3,5) scores one model per initialisation seed of a
'random' checkpoint (their Grad-CAM maps differ a lot from seed to seed) and reports each and their mean.`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      checkpoint: { type: 'string' },
      out: { type: 'string', default: 'localization' },
      start: { type: 'string' },
      layer: { type: 'string', default: 'conv3x' },
      size: { type: 'string' },
      'no-render': { type: 'boolean', default: false },
      seeds: { type: 'string', default: '0' },
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
  const seeds = parseSeeds(values.seeds!);
  if (seeds.length > 1 && !values.checkpoint.startsWith('random')) throw new Error(`--seeds: only a 'random' checkpoint has an initialisation seed to vary`);
  const models = seeds.map((seed) => loadAVModel(values.checkpoint!, { name: values.model as 'av-r2plus1d-10', width: Number(values.width) }, seed));
  const geometry = geometryFromConfig(models[0].config, models[0].audioStats);
  const hitRates: number[][] = seeds.map(() => []);
  const boxShares: number[] = [];
  try {
    const stems = outputStems(positionals);
    for (const [i, file] of positionals.entries()) {
      const decoded: LocalizationClip = await decodeLocalizationClip(path.resolve(file), geometry, { size, startSec: values.start === undefined ? undefined : Number(values.start) });
      for (const [m, { model }] of models.entries()) {
        const outDir = values['no-render'] || m > 0 ? undefined : path.resolve(values.out);
        const result = await localizeClip(model, path.resolve(file), geometry, { outDir, layer, decoded, stem: stems[i] });
        const seed = seeds.length > 1 ? ` (seed ${seeds[m]})` : '';
        const score = result.boxHitRate === null ? '' : `${result.video ? ', ' : ': '}peak in the sounding object's box in ${(100 * result.boxHitRate).toFixed(0)}% of frames (box: ${(100 * (result.boxShare ?? 0)).toFixed(0)}% of the frame)`;
        console.log(`${file}${seed}${result.video ? `: ${result.frames.length} frames and ${result.video}` : ''}${score}`);
        if (result.boxHitRate !== null) {
          hitRates[m].push(result.boxHitRate);
          if (m === 0) boxShares.push(result.boxShare ?? 0);
        }
      }
    }
  } finally {
    for (const { model } of models) model.dispose();
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  if (hitRates[0].length > 1 || seeds.length > 1) {
    const frames = hitRates[0].length * geometry.frames;
    const scores = hitRates.map(mean);
    const p = mean(scores);
    const perSeed = seeds.length > 1 ? `; per seed ${scores.map((x, i) => `${seeds[i]}: ${(100 * x).toFixed(1)}`).join(', ')}` : '';
    console.log(`box score over ${hitRates[0].length} videos (${frames} frames, ${layer}, ${localizationSize(geometry, { size })} px): ${(100 * p).toFixed(1)}%${seeds.length > 1 ? ` (mean of ${seeds.length} seeds)` : ` ± ${(100 * Math.sqrt((p * (1 - p)) / frames)).toFixed(1)}`}${perSeed}; a random peak: ${(100 * mean(boxShares)).toFixed(1)}%`);
  }
  return 0;
}

/** '0-7' or '0,3,5'. */
function parseSeeds(text: string): number[] {
  const range = /^(\d+)-(\d+)$/.exec(text);
  const seeds = range ? Array.from({ length: Number(range[2]) - Number(range[1]) + 1 }, (_, i) => Number(range[1]) + i) : text.split(',').map(Number);
  if (!seeds.length || !seeds.every((x) => Number.isInteger(x) && x >= 0)) throw new Error(`--seeds: expected '0-7' or '0,3,5', got '${text}'`);
  return seeds;
}
