// Per-clip audio features of a labelled set of files, for the sound protocols: K uniformly spaced clips per
// file, log spectrograms, a frozen audio encoder, the protocol's pooling per block; cached on disk so that
// the SVM, the probe and k-NN reuse one extraction.
import path from 'node:path';
import * as T from '../tensor/index.js';
import { loadUniformAudioClips, type AudioClipOptions } from './audio-clips.js';
import type { AudioFrontend } from './audio-frontend.js';
import {
  extractBlockFeatures,
  featureCacheKey,
  loadFeatureCache,
  saveFeatureCache,
  type BlockEncoder,
  type BlockPooling,
  type CachedFeatures,
} from './features.js';

export interface AudioFeatureOptions extends AudioClipOptions {
  blocks: Record<string, BlockPooling>;
  frontend: AudioFrontend;
  /** Clips per forward pass (default 32). */
  batchSize?: number;
  /** Files decoded at once (default 2). */
  concurrency?: number;
  /** Directory of the feature cache; none: no caching. */
  cacheDir?: string;
  /** What identifies the encoder's weights (model name, options, checkpoint path and mtime...). */
  encoderIdentity: unknown;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

export async function extractAudioFeatures(encoder: BlockEncoder, files: string[], o: AudioFeatureOptions): Promise<CachedFeatures & { fromCache: boolean; seconds: number }> {
  const started = performance.now();
  const clipOptions = { sampleRate: o.sampleRate ?? 24000, clipSeconds: o.clipSeconds ?? 2, clipsPerSample: o.clipsPerSample ?? 10 };
  const key = featureCacheKey({ files, clipOptions, blocks: o.blocks, frontend: o.frontend.options, encoder: o.encoderIdentity });
  const cacheFile = o.cacheDir ? path.join(o.cacheDir, `features-${key}.safetensors`) : null;
  if (cacheFile) {
    const cached = loadFeatureCache(cacheFile, key);
    if (cached) {
      o.log?.(`features: loaded from ${cacheFile}`);
      return { ...cached, fromCache: true, seconds: (performance.now() - started) / 1000 };
    }
  }
  const batchSize = o.batchSize ?? 32;
  const concurrency = Math.max(1, o.concurrency ?? 2);
  const total = files.length * clipOptions.clipsPerSample;
  const sampleOfClip = new Int32Array(total);
  let lastReport = 0;

  // Decodes files `concurrency` at a time, in order, and yields spectrogram batches of `batchSize` clips.
  async function* batches(): AsyncGenerator<T.Tensor> {
    const pending: Promise<Float32Array[]>[] = [];
    let next = 0;
    const launch = () => {
      while (pending.length < concurrency && next < files.length) {
        const file = files[next++];
        const loading = loadUniformAudioClips(file, clipOptions).catch((error) => {
          throw new Error(`${file}: ${(error as Error).message}`);
        });
        loading.catch(() => {}); // awaited in order below; this only stops an early exit from leaving it unhandled
        pending.push(loading);
      }
    };
    let buffered: Float32Array[] = [];
    let clip = 0;
    const flush = () => {
      const length = buffered[0].length;
      const data = new Float32Array(buffered.length * length);
      buffered.forEach((c, i) => data.set(c, i * length));
      const count = buffered.length;
      buffered = [];
      return T.tidy(() => o.frontend.toInput(T.tensor(data, [count, length])));
    };
    for (let sample = 0; sample < files.length; sample++) {
      launch();
      const clips = await pending.shift()!;
      for (const c of clips) {
        sampleOfClip[clip++] = sample;
        buffered.push(c);
        if (buffered.length === batchSize) yield flush();
      }
    }
    if (buffered.length > 0) yield flush();
  }

  const blocks = await extractBlockFeatures(encoder, batches(), o.blocks, {
    total,
    onProgress: (done) => {
      const now = performance.now();
      if (now - lastReport > 5000 || done === total) {
        lastReport = now;
        o.log?.(`features: ${done}/${total} clips (${((now - started) / 1000).toFixed(0)} s)`);
      }
    },
  });
  const result: CachedFeatures = {
    blocks,
    sampleOfClip,
    info: { files: files.length, clips: total, clipOptions, frontend: o.frontend.options, blocks: o.blocks, encoder: o.encoderIdentity },
  };
  if (cacheFile) {
    saveFeatureCache(cacheFile, key, result);
    o.log?.(`features: cached in ${cacheFile}`);
  }
  return { ...result, fromCache: false, seconds: (performance.now() - started) / 1000 };
}
