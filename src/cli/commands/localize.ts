// avid localize --checkpoint <run|file|random|random:<file>> <video...> [--out dir]
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { VIDEO_BLOCKS, type VideoBlockName } from '../../models/index.js';
import { readRunArtifact, avModelOf, disposeArtifact, type RunArtifact } from '../../train/run-artifact.js';
import { clipGeometryWithStatsFile } from '../../eval/audio-stats-file.js';
import { localizeClip, localizationFrame, outputStems, decodeLocalizationClip, localizationSize, type LocalizationClip } from '../../eval/localize.js';
import { writeResultsJson } from '../../eval/results.js';
import { parseFlags, positiveInt, nonNegativeNumber, seedList, oneOf, checkpointFlag, frontendFlag, ARCHITECTURE_FLAGS, CHECKPOINT_HELP, FRONTEND_FLAGS, FRONTEND_HELP, AUDIO_STATS_FLAGS, AUDIO_STATS_HELP } from '../flags.js';
import { resultsDestination, writeRunResult } from '../results-destination.js';

export const summary = 'sound localisation: Grad-CAM heatmaps of the audio-visual score over video frames';

const usage = `usage: avid localize --checkpoint <run|file|random|random:<file>> <video> [<video> ...] [--out <dir>] [--start <seconds>]
           [--layer conv3x] [--size <px>] [--no-render] [--seeds 0]
           [--model av-r2plus1d-10 --width 0.25]   (architecture, for 'random' only)

Back-propagates the audio-visual score to a video block (--layer: conv2x..conv5x; default conv3x: at 64²
input conv5x is a 2×2 grid and conv4x 4×4) and writes, per video, PNG frames with the heatmap overlaid and an
MP4 of the overlay with the clip's sound (not with --no-render). The frames fed to the network are --size
pixels (default twice the run's video.size; the network is fully convolutional: a finer heatmap). Videos with
ground truth beside them (<file>.json with per-frame boxes, as \`avid synth\` writes) are scored: the share
of frames whose heatmap peak falls inside the sounding object's box; the box's share of the frame is what a
peak placed at random would score. A trained checkpoint is compared with random initialisations of its
architecture, one per --seeds (0-7 or 0,3,5; their Grad-CAM maps differ a lot from seed to seed); a
'random' checkpoint scores one model per seed.
Output: the run's localization/ (frames, videos) and results/localization.json (the report's localisation
section), or --out <dir> (required outside a run) with localization.json there.

${CHECKPOINT_HELP}
${FRONTEND_HELP}
${AUDIO_STATS_HELP}`;

