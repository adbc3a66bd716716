// The video probe's augmented training draws (the reference's linear evaluation, configs/benchmark/kinetics/
// 8x224x224-linear.yaml: train clips_per_video 1, use_augmentation true, transform 'msc+color'): draw e is one
// fresh random clip of every training video, with fine-tuning's training augmentation (multi-scale crop, flip,
// colour jitter 0.4/0.4/0.4/0.2 — defaultFinetuneAugment, through the same dataset and loader), run once through
// the frozen video encoder, every probed block pooled in that one forward pass. Draws are seeded by
// (seed, draw, video) through the dataset's addressable randomness, so the same seed gives the same features.
import * as T from '../tensor/index.js';
import type { AVModel } from '../models/index.js';
import { extractBlockFeatures, PROBE_VIDEO_POOLING, type BlockPooling } from './features.js';
import { loadFinetuneMedia, mediaBatchSource } from './finetune-data.js';
import type { ClipGeometry } from './clip-geometry.js';
import type { ClipFeatures } from './svm-protocol.js';

export interface TrainingDrawOptions {
  /** Draws to extract (epoch e of the probe trains on draw e mod draws). */
  draws: number;
  seed: number;
  /** Clips per forward pass (default 32). */
  batchSize?: number;
  /** Blocks and their pooling (default the video probe's). */
  pooling?: Record<string, BlockPooling>;
  log?: (line: string) => void;
}

/**
 * Per block, `draws` ClipFeatures whose rows are one augmented clip of each of `train` (indices into `videos`,
 * which the rows' sampleOfClip refers to).
 */
export async function extractVideoTrainingDraws(
  model: AVModel,
  videos: { path: string; label: number }[],
  train: number[],
  geometry: ClipGeometry,
  o: TrainingDrawOptions,
): Promise<Map<string, ClipFeatures[]>> {
  if (!(Number.isInteger(o.draws) && o.draws >= 1)) throw new Error(`probe training draws: draws must be an integer ≥ 1, got ${o.draws}`);
  if (train.length === 0) throw new Error('probe training draws: no training videos');
  for (const i of train) if (!videos[i]) throw new Error(`probe training draws: video index ${i} is outside 0..${videos.length - 1}`);
  const pooling = o.pooling ?? PROBE_VIDEO_POOLING;
  const media = await loadFinetuneMedia(
    train.map((i) => videos[i].path),
    'video',
    geometry,
    o.log,
  );
  const local = train.map((_, k) => k);
  const source = mediaBatchSource(
    media,
    train.map((i) => videos[i].label),
    local,
    [],
    { seed: o.seed, batchSize: o.batchSize ?? 32, trainClips: 1, dropLast: false, log: o.log },
  );
  const encoder = {
    forwardBlocks: (x: T.Tensor) => model.video_model.forwardBlocks(x),
    namedModules: () => model.namedModules(),
    eval: () => model.eval(),
  };
  const out = new Map<string, ClipFeatures[]>(Object.keys(pooling).map((name) => [name, []]));
  try {
    for (let draw = 0; draw < o.draws; draw++) {
      const sampleOfClip: number[] = [];
      async function* inputs(): AsyncGenerator<T.Tensor> {
        for await (const b of source.trainBatches(draw)) {
          b.labels.dispose();
          if (!b.samples) throw new Error('probe training draws: the batch source gave no sample indices');
          sampleOfClip.push(...b.samples.map((k) => train[k]));
          yield b.input;
        }
      }
      const blocks = await extractBlockFeatures(encoder, inputs(), pooling);
      if (sampleOfClip.length !== train.length) throw new Error(`probe training draws: draw ${draw} gave ${sampleOfClip.length} clips for ${train.length} training videos`);
      for (const [name, features] of blocks) out.get(name)!.push({ features, sampleOfClip });
      o.log?.(`probe training draw ${draw + 1}/${o.draws}: ${sampleOfClip.length} augmented clips`);
    }
  } finally {
    await source.close();
  }
  return out;
}
