// `avid.load(runOrCheckpoint)`: what the tool writes, as a model a script can use. The run's audio-visual
// model in evaluation mode with its preprocessing (the clip geometry and spectrogram statistics it was
// trained with), and `embedFile` to turn a media file into unit-norm video and audio embeddings.
import { evaluationCropBox } from '../media/video-transforms.js';
import * as T from '../tensor/index.js';
import type { AVModel } from '../models/av-model.js';
import type { PretrainConfig } from '../config/schema.js';
import { readRunArtifact, avModelOf, disposeArtifact, type ReadArtifactOptions, type RunArtifact } from '../train/run-artifact.js';
import { probeMedia } from '../media/probe.js';
import { decodeVideoClip, decodeAudio } from '../media/decode.js';
import { clipsToNetworkInput } from '../media/video-tensor.js';
import { uniformClipStarts } from '../media/clip-sampling.js';
import { clipGeometry, audioInputFor, type ClipGeometry } from './clip-geometry.js';

export interface EmbedFileOptions {
  /** Start of the first clip, seconds; then `clips` consecutive clips. Default: clips spread uniformly over the file. */
  start?: number;
  /** How many clips (default 1). */
  clips?: number;
}

export interface FileEmbeddings {
  /** (clips, D) unit-norm video embeddings, row-major. */
  video: Float32Array;
  /** (clips, D) unit-norm audio embeddings, row-major. */
  audio: Float32Array;
  meta: { file: string; clips: number; dim: number; starts: number[]; clipSeconds: number; durationSec: number };
}

export interface LoadedAVModel {
  readonly config: PretrainConfig;
  /** The clips the model was trained on: frames, size, audio window, spectrogram and its statistics. */
  readonly geometry: ClipGeometry;
  readonly model: AVModel;
  readonly runDir: string | null;
  readonly checkpoint: string | null;
  embedFile(file: string, o?: EmbedFileOptions): Promise<FileEmbeddings>;
  /** Frees the model's tensors. */
  dispose(): void;
}

/**
 * Loads a run directory, a checkpoint, a plain state dict of an audio-visual model, or 'random' /
 * 'random:<run>' (see train/run-artifact.ts), ready for embedding.
 */
export function load(input: string, o: Pick<ReadArtifactOptions, 'seed' | 'random'> = {}): LoadedAVModel {
  const artifact: RunArtifact = readRunArtifact(input, o);
  let model: AVModel;
  try {
    model = avModelOf(artifact, 'avid.load');
  } catch (error) {
    disposeArtifact(artifact);
    throw error;
  }
  model.eval();
  const geometry = clipGeometry(artifact.config, artifact.audioStats);
  return {
    config: artifact.config,
    geometry,
    model,
    runDir: artifact.runDir,
    checkpoint: artifact.checkpoint,
    embedFile: (file, options) => embedFile(model, geometry, file, options),
    dispose: () => disposeArtifact(artifact),
  };
}

async function embedFile(model: AVModel, g: ClipGeometry, file: string, o: EmbedFileOptions = {}): Promise<FileEmbeddings> {
  const count = o.clips ?? 1;
  if (!Number.isInteger(count) || count < 1) throw new Error(`embedFile ${file}: clips must be a positive integer, got ${o.clips}`);
  const info = await probeMedia(file, { verifyEnd: false });
  if (!info.video) throw new Error(`${file}: no video stream`);
  if (!info.audio) throw new Error(`${file}: no audio stream`);
  // A clip spans the longer of its video frames and its audio window, both starting together (as in training).
  const clipSeconds = Math.max(g.frames / g.fps, g.audioSeconds);
  if (o.start !== undefined && !(o.start >= 0)) throw new Error(`embedFile ${file}: start must be ≥ 0 seconds, got ${o.start}`);
  const starts = o.start === undefined ? uniformClipStarts(info.durationSec, clipSeconds, count) : Array.from({ length: count }, (_, k) => o.start! + k * clipSeconds);
  const last = starts[starts.length - 1] + clipSeconds;
  if (last > info.durationSec + 1e-3) throw new Error(`${file}: ${count} clip(s) from ${starts[0].toFixed(2)} s need ${last.toFixed(2)} s, the file has ${info.durationSec.toFixed(2)} s`);
  const decoded = await Promise.all(
    starts.map(async (startSec) => {
      const [clip, audio] = await Promise.all([
        decodeVideoClip(file, { startSec, numFrames: g.frames, fps: g.fps, outWidth: g.size, outHeight: g.size, crop: evaluationCropBox(info.video!.width, info.video!.height, g.size, g.size) }),
        decodeAudio(file, { startSec, durationSec: g.audioSeconds, sampleRate: g.sampleRate }),
      ]);
      return { pixels: clip.pixels, samples: audio.samples };
    }),
  );
  const length = Math.round(g.audioSeconds * g.sampleRate);
  const waveforms = new Float32Array(count * length);
  decoded.forEach((d, i) => waveforms.set(d.samples.subarray(0, length), i * length));
  const { video, audio } = T.tidy(() =>
    T.noGrad(() => {
      const v = model.embedVideo(clipsToNetworkInput(decoded.map((d) => d.pixels), g.frames, g.size, g.size, null));
      const a = model.embedAudio(audioInputFor(g, T.tensor(waveforms, [count, length])));
      return { video: v.toFloat32Array(), audio: a.toFloat32Array() };
    }),
  );
  const dim = video.length / count;
  return { video, audio, meta: { file, clips: count, dim, starts, clipSeconds, durationSec: info.durationSec } };
}
