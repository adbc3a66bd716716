// Video and audio embeddings of held-out videos, for cross-modal retrieval and k-NN: the AV model in eval
// mode (frozen batch-norm statistics), K evaluation clips per video (the media layer's aligned, uniformly
// spaced clips, no augmentation), each video's clip embeddings averaged and re-normalised.
import * as T from '../tensor/index.js';
import type { Batch } from '../data/loader.js';
import type { FeatureMatrix } from './svm.js';

/** What this needs of the AV model (models/av-model.ts). */
export interface AVEmbedder {
  embedVideo(video: T.Tensor): T.Tensor;
  embedAudio(audio: T.Tensor): T.Tensor;
  namedModules(): [string, { training: boolean }][];
  eval(): unknown;
}

export interface VideoEmbeddings {
  /** Manifest indices of the videos, in row order (ascending). */
  indices: number[];
  /** One unit-norm row per video. */
  video: FeatureMatrix;
  audio: FeatureMatrix;
  /** Clips that went into each video's average. */
  clipsPerVideo: number[];
}

function renormalisedMeans(sums: Map<number, Float64Array>, order: number[], dim: number): FeatureMatrix {
  const data = new Float32Array(order.length * dim);
  order.forEach((index, row) => {
    const s = sums.get(index)!;
    let norm = 0;
    for (const v of s) norm += v * v;
    norm = Math.sqrt(norm) || 1;
    for (let k = 0; k < dim; k++) data[row * dim + k] = s[k] / norm;
  });
  return { data, rows: order.length, cols: dim };
}

/**
 * Embeds every batch (consumed: its tensors are disposed here) and averages per video. Restores the
 * model's train/eval modes afterwards.
 */
export async function embedVideos(model: AVEmbedder, batches: AsyncIterable<Batch>, onProgress?: (clips: number) => void): Promise<VideoEmbeddings> {
  const modes = model.namedModules().map(([, m]) => [m, m.training] as const);
  model.eval();
  const videoSums = new Map<number, Float64Array>();
  const audioSums = new Map<number, Float64Array>();
  const counts = new Map<number, number>();
  let dim = 0;
  let clips = 0;
  try {
    for await (const batch of batches) {
      try {
        if (!batch.video || !batch.audio) throw new Error('retrieval needs audio-visual batches (the dataset decoded only one modality)');
        const [v, a] = T.noGrad(() =>
          T.tidy(() => [model.embedVideo(batch.video!).toFloat32Array(), model.embedAudio(batch.audio!).toFloat32Array()] as const),
        );
        const indices = batch.index.toArray();
        dim = v.length / indices.length;
        indices.forEach((index, r) => {
          if (!videoSums.has(index)) {
            videoSums.set(index, new Float64Array(dim));
            audioSums.set(index, new Float64Array(dim));
            counts.set(index, 0);
          }
          const vs = videoSums.get(index)!;
          const as = audioSums.get(index)!;
          for (let k = 0; k < dim; k++) {
            vs[k] += v[r * dim + k];
            as[k] += a[r * dim + k];
          }
          counts.set(index, counts.get(index)! + 1);
        });
        clips += indices.length;
        onProgress?.(clips);
      } finally {
        batch.video?.dispose();
        batch.audio?.dispose();
        batch.index.dispose();
      }
    }
  } finally {
    for (const [m, training] of modes) m.training = training;
  }
  const order = [...videoSums.keys()].sort((x, y) => x - y);
  return {
    indices: order,
    video: renormalisedMeans(videoSums, order, dim),
    audio: renormalisedMeans(audioSums, order, dim),
    clipsPerVideo: order.map((i) => counts.get(i)!),
  };
}
