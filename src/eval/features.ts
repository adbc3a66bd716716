// Frozen-encoder feature extraction: run an encoder in eval mode (batch-norm uses its running statistics and
// updates nothing), pool each requested block's output as the protocol says, and collect one row per clip.
// The result can be cached on disk as safetensors, keyed by everything that determines it, so that several
// classifiers (SVM, probe, k-NN) reuse one extraction.
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import * as T from '../tensor/index.js';
import { saveSafetensors, loadSafetensors } from '../io/safetensors.js';
import type { FeatureMatrix } from './svm.js';

/** Adaptive pooling of a block's (B, C, ...spatial) output to a fixed grid, then flattening to (B, C·∏size). */
export interface PoolingSpec {
  op: 'avg' | 'max';
  /** Output grid, one entry per spatial dimension (2 for audio, 3 for video). */
  size: number[];
}

/** A block output that is already (B, D) or (B, C, 1, 1...) needs no pooling: `flatten`. */
export type BlockPooling = PoolingSpec | 'flatten';

/**
 * The reference's ESC/DCASE SVM protocol (AVID-CMA eval-snd-recg-svm, configs/benchmark/esc50/audio-svm.yaml):
 * average-pool each conv block to a small grid, keeping coarse time-frequency layout (the paper's "before
 * pooling": not the global max-pool of `pool`).
 */
export const SVM_AUDIO_POOLING: Record<string, BlockPooling> = {
  conv2x: { op: 'avg', size: [12, 12] },
  conv3x: { op: 'avg', size: [8, 8] },
  conv4x: { op: 'avg', size: [6, 6] },
  conv5x: { op: 'avg', size: [4, 4] },
  pool: 'flatten',
};

/**
 * Linear probes on video: block features max-pooled to the output sizes of the reference's linear-evaluation
 * config (configs/benchmark/kinetics/8x224x224-linear.yaml: 1×12², 1×8², 1×6², 1×4² for conv2x…conv5x, about
 * 8–9K features per block at full width). The fixed probe standardises them with training statistics (the
 * reference's batch norm at evaluation time); the reference recipe puts the batch norm itself before the linear
 * layer (bn-linear-probe.ts).
 */
export const PROBE_VIDEO_POOLING: Record<string, BlockPooling> = {
  conv2x: { op: 'max', size: [1, 12, 12] },
  conv3x: { op: 'max', size: [1, 8, 8] },
  conv4x: { op: 'max', size: [1, 6, 6] },
  conv5x: { op: 'max', size: [1, 4, 4] },
  pool: 'flatten',
};

export function poolBlock(x: T.Tensor, pooling: BlockPooling, block = 'block'): T.Tensor {
  return T.tidy(() => {
    if (pooling === 'flatten') return x.flatten(1);
    const spatial = x.ndim - 2;
    if (pooling.size.length !== spatial) {
      throw new Error(`pooling of ${block}: output size [${pooling.size.join(', ')}] for a ${spatial}-D block (shape [${x.shape.join(', ')}])`);
    }
    let pooled: T.Tensor;
    if (spatial === 2) pooled = pooling.op === 'avg' ? T.functional.adaptiveAvgPool2d(x, pooling.size) : T.functional.adaptiveMaxPool2d(x, pooling.size);
    else if (spatial === 3) pooled = pooling.op === 'avg' ? T.functional.adaptiveAvgPool3d(x, pooling.size) : T.functional.adaptiveMaxPool3d(x, pooling.size);
    else throw new Error(`pooling of ${block}: unsupported block shape [${x.shape.join(', ')}]`);
    return pooled.flatten(1);
  });
}

/** What extraction needs of an encoder: block outputs and a train/eval switch (an nn.Module). */
export interface BlockEncoder {
  forwardBlocks(x: T.Tensor): Record<string, T.Tensor>;
  namedModules(): [string, { training: boolean; train(mode?: boolean): unknown }][];
  eval(): unknown;
}

export interface ExtractOptions {
  /** Called after each batch with (clips done, clips total if known). */
  onProgress?: (done: number, total?: number) => void;
  /** Total clips, for the progress callback. */
  total?: number;
}

/**
 * Runs `encoder` over `batches` (each a (B, ...) input tensor, owned and disposed here) in eval mode without
 * gradients, and returns each requested block's pooled features, one row per input clip in order. The
 * modules' previous train/eval modes are restored afterwards, even on error.
 */
