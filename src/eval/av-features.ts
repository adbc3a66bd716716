// Evaluation features of an audio-visual model on labelled videos: K uniformly spaced clips per video (whole
// frame resized, no augmentation) with their aligned audio windows, through both frozen encoders in eval
// mode; per block pooled features and the unit-norm embeddings of the heads, one row per clip.
import { evaluationCropBox } from '../media/video-transforms.js';
import * as T from '../tensor/index.js';
import type { AVModel } from '../models/index.js';
import { decodeClips, type DecodeOptions } from '../media/decode.js';
import { clipsToNetworkInput } from '../media/video-tensor.js';

import { extractBlockFeatures, PROBE_VIDEO_POOLING, type BlockEncoder, type BlockPooling } from './features.js';
import { uniformClipStarts } from './audio-clips.js';
import { decodedVideo, cutClip } from '../data/in-memory-videos.js';
import type { FeatureMatrix } from './svm.js';
import { audioInputFor, type ClipGeometry } from './clip-geometry.js';
import { stackWaveforms } from '../media/audio-input.js';

export interface AVVideo {
  path: string;
  durationSec: number;
  /** The frame's displayed size in pixels (the evaluation crop is placed in it). */
  width: number;
  height: number;
}

export interface AVFeatures {
  video: Map<string, FeatureMatrix>;
  audio: Map<string, FeatureMatrix>;
  /** Index (into the videos list) of each clip row. */
  videoOfClip: Int32Array;
}

/** Audio blocks max-pooled globally for probes, like the video ones. */
export const PROBE_AUDIO_POOLING: Record<string, BlockPooling> = {
  conv2x: { op: 'max', size: [4, 4] },
  conv3x: { op: 'max', size: [3, 3] },
  conv4x: { op: 'max', size: [2, 2] },
  conv5x: { op: 'max', size: [1, 1] },
  pool: 'flatten',
};

/** An encoder view that adds the head's unit-norm embedding as the block 'embedding'. */
function withEmbedding(blocks: (x: T.Tensor) => Record<string, T.Tensor>, head: (pooled: T.Tensor) => T.Tensor, model: AVModel): BlockEncoder {
  return {
    forwardBlocks: (x) =>
      T.tidy(() => {
        const out = blocks(x);
        out.embedding = T.functional.normalize(head(out.pool.flatten(1)), 2, 1);
        return out;
      }),
    namedModules: () => model.namedModules(),
    eval: () => model.eval(),
  };
}

async function mapLimited<I, O>(items: I[], limit: number, fn: (item: I) => Promise<O>): Promise<O[]> {
  const out: O[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]);
      }
    }),
  );
  return out;
}

/** Decoded evaluation clips: K per video, with the video each belongs to. */
export interface EvalClips {
  pixels: Uint8Array[];
  samples: Float32Array[];
  videoOfClip: Int32Array;
}

/** Decodes K uniformly spaced clips per video (and the audio window centred on each), once for all models. */
export async function decodeEvalClips(videos: AVVideo[], g: ClipGeometry, o: { clipsPerVideo?: number; workers?: number; join?: DecodeOptions['join']; onProgress?: (done: number, total: number) => void } = {}): Promise<EvalClips> {
  const k = o.clipsPerVideo ?? 2;
  const clipSeconds = g.frames / g.fps;
  const jobs = videos.flatMap((v, vi) => uniformClipStarts(v.durationSec, Math.max(clipSeconds, g.audioSeconds), k).map((start) => ({ vi, path: v.path, start, duration: v.durationSec })));
  const audioStartOf = (job: (typeof jobs)[number]) => Math.max(0, Math.min(job.start + clipSeconds / 2 - g.audioSeconds / 2, job.duration - g.audioSeconds));
  // The clips of one video in one call: one open file, one forward pass where they share a keyframe.
  const jobsOfVideo = videos.map((_, vi) => jobs.filter((j) => j.vi === vi));
  let done = 0;
  const perVideo = await mapLimited(jobsOfVideo, o.workers ?? 3, async (own) => {
    if (own.length === 0) return [];
    // Videos this process already holds decoded (a training run's memory cache) are cut from memory.
    const inMemory = decodedVideo(own[0].path, g.fps, g.sampleRate);
    // The reference's evaluation view: the central 87.5% (resize to crop/0.875, centre crop), in the pixels of
    // whichever frames are cut (the decoded copy in memory keeps the file's aspect ratio).
    const clips = inMemory
      ? own.map((job) => cutClip(inMemory, g.fps, g.sampleRate, job.start, g.frames, g.size, g.size, audioStartOf(job), g.audioSeconds, { crop: evaluationCropBox(inMemory.width, inMemory.height, g.size, g.size) }))
      : (
          await decodeClips(
            own[0].path,
            own.map((job) => ({
              video: { startSec: job.start, numFrames: g.frames, fps: g.fps, outWidth: g.size, outHeight: g.size, crop: evaluationCropBox(videos[job.vi].width, videos[job.vi].height, g.size, g.size) },
              audio: { startSec: audioStartOf(job), durationSec: g.audioSeconds, sampleRate: g.sampleRate },
            })),
            { join: o.join },
          )
        ).map((c) => ({ pixels: c.video!.pixels, samples: c.audio!.samples }));
    done += own.length;
    o.onProgress?.(done, jobs.length);
    return clips;
  });
  const decoded = perVideo.flat();
  return { pixels: decoded.map((d) => d.pixels), samples: decoded.map((d) => d.samples), videoOfClip: Int32Array.from(jobs.map((j) => j.vi)) };
}

/** Per-block pooled features and head embeddings of both encoders, one row per clip. */
export async function extractAVFeatures(model: AVModel, clips: EvalClips, g: ClipGeometry, o: { batchSize?: number } = {}): Promise<AVFeatures> {
  const batchSize = o.batchSize ?? 32;
  const n = clips.pixels.length;
  function* batches(kind: 'video' | 'audio'): Generator<T.Tensor> {
    for (let s = 0; s < n; s += batchSize) {
      const end = Math.min(n, s + batchSize);
      if (kind === 'video') yield T.tidy(() => clipsToNetworkInput(clips.pixels.slice(s, end), g.frames, g.size, g.size, null));
      else {
        yield T.tidy(() => audioInputFor(g, stackWaveforms(clips.samples.slice(s, end))));
      }
    }
  }
  const videoEncoder = withEmbedding((x) => model.video_model.forwardBlocks(x), (p) => model.video_proj.forward(p), model);
  const audioEncoder = withEmbedding((x) => model.audio_model.forwardBlocks(x), (p) => model.audio_proj.forward(p), model);
  const video = await extractBlockFeatures(videoEncoder, batches('video'), { ...PROBE_VIDEO_POOLING, embedding: 'flatten' });
  const audio = await extractBlockFeatures(audioEncoder, batches('audio'), { ...PROBE_AUDIO_POOLING, embedding: 'flatten' });
  return { video, audio, videoOfClip: clips.videoOfClip };
}
