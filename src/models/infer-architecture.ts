// The architecture a state dict holds, read from its keys and shapes: whether it is a whole audio-visual model
// (video_model.*, audio_model.*), one encoder of one (audio_model.* alone) or a bare encoder (conv1.0.weight
// of rank 4: audio; rank 5: video), the R(2+1)D depth (blocks per stage) and the channel multipliers. A plain
// state dict (one exported from PyTorch, or a fine-tuned encoder) says nothing else about what it is, and
// asking the user for --model/--width would only let them get it wrong.
import type { Tensor } from '../tensor/index.js';
import { R2PLUS1D_LAYERS } from './r2plus1d.js';

export type VideoDepth = 10 | 18 | 34;

export type Architecture =
  | { network: 'av'; depth: VideoDepth; width: number; audioWidth: number; embeddingDim: number }
  | { network: 'audio'; width: number }
  | { network: 'video'; depth: VideoDepth; width: number };

/** Base channels of each stage at width 1 (the papers' networks). */
const VIDEO_STAGES = { conv1: 64, conv2x: 64, conv3x: 128, conv4x: 256, conv5x: 512 } as const;
const AUDIO_STAGES = { conv1: 64, block1: 64, block2: 128, block3: 256, block4: 512 } as const;

/**
 * The width w with round(base·w) = channels for every stage (each stage bounds w to an interval; the
 * networks round, so one stage alone can be off by a rounding step).
 */
function inferWidth(state: Map<string, Tensor>, prefix: string, stages: Record<string, number>, source: string): number {
  let low = 0;
  let high = Infinity;
  for (const [stage, base] of Object.entries(stages)) {
    const channels = [...state]
      .filter(([k, t]) => k.startsWith(`${prefix}${stage}.`) && k.endsWith('.weight') && t.shape.length === 1)
      .map(([, t]) => t.shape[0]);
    if (channels.length === 0) throw new Error(`${source}: no ${prefix}${stage}.* batch-norm weights: not an avid ${prefix ? prefix.slice(0, -1) : 'encoder'} state dict`);
    const c = Math.max(...channels);
    low = Math.max(low, (c - 0.5) / base);
    high = Math.min(high, (c + 0.5) / base);
  }
  if (!(low < high)) throw new Error(`${source}: the channel counts of ${prefix || 'the encoder'} fit no single width multiplier`);
  const last = Object.values(stages).at(-1)!;
  // The width that reproduces the widest stage exactly, when the other stages allow it.
  const exact = Math.round(((low + high) / 2) * last) / last;
  return exact >= low && exact < high ? exact : (low + high) / 2;
}

function inferDepth(state: Map<string, Tensor>, prefix: string, source: string): VideoDepth {
  const blocks = ['conv2x', 'conv3x', 'conv4x', 'conv5x'].map((stage) => {
    const indices = new Set<number>();
    for (const k of state.keys()) {
      const m = k.startsWith(`${prefix}${stage}.`) ? /^(\d+)\./.exec(k.slice(prefix.length + stage.length + 1)) : null;
      if (m) indices.add(Number(m[1]));
    }
    // Depth 10 has one block per stage, registered without an index.
    return indices.size || 1;
  });
  for (const [depth, layers] of Object.entries(R2PLUS1D_LAYERS)) if (layers.every((n, i) => n === blocks[i])) return Number(depth) as VideoDepth;
  throw new Error(`${source}: ${prefix}conv2x..conv5x have ${blocks.join(', ')} blocks, which is no R(2+1)D depth (10, 18, 34)`);
}

export function inferArchitecture(state: Map<string, Tensor>, source: string): Architecture {
  const has = (prefix: string) => [...state.keys()].some((k) => k.startsWith(prefix));
  if (has('video_model.') && has('audio_model.')) {
    const head = state.get('video_proj.projection.4.weight');
    if (!head) throw new Error(`${source}: an audio-visual state dict without video_proj.projection.4.weight (the projection head)`);
    return {
      network: 'av',
      depth: inferDepth(state, 'video_model.', source),
      width: inferWidth(state, 'video_model.', VIDEO_STAGES, source),
      audioWidth: inferWidth(state, 'audio_model.', AUDIO_STAGES, source),
      embeddingDim: head.shape[0],
    };
  }
  if (has('audio_model.')) return { network: 'audio', width: inferWidth(state, 'audio_model.', AUDIO_STAGES, source) };
  if (has('video_model.')) return { network: 'video', depth: inferDepth(state, 'video_model.', source), width: inferWidth(state, 'video_model.', VIDEO_STAGES, source) };
  const stem = state.get('conv1.0.weight');
  if (stem?.shape.length === 4) return { network: 'audio', width: inferWidth(state, '', AUDIO_STAGES, source) };
  if (stem?.shape.length === 5) return { network: 'video', depth: inferDepth(state, '', source), width: inferWidth(state, '', VIDEO_STAGES, source) };
  const sample = [...state.keys()].slice(0, 3).join(', ');
  throw new Error(`${source}: not an avid model state dict (expected video_model.*/audio_model.* or an encoder's conv1.0.weight; found ${sample || 'no tensors'})`);
}
