// The AVID-CMA reference's checkpoints, mapped onto avid's checkpoint contents (checkpoint.ts).
//
// The reference saves {epoch, model, optimizer, train_criterion} (its main-avid.py), where `model` is the
// state dict of AV_Wrapper under DistributedDataParallel (keys `module.video_model.…`, `module.audio_model.…`,
// `module.video_proj.projection.{0,2,4}.…`, `module.audio_proj.…`) and `train_criterion` that of its AVID or
// AVID_CMA criterion: the memory banks `nce_average.view1_mem` (video) and `nce_average.view2_mem` (audio),
// CMA's mined positives `nce_average.positive_set` (int32, N × pos_k), and the NCE constant
// `criterion.avg_exp_score` (Z itself, −1 until set; one Z shared by every NCE term). A bare state dict, with
// or without the `module.` prefix, is read too.
//
// avid keeps the same parameter names (spec/state-dict-*.tsv), so the model maps by dropping `module.`; the
// banks go where AvidObjective.state() keeps them (`objective.memory.video` / `.audio`, CmaObjective's
// `objective.cma.positives` as int64) and Z becomes log Z for each of avid's NCE normalisers. The model
// config is inferred from the tensor shapes; the clip and spectrogram settings are the reference's
// pre-training ones (configs/main/avid*/…/*.yaml: 8 frames at 16 fps, 224 px; 2 s of 24 kHz audio, 100
// spectrogram frames per second, n_fft 512 → 257 bins), with `audio.frontend: reference`.
import * as T from '../tensor/index.js';
import type { CheckpointContents } from './checkpoint.js';
import { readPyTorchCheckpoint, type CheckpointTree, type PyTorchCheckpoint } from './pytorch-checkpoint.js';
import { TorchTensor } from './torch-tensor.js';

/** Blocks per stage of R(2+1)D by depth (as src/models/r2plus1d.ts R2PLUS1D_LAYERS; io sits below models). */
const VIDEO_DEPTHS: Record<string, number> = { '1,1,1,1': 10, '2,2,2,2': 18, '3,4,6,3': 34 };
const MODEL_PREFIXES = ['video_model.', 'audio_model.', 'video_proj.', 'audio_proj.'];

export interface ReferenceModelConfig {
  name: 'av-r2plus1d-10' | 'av-r2plus1d-18' | 'av-r2plus1d-34';
  width: number;
  audioWidth?: number;
  embeddingDim: number;
}

/** The reference's pre-training input settings (the same for its Kinetics and AudioSet configs). */
export const REFERENCE_INPUT = {
  video: { frames: 8, fps: 16, size: 224 },
  audio: { sampleRate: 24000, seconds: 2, hopSeconds: 0.01, windowSeconds: 1024 / 24000, freqBins: 257, frontend: 'reference' as const },
};

export interface ReferenceImport {
  contents: CheckpointContents;
  /** What was found, for the command's report. */
  summary: { format: string; modelTensors: number; prefix: string; epoch: number | null; memoryBanks: number[] | null; positives: number[] | null; z: number | null; ignored: string[] };
}

/**
 * Maps a read PyTorch checkpoint onto avid checkpoint contents (groups `model` and, when the file has memory
 * banks, `objective`; scalars `config`, `objective`, `objectiveName`, `epoch`, `imported`). The caller owns
 * the tensors (disposeContents).
 */
