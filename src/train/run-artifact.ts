// The one reader of what training writes. Every command and the library turn `--checkpoint` into a typed
// config, a model with its weights, the run's spectrogram statistics and (on request) the objective's state
// through here, so that a run directory, a checkpoint inside it, a checkpoint copied elsewhere, a plain state
// dict and a random baseline all mean the same thing everywhere:
//
//   <run dir>                   the run's checkpoints/last.safetensors, config and statistics
//   <file>.safetensors          an avid checkpoint (groups model., optimizer., objective., the config and the
//                               statistics in its metadata), or a plain state dict (the architecture is read
//                               from its keys and shapes, the clip geometry is the schema's defaults)
//   <file>.pth|.pt|.pth.tar     a PyTorch checkpoint of the reference, read without running anything and
//                               converted as `avid import` does (its clip settings, audio.frontend: reference)
//   random                      a seeded random initialisation; the only input whose architecture comes
//                               from options (the command line's --model, --width, --frames, --size)
//   random:<run|file|config>    a seeded random initialisation of that run's (checkpoint's, config file's)
//                               architecture, clip geometry and statistics: the baseline of that run
//
// A checkpoint inside a run's checkpoints/ folder counts as that run (runDir is set), so evaluations of it
// land in the run's results/.
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import * as T from '../tensor/index.js';
import { loadCheckpoint, disposeContents, type CheckpointContents } from '../io/checkpoint.js';
import { isPyTorchCheckpointPath } from '../io/pytorch-checkpoint.js';
import { importReferenceCheckpoint } from '../io/reference-checkpoint.js';
import { PretrainConfig } from '../config/schema.js';
import { loadConfig, parseConfig, describeZodError, ConfigError } from '../config/load.js';
import { createModel, type ModelName, MODEL_NAMES } from '../models/registry.js';
import { inferArchitecture, type Architecture } from '../models/infer-architecture.js';
import type { AVModel } from '../models/av-model.js';
import type { AudioConv2d } from '../models/audio-conv2d.js';
import type { R2Plus1D } from '../models/r2plus1d.js';
import type { ObjectiveState } from '../ssl/objective.js';
import { loadStats, type SpectrogramStats } from '../media/spectrogram.js';

/** What the input named. */
export type ArtifactKind = 'run' | 'checkpoint' | 'state-dict' | 'random';

/** A whole audio-visual model, or a bare encoder (a plain state dict of one, or a random one). */
export type ArtifactNetwork = { network: 'av'; model: AVModel } | { network: 'audio'; model: AudioConv2d } | { network: 'video'; model: R2Plus1D };

/** The architecture of a `random` network (the only input that takes it from options). */
export interface RandomArchitecture {
  /** An av-* model (default av-r2plus1d-10), or a bare encoder: audio-conv2d, r2plus1d-10/18/34. */
  model?: string;
  width?: number;
  frames?: number;
  size?: number;
}

export interface ReadArtifactOptions {
  /** Seed of a random initialisation (`random`, `random:<...>`); default 0. */
  seed?: number;
  /** Architecture of `random`; an error for any other input (it brings its own). */
  random?: RandomArchitecture;
  /** Keep the objective's state (memory banks, Z, positive sets); default false (freed on read). */
  objective?: boolean;
  /** Build the model (default true); false reads only the config, statistics and objective state. */
  withModel?: boolean;
}

export interface RunArtifact<M extends ArtifactNetwork | null = ArtifactNetwork> {
  /** The input as given. */
  input: string;
  kind: ArtifactKind;
  /**
   * The run's config. For a plain state dict or `random` it is the schema's defaults with the architecture
   * filled in, and `data.source` is NO_DATA_SOURCE: nothing says what such a network was trained on.
   */
  config: PretrainConfig;
  /** The network and its weights (random ones for `random`), or null with withModel: false. */
  net: M;
  /** The run's per-bin spectrogram statistics (evaluation normalises its audio alike), when it has them. */
  audioStats: SpectrogramStats | null;
  /** The objective's tensors and scalars, with `objective: true` and a checkpoint that has them; caller disposes. */
  objectiveState: ObjectiveState | null;
  /** The run directory the input belongs to (a run, or a checkpoint in its checkpoints/), else null. */
  runDir: string | null;
  /** The checkpoint file the weights came from (null for `random`). */
  checkpoint: string | null;
  /** The seed of a random initialisation (null when the weights were read). */
  seed: number | null;
}

