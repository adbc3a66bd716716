// `avid export --onnx <run|checkpoint|random...> --out <dir>`: the encoders (and projection heads) as ONNX
// models for other runtimes, with an export.json that says how to prepare their inputs. The graphs are built
// by io/onnx-export.ts and written by io/onnx-writer.ts; the weights come through the one reader
// (train/run-artifact.ts), so every input any command accepts exports the same way.
import { mkdirSync, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import * as T from '../../tensor/index.js';
import { readRunArtifact, disposeArtifact, type RunArtifact, type RandomArchitecture } from '../../train/run-artifact.js';
import { clipGeometry, audioInputFor, type ClipGeometry } from '../../eval/clip-geometry.js';
import { spectrogramConfigFor } from '../../media/audio-input.js';
import { STD_FLOOR } from '../../media/spectrogram.js';
import { VIDEO_MEAN, VIDEO_STD } from '../../media/video-tensor.js';
import { encoderOnnxModel, ONNX_OPSET } from '../../io/onnx-export.js';
import { encodeOnnxModel } from '../../io/onnx-writer.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { parseFlags, seed as seedFlag, checkpointFlag, ARCHITECTURE_FLAGS, CHECKPOINT_HELP } from '../flags.js';

export const summary = 'export the video and audio encoders (with their heads) as ONNX models';

const usage = `usage: avid export --onnx <run|file|random|random:<run>> --out <dir> [--embedding-only]

Writes <dir>/video.onnx and <dir>/audio.onnx: each encoder with its projection head, in evaluation mode
(batch norm with its running statistics), the batch dimension dynamic. Outputs: 'embedding' (N, D), unit
norm as avid's embeddings, and 'features' (N, C), the encoder's pooled features (left out with
--embedding-only). A bare encoder (a plain state dict of one) exports only its own modality, whose one
output is 'features'. <dir>/export.json records the input shapes, the video normalisation (ImageNet
mean/std on [0, 1] pixels), the audio front end (log spectrogram settings) and its per-bin statistics, and
the opset (${ONNX_OPSET}). See docs/onnx.md.

  --onnx RUN|FILE|random|random:<RUN|FILE|CONFIG>
                             what to export (as --checkpoint of the other commands; 'random' takes its
                             architecture from --model/--width/--frames/--size)
  --out DIR                  the folder to write (created if missing)
  --embedding-only           only the embedding output
  --seed N                   seed of a random network (default 0)`;

/** What export.json says about one exported model. */
export interface ExportedModel {
  file: string;
  input: { name: string; shape: (number | string)[] };
  outputs: { name: string; shape: (number | string)[]; meaning: string }[];
}

/** export.json: how to feed the exported models. */
export interface ExportManifest {
  format: 'avid-onnx-export';
  version: 1;
  opset: number;
  source: { input: string; kind: string; checkpoint: string | null; seed: number | null };
  model: RunArtifact['config']['model'];
  video?: ExportedModel & {
    layout: 'NCTHW';
    frames: number;
    fps: number;
    size: number;
    /** RGB in [0, 1] (bytes / 255), then (x − mean[c]) / std[c]. */
    normalisation: { mean: number[]; std: number[] };
  };
  audio?: ExportedModel & {
    layout: 'N1TF';
    sampleRate: number;
    seconds: number;
    samples: number;
    /** The log spectrogram avid computes (media/audio-input.ts), before normalisation. */
    spectrogram: ReturnType<typeof spectrogramConfigFor>;
    /** Per bin: (x − mean[f]) / (std[f] + stdFloor); null when the checkpoint has no statistics (none applied). */
    normalisation: { mean: number[]; std: number[]; stdFloor: number } | null;
  };
}

export interface ExportOptions {
  /** Also output the pooled encoder features (default true). */
  features?: boolean;
}

/** The (1, 1, frames, bins) shape of one audio clip's network input in this geometry. */
function audioInputShape(g: ClipGeometry): number[] {
  const samples = Math.round(g.audioSeconds * g.sampleRate);
  return T.tidy(() => audioInputFor({ ...g, audioStats: null }, T.zeros([1, samples])).shape);
}

/**
 * Writes video.onnx and/or audio.onnx and export.json into `outDir` for the artifact's network (it stays
 * the caller's to dispose). Returns the manifest written.
 */
export function exportOnnx(artifact: RunArtifact, outDir: string, o: ExportOptions = {}): ExportManifest {
  if (existsSync(outDir) && !statSync(outDir).isDirectory()) throw new Error(`--out ${outDir}: exists and is not a directory`);
  const features = o.features ?? true;
  const geometry = clipGeometry(artifact.config, artifact.audioStats);
  const net = artifact.net;
  net.model.eval();
  const manifest: ExportManifest = {
    format: 'avid-onnx-export',
    version: 1,
    opset: ONNX_OPSET,
    source: { input: artifact.input, kind: artifact.kind, checkpoint: artifact.checkpoint, seed: artifact.seed },
    model: artifact.config.model,
  };
  const models: [string, Uint8Array][] = [];
  const outputsOf = (m: ReturnType<typeof encoderOnnxModel>) => m.outputs.map((x) => ({ name: x.name, shape: x.shape, meaning: x.docString ?? '' }));
  const metadata = { source: artifact.input, checkpoint: artifact.checkpoint ?? `random (seed ${artifact.seed})` };

  const video = net.network === 'av' ? net.model.video_model : net.network === 'video' ? net.model : null;
  if (video) {
    const shape = [1, 3, geometry.frames, geometry.size, geometry.size];
    const graph = encoderOnnxModel(video, net.network === 'av' ? 'video_model' : '', {
      input: { name: 'video', shape },
      head: net.network === 'av' ? { module: net.model.video_proj, path: 'video_proj' } : undefined,
      features,
      graphName: 'avid_video_encoder',
      docString: `avid video encoder (R(2+1)D) of ${artifact.input}`,
      metadata,
    });
    models.push(['video.onnx', encodeOnnxModel(graph)]);
    manifest.video = {
      file: 'video.onnx',
      input: graph.inputs[0],
      outputs: outputsOf(graph),
      layout: 'NCTHW',
      frames: geometry.frames,
      fps: geometry.fps,
      size: geometry.size,
      normalisation: { mean: [...VIDEO_MEAN], std: [...VIDEO_STD] },
    };
  }
  const audio = net.network === 'av' ? net.model.audio_model : net.network === 'audio' ? net.model : null;
  if (audio) {
    const graph = encoderOnnxModel(audio, net.network === 'av' ? 'audio_model' : '', {
      input: { name: 'audio', shape: audioInputShape(geometry) },
      head: net.network === 'av' ? { module: net.model.audio_proj, path: 'audio_proj' } : undefined,
      features,
      graphName: 'avid_audio_encoder',
      docString: `avid audio encoder (2-D conv net on log spectrograms) of ${artifact.input}`,
      metadata,
    });
    models.push(['audio.onnx', encodeOnnxModel(graph)]);
    const stats = geometry.audioStats;
    manifest.audio = {
      file: 'audio.onnx',
      input: graph.inputs[0],
      outputs: outputsOf(graph),
      layout: 'N1TF',
      sampleRate: geometry.sampleRate,
      seconds: geometry.audioSeconds,
      samples: Math.round(geometry.audioSeconds * geometry.sampleRate),
      spectrogram: spectrogramConfigFor(geometry),
      normalisation: stats ? { mean: stats.mean, std: stats.std, stdFloor: STD_FLOOR } : null,
    };
  }
  mkdirSync(outDir, { recursive: true });
  for (const [file, bytes] of models) writeFileAtomic(path.join(outDir, file), bytes);
  writeFileAtomic(path.join(outDir, 'export.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, {
    onnx: { type: 'string' },
    out: { type: 'string' },
    'embedding-only': { type: 'boolean', default: false },
    seed: { type: 'string', default: '0' },
    ...ARCHITECTURE_FLAGS,
    help: { type: 'boolean', default: false },
  });
  if (values.help || !values.onnx || !values.out) {
    console.log(usage);
    return values.help ? 0 : 2;
  }
  const { input, random } = checkpointFlag({ ...values, checkpoint: values.onnx }, { defaultModel: 'av-r2plus1d-10' });
  const artifact = readRunArtifact(input, { seed: seedFlag(values.seed), random: random as RandomArchitecture });
  try {
    const manifest = exportOnnx(artifact, values.out, { features: !values['embedding-only'] });
    for (const m of [manifest.video, manifest.audio]) {
      if (!m) continue;
      console.log(`${path.join(values.out, m.file)}: input ${m.input.name} (${m.input.shape.join(', ')}) → ${m.outputs.map((x) => `${x.name} (${x.shape.join(', ')})`).join(', ')}`);
    }
    console.log(`${path.join(values.out, 'export.json')}: input shapes, normalisation, audio front end, opset ${manifest.opset}`);
  } finally {
    disposeArtifact(artifact);
  }
  return 0;
}