export function referenceToAvid(checkpoint: PyTorchCheckpoint, source: string): ReferenceImport {
  const root = checkpoint.root;
  const top = root instanceof Map ? root : null;
  const modelTree = top && top.get('model') instanceof Map ? top.get('model') : top && top.get('state_dict') instanceof Map ? top.get('state_dict') : root;
  if (!(modelTree instanceof Map)) throw new Error(`${source}: holds no state dict (expected {model: …} as the reference saves, or a state dict)`);
  const { state, prefix } = modelState(modelTree, source);
  const config = inferModelConfig(state, source);

  const ignored = top && top !== modelTree ? [...top.keys()].map(String).filter((k) => !['model', 'state_dict', 'epoch', 'train_criterion'].includes(k)) : [];
  const epochValue = top && top !== modelTree ? top.get('epoch') : undefined;
  const epoch = typeof epochValue === 'number' ? epochValue : null;

  const groups: CheckpointContents['groups'] = {};
  const scalars: Record<string, unknown> = {
    config: { model: config, ...REFERENCE_INPUT },
    imported: { from: source, format: checkpoint.format, epoch, modelPrefix: prefix || null },
  };
  if (epoch !== null) scalars.epoch = epoch;
  const summary: ReferenceImport['summary'] = { format: checkpoint.format, modelTensors: state.size, prefix, epoch, memoryBanks: null, positives: null, z: null, ignored };

  groups.model = new Map();
  try {
    for (const [name, t] of state) groups.model.set(name, t.toTensor());
    const criterion = top && top !== modelTree ? top.get('train_criterion') : undefined;
    if (criterion instanceof Map) {
      const objective = mapCriterion(criterion, config.embeddingDim, epoch, source);
      if (objective) {
        groups.objective = objective.tensors;
        scalars.objective = objective.scalars;
        scalars.objectiveName = objective.name;
        summary.memoryBanks = objective.bankShape;
        summary.positives = objective.positivesShape;
        summary.z = objective.z;
      }
    }
  } catch (error) {
    for (const g of Object.values(groups)) g.forEach((t) => t.dispose());
    throw error;
  }
  return { contents: { groups, scalars }, summary };
}

/** The model's tensors under avid's names: the `module.` of (Distributed)DataParallel dropped. */
function modelState(tree: Map<unknown, CheckpointTree>, source: string): { state: Map<string, TorchTensor>; prefix: string } {
  const keys = [...tree.keys()].map(String);
  const prefix = keys.length > 0 && keys.every((k) => k.startsWith('module.')) ? 'module.' : '';
  const state = new Map<string, TorchTensor>();
  const unknown: string[] = [];
  for (const [key, value] of tree) {
    const name = String(key).slice(prefix.length);
    if (!(value instanceof TorchTensor)) throw new Error(`${source}: state dict entry '${String(key)}' is not a tensor`);
    if (!MODEL_PREFIXES.some((p) => name.startsWith(p))) unknown.push(String(key));
    state.set(name, value);
  }
  if (unknown.length > 0) {
    throw new Error(`${source}: not an audio-visual model of the reference (AV_Wrapper): unexpected keys ${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ` and ${unknown.length - 5} more` : ''}`);
  }
  return { state, prefix };
}

/** The architecture, from the shapes: R(2+1)D depth from the blocks per stage, widths from conv1, heads' size. */
export function inferModelConfig(state: Map<string, TorchTensor>, source: string): ReferenceModelConfig {
  const shapeOf = (name: string): number[] => {
    const t = state.get(name);
    if (!t) throw new Error(`${source}: the state dict has no '${name}' (is it the reference's R(2+1)D + Conv2D model with projection heads?)`);
    return t.shape;
  };
  const blocks = [2, 3, 4, 5].map((stage) => {
    if (state.has(`video_model.conv${stage}x.spt_conv1.weight`)) return 1;
    let n = 0;
    while (state.has(`video_model.conv${stage}x.${n}.spt_conv1.weight`)) n++;
    return n;
  });
  const depth = VIDEO_DEPTHS[blocks.join()];
  if (!depth) throw new Error(`${source}: the video model has [${blocks}] blocks per stage, which is no R(2+1)D depth avid builds (10, 18, 34)`);
  const videoStem = shapeOf('video_model.conv1.0.weight');
  const audioStem = shapeOf('audio_model.conv1.0.weight');
  const head = shapeOf('video_proj.projection.4.weight');
  shapeOf('audio_proj.projection.4.weight');
  const width = videoStem[0] / 64;
  const audioWidth = audioStem[0] / 64;
  return {
    name: `av-r2plus1d-${depth}` as ReferenceModelConfig['name'],
    width,
    ...(audioWidth !== width ? { audioWidth } : {}),
    embeddingDim: head[0],
  };
}