/** `config.data.source` of a network whose training data nothing records. */
export const NO_DATA_SOURCE = '(unknown)';
export const RUN_CHECKPOINT = path.join('checkpoints', 'last.safetensors');

/** The run directory a checkpoint file belongs to: <run>/checkpoints/<file> with <run>/config.json. */
export function runDirOfCheckpoint(file: string): string | null {
  const dir = path.dirname(path.resolve(file));
  if (path.basename(dir) !== 'checkpoints') return null;
  const run = path.dirname(dir);
  return existsSync(path.join(run, 'config.json')) ? run : null;
}

export function isRunDir(dir: string): boolean {
  return existsSync(dir) && statSync(dir).isDirectory() && existsSync(path.join(dir, 'config.json'));
}

/**
 * The contents of a checkpoint file: an avid checkpoint or state dict (safetensors), or a PyTorch checkpoint
 * of the reference (.pth, .pt, .pth.tar) converted on the fly as `avid import` converts it (its model, memory
 * banks and a config with the reference's clip settings and `audio.frontend: reference`). The caller owns
 * the tensors (disposeContents). Every command's --checkpoint and pretraining's `init` read files here.
 */
export function readCheckpointContents(file: string): CheckpointContents {
  if (!existsSync(file)) throw new Error(`${file}: no such file or run directory (or pass 'random')`);
  if (statSync(file).isDirectory()) throw new Error(`${file}: a directory without config.json is not a run directory`);
  if (isPyTorchCheckpointPath(file)) return importReferenceCheckpoint(file).contents;
  try {
    return loadCheckpoint(file);
  } catch (error) {
    throw new Error(`${file}: not a readable safetensors checkpoint or state dict (${(error as Error).message})`);
  }
}

/**
 * The stored config, validated by today's schema; the error names the file and the key. A config without a
 * `data` section (an imported reference checkpoint: nothing records what it was trained on) gets
 * NO_DATA_SOURCE, as a plain state dict does.
 */
function storedConfig(raw: unknown, source: string): PretrainConfig {
  if (raw !== null && typeof raw === 'object' && !('data' in raw)) {
    const parsed = PretrainConfig.safeParse({ ...raw, data: { source: NO_DATA_SOURCE } });
    if (!parsed.success) throw new Error(`${source}: its stored config does not fit the config schema:\n${describeZodError(parsed.error, source)}`);
    return parsed.data;
  }
  try {
    return parseConfig(raw, source);
  } catch (error) {
    if (error instanceof ConfigError) throw new Error(`${source}: its stored config does not fit the config schema:\n${error.message}`);
    throw error;
  }
}

/** The schema's defaults with an architecture (and, for `random`, the clip size) filled in. */
function defaultConfig(arch: Architecture | null, random: RandomArchitecture = {}): PretrainConfig {
  const model =
    arch?.network === 'av'
      ? { name: `av-r2plus1d-${arch.depth}`, width: arch.width, ...(arch.audioWidth !== arch.width ? { audioWidth: arch.audioWidth } : {}), embeddingDim: arch.embeddingDim }
      : arch?.network === 'video'
        ? { name: `av-r2plus1d-${arch.depth}`, width: arch.width }
        : arch?.network === 'audio'
          ? { width: arch.width }
          : {};
  const video = { ...(random.frames !== undefined ? { frames: random.frames } : {}), ...(random.size !== undefined ? { size: random.size } : {}) };
  const parsed = PretrainConfig.safeParse({ data: { source: NO_DATA_SOURCE }, model, video });
  if (!parsed.success) throw new Error(describeZodError(parsed.error, 'the architecture options'));
  return parsed.data;
}

