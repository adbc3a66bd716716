// Rebuilds the audio-visual model a checkpoint was trained with (its config names the architecture) and loads
// its weights; or, for 'random', a randomly initialised model of the given architecture (the baseline).
import * as T from '../tensor/index.js';
import { loadCheckpoint, disposeContents, type CheckpointContents } from '../io/checkpoint.js';
import { isPyTorchCheckpointPath } from '../io/pytorch-checkpoint.js';
import { importReferenceCheckpoint } from '../io/reference-checkpoint.js';
import { createModel, type ModelOptions } from './registry.js';
import type { AVModel } from './av-model.js';

export interface ModelSpec extends ModelOptions {
  name: 'av-r2plus1d-10' | 'av-r2plus1d-18' | 'av-r2plus1d-34';
}

export interface LoadedModel {
  model: AVModel;
  spec: ModelSpec;
  /** The run config stored in the checkpoint, when there is one. */
  config?: Record<string, unknown>;
  /** The run's spectrogram statistics (for normalising evaluation audio alike), when stored. */
  audioStats?: unknown;
}

/**
 * `checkpoint` is a file, 'random' (the architecture from `fallback`), or 'random:<file>': a randomly
 * initialised model with the architecture and run config of <file> — the baseline for that run.
 */
export function loadAVModel(checkpoint: string, fallback?: ModelSpec, seed = 0): LoadedModel {
  if (checkpoint.startsWith('random:')) {
    const like = loadAVModel(checkpoint.slice('random:'.length), fallback);
    like.model.dispose();
    T.manualSeed(seed);
    return { model: createModel(like.spec.name, like.spec), spec: like.spec, config: like.config, audioStats: like.audioStats };
  }
  if (checkpoint === 'random') {
    if (!fallback) throw new Error("a randomly initialised model needs its architecture (--model, --width)");
    T.manualSeed(seed);
    return { model: createModel(fallback.name, fallback), spec: fallback };
  }
  const contents = readContents(checkpoint);
  try {
    const config = contents.scalars.config as { model?: ModelSpec } | undefined;
    const spec = config?.model ?? fallback;
    if (!spec) throw new Error(`${checkpoint} does not say which model it holds: pass --model (and --width)`);
    const model = createModel(spec.name, spec);
    try {
      model.loadStateDict(contents.groups.model ?? new Map());
    } catch (error) {
      model.dispose();
      throw new Error(`${checkpoint}: ${(error as Error).message}`);
    }
    return { model, spec, config: config as Record<string, unknown> | undefined, audioStats: contents.scalars.audioStats };
  } finally {
    disposeContents(contents);
  }
}

/** An avid checkpoint, or a PyTorch one of the reference (.pth, .pt, .pth.tar) converted on the fly. */
function readContents(file: string): CheckpointContents {
  return isPyTorchCheckpointPath(file) ? importReferenceCheckpoint(file).contents : loadCheckpoint(file);
}