export async function extractBlockFeatures(
  encoder: BlockEncoder,
  batches: AsyncIterable<T.Tensor> | Iterable<T.Tensor>,
  blocks: Record<string, BlockPooling>,
  options: ExtractOptions = {},
): Promise<Map<string, FeatureMatrix>> {
  const names = Object.keys(blocks);
  if (names.length === 0) throw new Error('feature extraction: no blocks requested');
  const modes = encoder.namedModules().map(([, m]) => [m, m.training] as const);
  encoder.eval();
  const chunks = new Map<string, Float32Array[]>(names.map((n) => [n, []]));
  const dims = new Map<string, number>();
  let rows = 0;
  try {
    for await (const input of batches) {
      try {
        const pooled = T.noGrad(() =>
          T.tidy(() => {
            const outputs = encoder.forwardBlocks(input);
            return names.map((name) => {
              const out = outputs[name];
              if (!out) throw new Error(`feature extraction: the encoder has no block '${name}' (it has ${Object.keys(outputs).join(', ')})`);
              return poolBlock(out, blocks[name], name).toFloat32Array();
            });
          }),
        );
        const batch = input.shape[0];
        names.forEach((name, k) => {
          const d = pooled[k].length / batch;
          if (dims.has(name) && dims.get(name) !== d) throw new Error(`feature extraction: block '${name}' gave ${d} features per clip, earlier ${dims.get(name)}`);
          dims.set(name, d);
          chunks.get(name)!.push(pooled[k]);
        });
        rows += batch;
        options.onProgress?.(rows, options.total);
      } finally {
        input.dispose();
      }
    }
  } finally {
    for (const [module, training] of modes) module.training = training;
  }
  const out = new Map<string, FeatureMatrix>();
  for (const name of names) {
    const d = dims.get(name) ?? 0;
    const data = new Float32Array(rows * d);
    let offset = 0;
    for (const chunk of chunks.get(name)!) {
      data.set(chunk, offset);
      offset += chunk.length;
    }
    out.set(name, { data, rows, cols: d });
  }
  return out;
}

/** A stable hash of everything that determines a set of features (model, weights, data, clips, pooling). */
export function featureCacheKey(parts: unknown): string {
  const canonical = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(canonical);
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.keys(value as object).sort().map((k) => [k, canonical((value as Record<string, unknown>)[k])]));
    }
    return value;
  };
  return createHash('sha256').update(JSON.stringify(canonical(parts))).digest('hex').slice(0, 24);
}

/** A data file as a cache key sees it: its path, size and modification time (just the path if it cannot be read). */
export function dataFileIdentity(file: string): { path: string; size?: number; mtimeMs?: number } {
  try {
    const st = statSync(file);
    return { path: file, size: st.size, mtimeMs: st.mtimeMs };
  } catch {
    return { path: file };
  }
}

export interface CachedFeatures {
  blocks: Map<string, FeatureMatrix>;
  /** Sample index of every row. */
  sampleOfClip: Int32Array;
  /** Free-form description saved with the features (JSON-able). */
  info: Record<string, unknown>;
}

/** Saves features as safetensors: `features.<block>` (rows × dim, float32), `sample_of_clip` (int32). */
export function saveFeatureCache(file: string, key: string, features: CachedFeatures): void {
  T.tidy(() => {
    const tensors: [string, T.Tensor][] = [];
    for (const [name, m] of features.blocks) tensors.push([`features.${name}`, T.tensor(m.data as Float32Array, [m.rows, m.cols])]);
    tensors.push(['sample_of_clip', T.tensor(features.sampleOfClip, [features.sampleOfClip.length])]);
    saveSafetensors(file, tensors, { format: 'avid-features-1', key, info: JSON.stringify(features.info) });
  });
}

/** Loads a feature cache if it exists and was made with `key`; null otherwise (a stale cache is ignored). */
export function loadFeatureCache(file: string, key: string): CachedFeatures | null {
  if (!existsSync(file)) return null;
  const { tensors, metadata } = loadSafetensors(file);
  try {
    if (metadata.format !== 'avid-features-1' || metadata.key !== key) return null;
    const blocks = new Map<string, FeatureMatrix>();
    let sampleOfClip: Int32Array | null = null;
    for (const [name, t] of tensors) {
      if (name === 'sample_of_clip') sampleOfClip = Int32Array.from(t.data() as Int32Array);
      else if (name.startsWith('features.')) {
        const [rows, cols] = t.shape;
        blocks.set(name.slice('features.'.length), { data: t.toFloat32Array(), rows, cols });
      }
    }
    if (!sampleOfClip) throw new Error(`feature cache ${file}: no 'sample_of_clip' tensor`);
    for (const [name, m] of blocks) {
      if (m.rows !== sampleOfClip.length) throw new Error(`feature cache ${file}: block '${name}' has ${m.rows} rows for ${sampleOfClip.length} clips`);
    }
    return { blocks, sampleOfClip, info: metadata.info ? JSON.parse(metadata.info) : {} };
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
}
