// The video probe's recipes compared on one labelled video set (docs/experiments/linear-probe-recipe.md):
// today's fixed probe, the reference's literal linear evaluation (BN → linear, 12 epochs, lr 1e-4, a fresh
// augmented draw per epoch) and scaled versions of it, for a checkpoint and its random initialisation. The
// evaluation clips, their features and the augmented draws are computed once per model and probe seed and
// shared by every recipe. Prints one JSON line (per model, recipe and seed: video@1 and clip@1 per block, the
// block chosen on validation, seconds); progress goes to stderr.
//   npm run bench -- probe-recipe --checkpoint RUN|FILE --labels labels.csv [--clips 10] [--seeds 0,1,2] [--draws 12]
import { parseArgs } from 'node:util';
import path from 'node:path';
import * as T from '../src/tensor/index.js';
import { readRunArtifact, avModelOf, disposeArtifact } from '../src/train/run-artifact.js';
import { readLabelledVideos, bestBlock, type BlockScores } from '../src/eval/av-evaluation.js';
import { decodeEvalClips, extractAVFeatures } from '../src/eval/av-features.js';
import { clipGeometry } from '../src/eval/clip-geometry.js';
import { linearProbe, type ProbeOptions } from '../src/eval/linear-probe.js';
import { extractVideoTrainingDraws } from '../src/eval/probe-training-draws.js';
import type { ClipFeatures, ProtocolSample } from '../src/eval/svm-protocol.js';

const { values } = parseArgs({
  options: {
    checkpoint: { type: 'string' },
    labels: { type: 'string' },
    clips: { type: 'string', default: '10' },
    seeds: { type: 'string', default: '0' },
    draws: { type: 'string', default: '12' },
    threads: { type: 'string', default: '2' },
    only: { type: 'string' },
  },
});
if (!values.checkpoint || !values.labels) {
  console.error('usage: npm run bench -- probe-recipe --checkpoint RUN|FILE --labels labels.csv [--clips 10] [--seeds 0,1,2] [--draws 12] [--only "name;name"]');
  process.exit(2);
}
T.setNumThreads(Number(values.threads));
const seeds = values.seeds.split(',').map(Number);
const drawCount = Number(values.draws);

/** The recipes compared: probe options, and whether the video probe trains on the augmented draws. */
const RECIPES: Record<string, { options: ProbeOptions; augmented: boolean }> = {
  fixed: { options: { recipe: 'fixed', steps: 200 }, augmented: false },
  'reference (literal)': { options: { recipe: 'reference' }, augmented: true },
  'reference, lr 1e-3': { options: { recipe: 'reference', lr: 1e-3 }, augmented: true },
  'reference, 100 epochs, lr 1e-3': { options: { recipe: 'reference', epochs: 100, lr: 1e-3 }, augmented: true },
  'reference, 100 epochs, lr 1e-3, no augmentation': { options: { recipe: 'reference', epochs: 100, lr: 1e-3 }, augmented: false },
  'reference, 100 epochs, lr 1e-2': { options: { recipe: 'reference', epochs: 100, lr: 1e-2 }, augmented: true },
  'reference, 300 epochs, lr 1e-3': { options: { recipe: 'reference', epochs: 300, lr: 1e-3 }, augmented: true },
};
const recipes = values.only ? values.only.split(';').map((n) => n.trim()) : Object.keys(RECIPES);
for (const r of recipes) if (!RECIPES[r]) throw new Error(`--only: unknown recipe '${r}' (known: ${Object.keys(RECIPES).join('; ')})`);

const log = (line: string) => process.stderr.write(`${line}\n`);
const started = performance.now();
const videos = (await readLabelledVideos(values.labels)).filter((v) => v.path.includes(`${path.sep}clips${path.sep}`) || !v.path.includes(`${path.sep}long${path.sep}`));
const samples: ProtocolSample[] = videos.map((v) => ({ label: v.label, fold: v.split === 'test' ? 1 : 2, group: v.group }));
const train = videos.flatMap((v, i) => (v.split === 'train' ? [i] : []));
const test = videos.flatMap((v, i) => (v.split === 'test' ? [i] : []));
const numClasses = Math.max(...videos.map((v) => v.label)) + 1;
log(`${videos.length} videos (${train.length} train, ${test.length} test), ${numClasses} classes`);

const results: { model: string; recipe: string; seed: number; blocks: Record<string, BlockScores>; best: string | null; seconds: number }[] = [];
let clips: Awaited<ReturnType<typeof decodeEvalClips>> | null = null;
for (const which of [values.checkpoint, `random:${values.checkpoint}`]) {
  const artifact = readRunArtifact(which, { seed: 1 });
  try {
    const model = avModelOf(artifact, 'probe-recipe');
    const geometry = clipGeometry(artifact.config, artifact.audioStats);
    clips ??= await decodeEvalClips(videos, geometry, { clipsPerVideo: Number(values.clips) });
    const features = await extractAVFeatures(model, clips, geometry);
    const name = which.startsWith('random') ? 'random init' : 'trained';
    for (const seed of seeds) {
      const drawsStarted = performance.now();
      const draws = recipes.some((r) => RECIPES[r].augmented) ? await extractVideoTrainingDraws(model, videos, train, geometry, { draws: drawCount, seed }) : new Map<string, ClipFeatures[]>();
      log(`${name}, seed ${seed}: ${drawCount} augmented draws in ${((performance.now() - drawsStarted) / 1000).toFixed(0)} s`);
      for (const recipe of recipes) {
        const { options, augmented } = RECIPES[recipe];
        const t0 = performance.now();
        const blocks: Record<string, BlockScores> = {};
        for (const [block, m] of features.video) {
          if (block === 'embedding') continue;
          const trainingDraws = augmented ? draws.get(block) : undefined;
          const fit = linearProbe(samples, { features: m, sampleOfClip: features.videoOfClip }, train, test, numClasses, { ...options, seed, ...(trainingDraws ? { trainingDraws } : {}) });
          const validation = fit.validation.find((v) => v.weightDecay === fit.chosenWeightDecay)?.clipAccuracy;
          blocks[block] = { clip: fit.clipAccuracy, video: fit.videoAccuracy, ...(validation === undefined ? {} : { validation }) };
        }
        const seconds = (performance.now() - t0) / 1000;
        const best = bestBlock(blocks);
        results.push({ model: name, recipe, seed, blocks, best, seconds });
        log(`${name} | ${recipe} | seed ${seed}: ${Object.entries(blocks).map(([b, s]) => `${b} ${(100 * s.video).toFixed(1)}`).join(', ')}; best on validation ${best} (${best ? (100 * blocks[best].video).toFixed(1) : '-'}%); ${seconds.toFixed(1)} s`);
      }
    }
  } finally {
    disposeArtifact(artifact);
  }
}
console.log(JSON.stringify({ bench: 'probe-recipe', checkpoint: values.checkpoint, labels: values.labels, clipsPerVideo: Number(values.clips), draws: drawCount, testVideos: test.length, trainVideos: train.length, results, seconds: (performance.now() - started) / 1000 }));