const options = {
  checkpoint: { type: 'string' },
  out: { type: 'string' },
  start: { type: 'string' },
  layer: { type: 'string', default: 'conv3x' },
  size: { type: 'string' },
  'no-render': { type: 'boolean', default: false },
  seeds: { type: 'string', default: '0' },
  // --size here is the localisation input size, not the architecture's frame size (random only).
  model: ARCHITECTURE_FLAGS.model,
  width: ARCHITECTURE_FLAGS.width,
  frames: ARCHITECTURE_FLAGS.frames,
  ...FRONTEND_FLAGS,
  ...AUDIO_STATS_FLAGS,
  help: { type: 'boolean', default: false },
} as const;

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(xs.length, 1);

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, options, { positionals: true });
  if (values.help || !values.checkpoint || positionals.length === 0) {
    console.log(usage);
    return values.help ? 0 : 2;
  }
  const layer = oneOf(values.layer, '--layer', VIDEO_BLOCKS.filter((b) => b !== 'pool' && b !== 'conv1')) as VideoBlockName;
  const size = values.size === undefined ? undefined : positiveInt(values.size, '--size');
  if (size !== undefined && size < 16) throw new Error(`--size: expected at least 16 pixels, got '${values.size}'`);
  const startSec = values.start === undefined ? undefined : nonNegativeNumber(values.start, '--start');
  const seeds = seedList(values.seeds);
  const frontend = frontendFlag(values);
  const { input, random } = checkpointFlag({ ...values, size: undefined }, { defaultModel: 'av-r2plus1d-10' });
  const destination = resultsDestination(input, values.out);
  const outDir = destination.out ? path.resolve(destination.out) : path.join(destination.runDir!, 'localization');
  // The models scored: the trained one (seed 1 is unused for trained weights) and the random baselines.
  const isRandom = input === 'random' || input.startsWith('random:');
  const scored: { name: string; input: string; seed: number }[] = [
    ...(isRandom ? [] : [{ name: 'trained', input, seed: 0 }]),
    ...seeds.map((seed) => ({ name: `random (seed ${seed})`, input: isRandom ? input : `random:${input}`, seed })),
  ];
  const artifacts: RunArtifact[] = [];
  try {
    for (const s of scored) artifacts.push(readRunArtifact(s.input, { seed: s.seed, random: s.input === 'random' ? random : undefined }));
    const models = artifacts.map((a) => avModelOf(a, 'localize'));
    const geometry = clipGeometryWithStatsFile(artifacts[0].config, artifacts[0].audioStats, frontend, values['audio-stats']);
    const hitRates: number[][] = scored.map(() => []);
    const boxShares: number[] = [];
    // Frames of the first model's videos that were scored (the object inside the evaluation crop).
    let scoredFrameCount = 0;
    let outsideCropCount = 0;
    const frames: ({ image: string } & ReturnType<typeof localizationFrame>)[] = [];
    // Inputs with the same base name (a/clip.mp4, b/clip.mp4) get distinct output names in the one folder.
    const stems = outputStems(positionals);
    for (const [i, file] of positionals.entries()) {
      const decoded: LocalizationClip = await decodeLocalizationClip(path.resolve(file), geometry, { size, startSec });
      for (const [m, model] of models.entries()) {
        // Frames are rendered for the first model only (the trained one, when there is one).
        const render = !values['no-render'] && m === 0;
        const result = await localizeClip(model, path.resolve(file), geometry, { outDir: render ? outDir : undefined, layer, decoded, stem: stems[i] });
        const outside = result.framesOutsideCrop ? `; ${result.framesOutsideCrop} frames not scored: the object is outside the evaluation crop` : '';
        const score = result.boxHitRate === null ? (outside ? `: ${outside.slice(2)}` : '') : `${result.video ? ', ' : ': '}peak in the sounding object's box in ${(100 * result.boxHitRate).toFixed(0)}% of scored frames (box: ${(100 * (result.boxShare ?? 0)).toFixed(0)}% of the crop${outside})`;
        console.log(`${file} [${scored[m].name}]${result.video ? `: ${result.frames.length} frames and ${result.video}` : ''}${score}`);
        if (render) result.frames.forEach((f, t) => frames.push({ image: f, ...localizationFrame(result, t) }));
        if (result.boxHitRate !== null) {
          hitRates[m].push(result.boxHitRate);
          if (m === 0) {
            boxShares.push(result.boxShare ?? 0);
            scoredFrameCount += result.hits?.filter((h) => h !== null).length ?? 0;
            outsideCropCount += result.framesOutsideCrop;
          }
        }
      }
    }
    const scores = hitRates.map(mean);
    const trained = isRandom ? null : scores[0];
    const randomScore = mean(isRandom ? scores : scores.slice(1));
    if (hitRates[0].length > 0) {
      const n = scoredFrameCount;
      const perSeed = seeds.map((seed, i) => `${seed}: ${(100 * scores[isRandom ? i : i + 1]).toFixed(1)}`).join(', ');
      console.log(
        `box score over ${hitRates[0].length} videos (${n} scored frames${outsideCropCount ? `, ${outsideCropCount} outside the evaluation crop` : ''}, ${layer}, ${localizationSize(geometry, { size })} px): ` +
          `${trained === null ? '' : `trained ${(100 * trained).toFixed(1)}% ± ${(100 * Math.sqrt((trained * (1 - trained)) / n)).toFixed(1)}; `}` +
          `random init ${(100 * randomScore).toFixed(1)}% (seeds ${perSeed}); a random peak: ${(100 * mean(boxShares)).toFixed(1)}%`,
      );
    }
    const base = destination.runDir ?? outDir;
    const scoredFrames = frames.map((f) => ({ ...f, image: path.relative(base, f.image) }));
    if (hitRates[0].length === 0) {
      console.log('no video has ground truth beside it (<file>.json with boxes): nothing scored, no localization.json written');
      return 0;
    }
    let written: string;
    if (destination.runDir) {
      // Only a trained run reaches here (a random baseline is no run's result).
      written = writeRunResult(destination, 'results/localization.json', { score: { trained: trained!, random: randomScore }, frames: scoredFrames });
    } else {
      written = path.join(outDir, 'localization.json');
      mkdirSync(outDir, { recursive: true });
      writeResultsJson(written, { checkpoint: input, ...(values['audio-stats'] ? { audioStats: path.resolve(values['audio-stats']) } : {}), layer, seeds, score: { ...(trained === null ? {} : { trained }), random: randomScore }, frames: scoredFrames });
    }
    console.log(`results: ${written}`);
  } finally {
    artifacts.forEach(disposeArtifact);
  }
  return 0;
}
