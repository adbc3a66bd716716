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
  dataFileIdentity,
  loadFeatureCache,
  saveFeatureCache,
  type BlockEncoder,
  type BlockPooling,
  type CachedFeatures,
} from './features.js';
import type { FeatureMatrix } from './svm.js';

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
  // One cache file per block, so that a later run asking for other blocks reuses the ones already extracted.
  // The files' sizes and modification times are part of the key: a file replaced under the same name
  // must not be served the old file's features.
  const data = files.map(dataFileIdentity);
  const keyOf = (block: string) => featureCacheKey({ files: data, clipOptions, block, pooling: o.blocks[block], frontend: o.frontend.options, encoder: o.encoderIdentity });
  const fileOf = (block: string) => (o.cacheDir ? path.join(o.cacheDir, `features-${block}-${keyOf(block)}.safetensors`) : null);
  const cachedBlocks = new Map<string, FeatureMatrix>();
  let cachedSampleOfClip: Int32Array | null = null;
  for (const block of Object.keys(o.blocks)) {
    const file = fileOf(block);
    const cached = file ? loadFeatureCache(file, keyOf(block)) : null;
    if (cached && cached.blocks.has(block)) {
      cachedBlocks.set(block, cached.blocks.get(block)!);
      cachedSampleOfClip = cached.sampleOfClip;
      o.log?.(`features: ${block} loaded from ${file}`);
    }
  }
  const missing = Object.fromEntries(Object.entries(o.blocks).filter(([block]) => !cachedBlocks.has(block)));
  const info = { files: files.length, clips: files.length * clipOptions.clipsPerSample, clipOptions, frontend: o.frontend.options, encoder: o.encoderIdentity };
  if (Object.keys(missing).length === 0 && cachedSampleOfClip) {
    return { blocks: cachedBlocks, sampleOfClip: cachedSampleOfClip, info, fromCache: true, seconds: (performance.now() - started) / 1000 };
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

  const extracted = await extractBlockFeatures(encoder, batches(), missing, {
    total,
    onProgress: (done) => {
      const now = performance.now();
      if (now - lastReport > 5000 || done === total) {
        lastReport = now;
        o.log?.(`features: ${done}/${total} clips (${((now - started) / 1000).toFixed(0)} s)`);
      }
    },
  });
  for (const [block, m] of extracted) {
    const file = fileOf(block);
    if (!file) continue;
    saveFeatureCache(file, keyOf(block), { blocks: new Map([[block, m]]), sampleOfClip, info: { ...info, block, pooling: o.blocks[block] } });
    o.log?.(`features: ${block} cached in ${file}`);
  }
  const blocks = new Map(Object.keys(o.blocks).map((block) => [block, cachedBlocks.get(block) ?? extracted.get(block)!]));
  return { blocks, sampleOfClip, info, fromCache: false, seconds: (performance.now() - started) / 1000 };
}