/** The architecture of `random`'s options. */
function randomArchitecture(random: RandomArchitecture): Architecture {
  const name = (random.model ?? 'av-r2plus1d-10') as ModelName;
  if (!MODEL_NAMES.includes(name)) throw new Error(`model must be one of ${MODEL_NAMES.join(', ')}; got '${random.model}'`);
  const width = random.width ?? 1;
  if (!(width > 0)) throw new Error(`width must be a positive number; got ${random.width}`);
  if (name === 'audio-conv2d') return { network: 'audio', width };
  const depth = Number(name.replace(/^(av-)?r2plus1d-/, '')) as 10 | 18 | 34;
  return name.startsWith('av-') ? { network: 'av', depth, width, audioWidth: width, embeddingDim: 128 } : { network: 'video', depth, width };
}

/** The architecture a config describes (always a whole audio-visual model). */
function architectureOf(config: PretrainConfig): Architecture {
  const m = config.model;
  return { network: 'av', depth: Number(m.name.replace('av-r2plus1d-', '')) as 10 | 18 | 34, width: m.width, audioWidth: m.audioWidth ?? m.width, embeddingDim: m.embeddingDim };
}

function buildNetwork(arch: Architecture): ArtifactNetwork {
  if (arch.network === 'av') return { network: 'av', model: createModel(`av-r2plus1d-${arch.depth}`, { width: arch.width, audioWidth: arch.audioWidth, embeddingDim: arch.embeddingDim }) };
  if (arch.network === 'audio') return { network: 'audio', model: createModel('audio-conv2d', { width: arch.width }) };
  return { network: 'video', model: createModel(`r2plus1d-${arch.depth}`, { width: arch.width }) };
}

/** A bare encoder's keys without the `audio_model.` / `video_model.` prefix they carry inside an AV model. */
function ownKeys(state: Map<string, T.Tensor>, arch: Architecture): Map<string, T.Tensor> {
  if (arch.network === 'av') return state;
  const prefix = `${arch.network}_model.`;
  if (![...state.keys()].some((k) => k.startsWith(prefix))) return state;
  return new Map([...state].filter(([k]) => k.startsWith(prefix)).map(([k, t]) => [k.slice(prefix.length), t]));
}

function loadWeights(net: ArtifactNetwork, state: Map<string, T.Tensor>, arch: Architecture, source: string): void {
  try {
    net.model.loadStateDict(ownKeys(state, arch), { strict: true });
  } catch (error) {
    net.model.dispose();
    throw new Error(`${source}: ${(error as Error).message}`);
  }
}

/** What an input resolves to before any tensor is read: the checkpoint file, run directory and config. */
interface Located {
  kind: ArtifactKind;
  checkpoint: string | null;
  runDir: string | null;
  /** A config read from a run directory or config file (a checkpoint's own config is read with its tensors). */
  config: PretrainConfig | null;
  audioStats: SpectrogramStats | null;
}

function runConfig(runDir: string): PretrainConfig {
  const file = path.join(runDir, 'config.json');
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`${file}: not valid JSON (${(error as Error).message})`);
  }
  return storedConfig(raw, file);
}

function runStats(runDir: string): SpectrogramStats | null {
  const file = path.join(runDir, 'audio-stats.json');
  return existsSync(file) ? loadStats(file) : null;
}

function locate(input: string): Located {
  if (isRunDir(input)) {
    const runDir = path.resolve(input);
    const checkpoint = path.join(runDir, RUN_CHECKPOINT);
    return { kind: 'run', checkpoint: existsSync(checkpoint) ? checkpoint : null, runDir, config: runConfig(runDir), audioStats: runStats(runDir) };
  }
  if (/\.(ya?ml)$/i.test(input) || (input.endsWith('.json') && existsSync(input))) {
    // A config file: only an architecture, so only as `random:<config>`.
    const config = input.endsWith('.json') ? storedConfig(JSON.parse(readFileSync(input, 'utf8')), input) : loadConfig(input);
    return { kind: 'random', checkpoint: null, runDir: null, config, audioStats: null };
  }
  return { kind: 'checkpoint', checkpoint: path.resolve(input), runDir: runDirOfCheckpoint(input), config: null, audioStats: null };
}