interface MappedObjective {
  name: string;
  tensors: Map<string, T.Tensor>;
  scalars: Record<string, unknown>;
  bankShape: number[];
  positivesShape: number[] | null;
  z: number | null;
}

/** The criterion's buffers, found by their last name component (they may sit under a sub-module prefix). */
function mapCriterion(criterion: Map<unknown, CheckpointTree>, dim: number, epoch: number | null, source: string): MappedObjective | null {
  const byLeaf = (leaf: string): [string, TorchTensor][] =>
    [...criterion].filter(([k, v]) => (String(k) === leaf || String(k).endsWith(`.${leaf}`)) && v instanceof TorchTensor).map(([k, v]) => [String(k), v as TorchTensor]);
  const one = (leaf: string): [string, TorchTensor] | null => {
    const found = byLeaf(leaf);
    if (found.length > 1) throw new Error(`${source}: train_criterion has several '${leaf}' (${found.map(([k]) => k).join(', ')})`);
    return found[0] ?? null;
  };
  const video = one('view1_mem');
  const audio = one('view2_mem');
  if (!video && !audio) return null;
  if (!video || !audio) throw new Error(`${source}: train_criterion has ${video ? 'view1_mem' : 'view2_mem'} but not ${video ? 'view2_mem' : 'view1_mem'}`);
  for (const [key, t] of [video, audio]) {
    if (t.shape.length !== 2 || t.shape[1] !== dim) throw new Error(`${source}: train_criterion '${key}' is [${t.shape}], expected [N, ${dim}] (the heads' embedding size)`);
    if (t.dtype !== 'float32') throw new Error(`${source}: train_criterion '${key}' is ${t.dtype}, expected float32`);
  }
  if (video[1].shape[0] !== audio[1].shape[0]) throw new Error(`${source}: the memory banks have different sizes ([${video[1].shape}] and [${audio[1].shape}])`);
  const n = video[1].shape[0];

  // The reference restores Z as the mean of every avg_exp_score it finds; −1 means it was never set.
  const zs = byLeaf('avg_exp_score').map(([, t]) => t.item());
  const z = zs.length > 0 ? zs.reduce((a, b) => a + b, 0) / zs.length : null;
  const logZ = z !== null && z > 0 ? Math.log(z) : null;

  const tensors = new Map<string, T.Tensor>();
  try {
    tensors.set('memory.video', video[1].toTensor());
    tensors.set('memory.audio', audio[1].toTensor());
    const positives = one('positive_set');
    if (positives) {
      const [key, t] = positives;
      if (t.shape.length !== 2 || t.shape[0] !== n) throw new Error(`${source}: train_criterion '${key}' is [${t.shape}], expected [${n}, K]`);
      if (!['int32', 'int64'].includes(t.dtype)) throw new Error(`${source}: train_criterion '${key}' is ${t.dtype}, expected integer indices`);
      const indices = T.tidy(() => t.toTensor().to('int64'));
      tensors.set('cma.positives', indices);
      if (indices.numel > 0) {
        const [lo, hi] = T.tidy(() => [indices.min().item(), indices.max().item()]);
        if (lo < 0 || hi >= n) throw new Error(`${source}: train_criterion '${key}' holds indices outside 0..${n - 1} (${lo}..${hi})`);
      }
    }
    const hasPositives = tensors.has('cma.positives');
    return {
      name: hasPositives ? 'cma' : 'cross-avid',
      tensors,
      scalars: {
        logZ: { v2a: logZ, a2v: logZ, v2v: logZ, a2a: logZ },
        ...(hasPositives ? { wmpdLogZ: { video: logZ, audio: logZ }, minedAtEpoch: epoch } : {}),
      },
      bankShape: video[1].shape,
      positivesShape: hasPositives ? tensors.get('cma.positives')!.shape : null,
      z,
    };
  } catch (error) {
    tensors.forEach((t) => t.dispose());
    throw error;
  }
}

/** Reads a PyTorch checkpoint file of the reference (either serialisation) as avid checkpoint contents. */
export function importReferenceCheckpoint(file: string): ReferenceImport {
  return referenceToAvid(readPyTorchCheckpoint(file), file);
}