/**
 * Reads a run directory, a checkpoint, a plain state dict, `random` or `random:<run|file|config>` (see the
 * file comment). The caller owns the model and the objective state: dispose them with disposeArtifact.
 */
export function readRunArtifact(input: string, o?: ReadArtifactOptions & { withModel?: true }): RunArtifact<ArtifactNetwork>;
export function readRunArtifact(input: string, o: ReadArtifactOptions & { withModel: false }): RunArtifact<null>;
export function readRunArtifact(input: string, o: ReadArtifactOptions = {}): RunArtifact<ArtifactNetwork | null> {
  const seed = o.seed ?? 0;
  const withModel = o.withModel ?? true;
  if (input === 'random') {
    const arch = randomArchitecture(o.random ?? {});
    T.manualSeed(seed);
    const config = defaultConfig(arch, o.random);
    return { input, kind: 'random', config, net: withModel ? buildNetwork(arch) : null, audioStats: null, objectiveState: null, runDir: null, checkpoint: null, seed };
  }
  if (o.random && Object.values(o.random).some((v) => v !== undefined)) {
    throw new Error(`${input}: the architecture options (model, width, frames, size) are only for 'random'; a run or checkpoint brings its own architecture and clip geometry`);
  }
  if (input.startsWith('random:')) {
    const like = input.slice('random:'.length);
    if (!like) throw new Error(`'random:' needs a run directory, checkpoint or config file after the colon`);
    const located = locate(like);
    // A config file or a run that has not saved a checkpoint yet: the config is the architecture.
    const { artifact: base, arch } = located.checkpoint ? readCheckpoint(like, located, { withModel: false }) : { artifact: null, arch: architectureOf(located.config!) };
    T.manualSeed(seed);
    const net = withModel ? buildNetwork(arch) : null;
    const config = base?.config ?? located.config!;
    return { input, kind: 'random', config, net, audioStats: base?.audioStats ?? located.audioStats, objectiveState: null, runDir: located.runDir, checkpoint: null, seed };
  }
  const located = locate(input);
  if (located.kind === 'random') throw new Error(`${input} is a config file, not weights: use 'random:${input}' for a random network of its architecture`);
  if (!located.checkpoint) throw new Error(`${input}: the run has no ${RUN_CHECKPOINT} (training has not saved a checkpoint yet)`);
  return readCheckpoint(input, located, { withModel, objective: o.objective }).artifact;
}

/** Reads the located checkpoint file: its weights, config (or the run's, or defaults) and statistics. */
function readCheckpoint(input: string, located: Located, o: { withModel: boolean; objective?: boolean }): { artifact: RunArtifact<ArtifactNetwork | null>; arch: Architecture } {
  const file = located.checkpoint!;
  const contents = readCheckpointContents(file);
  try {
    const model = contents.groups.model;
    if (!model || model.size === 0) throw new Error(`${file}: holds no model weights (no model.* tensors)`);
    const stored = contents.scalars.config;
    const config = stored !== undefined ? storedConfig(stored, file) : located.config;
    const held = inferArchitecture(model, file);
    // A whole AV model is built as its config says (the strict load then checks the weights agree); an
    // encoder stored alone (audio_model.* only, a bare encoder) is built as its weights say.
    const arch = config && held.network === 'av' ? architectureOf(config) : held;
    const net = o.withModel ? buildNetwork(arch) : null;
    if (net) loadWeights(net, model, arch, file);
    let objectiveState: ObjectiveState | null = null;
    if (o.objective && contents.groups.objective) {
      objectiveState = { tensors: contents.groups.objective, scalars: (contents.scalars.objective as Record<string, unknown> | undefined) ?? {} };
      delete contents.groups.objective;
    }
    const isCheckpoint = Object.keys(contents.scalars).length > 0 || Object.keys(contents.groups).some((g) => g !== 'model');
    const kind: ArtifactKind = located.kind === 'run' ? 'run' : isCheckpoint ? 'checkpoint' : 'state-dict';
    const audioStats = (contents.scalars.audioStats as SpectrogramStats | undefined) ?? located.audioStats;
    const artifact = { input, kind, config: config ?? defaultConfig(arch), net, audioStats, objectiveState, runDir: located.runDir, checkpoint: file, seed: null };
    return { artifact, arch };
  } finally {
    disposeContents(contents);
  }
}

/** Frees the model and the objective state. */
export function disposeArtifact(artifact: RunArtifact<ArtifactNetwork | null>): void {
  artifact.net?.model.dispose();
  artifact.objectiveState?.tensors.forEach((t) => t.dispose());
}

/** The whole audio-visual model, or an error naming the input and what `what` needs. */
export function avModelOf(artifact: RunArtifact, what: string): AVModel {
  if (artifact.net.network !== 'av') throw new Error(`${what} needs an audio-visual model; ${artifact.input} holds a bare ${artifact.net.network} encoder`);
  return artifact.net.model;
}

/**
 * One encoder of the artifact (the branch of an AV model, or a bare encoder of that modality); the other
 * encoder and the projection heads of an AV model are freed, so the artifact's model is spent.
 */
export function takeEncoder(artifact: RunArtifact, modality: 'audio'): AudioConv2d;
export function takeEncoder(artifact: RunArtifact, modality: 'video'): R2Plus1D;
export function takeEncoder(artifact: RunArtifact, modality: 'audio' | 'video'): AudioConv2d | R2Plus1D {
  const net = artifact.net;
  if (net.network === 'av') {
    const branch = `${modality}_model.`;
    for (const [key, t] of net.model.stateDict()) if (!key.startsWith(branch)) t.dispose();
    return modality === 'audio' ? net.model.audio_model : net.model.video_model;
  }
  if (net.network !== modality) {
    net.model.dispose();
    throw new Error(`${artifact.input} holds a bare ${net.network} encoder, not a ${modality} one`);
  }
  return net.model;
}

/** What identifies the weights (for feature caches and results): the file and its version, or the seed. */
export function artifactIdentity(artifact: RunArtifact<ArtifactNetwork | null>): Record<string, unknown> {
  if (artifact.checkpoint === null) return { input: artifact.input, model: artifact.config.model, weights: 'random', seed: artifact.seed };
  const stat = statSync(artifact.checkpoint);
  return { checkpoint: artifact.checkpoint, size: stat.size, mtimeMs: stat.mtimeMs, network: artifact.net?.network ?? null };
}


/** The memory banks (objective.memory.video / .audio) of an AVID or CMA run or checkpoint; caller disposes. */
export function readMemoryBanks(input: string): { video: T.Tensor; audio: T.Tensor } {
  const artifact = readRunArtifact(input, { withModel: false, objective: true });
  const tensors = artifact.objectiveState?.tensors ?? new Map<string, T.Tensor>();
  const video = tensors.get('memory.video');
  const audio = tensors.get('memory.audio');
  tensors.delete('memory.video');
  tensors.delete('memory.audio');
  disposeArtifact(artifact);
  if (!video || !audio) {
    video?.dispose();
    audio?.dispose();
    throw new Error(`${artifact.checkpoint ?? input}: holds no memory banks (objective.memory.video/.audio): not an AVID or CMA checkpoint`);
  }
  return { video, audio };
}

/**
 * The run an input belongs to, without reading any weights: a run directory, or a checkpoint in a run's
 * checkpoints/; null for any other file, 'random' and 'random:<...>' (a baseline is not that run's result).
 */
export function runDirOf(input: string): string | null {
  if (input === 'random' || input.startsWith('random:') || input.startsWith('oracle')) return null;
  if (isRunDir(input)) return path.resolve(input);
  return existsSync(input) ? runDirOfCheckpoint(input) : null;
}
