// ONNX export: the written models, run by onnxruntime-node, compute what avid computes (embeddings and pooled
// features, batch 1 and 3, dynamic batch), and odd inputs give errors that say what is wrong.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import * as T from '../../src/tensor/index.js';
import { Identity, type Layer } from '../../src/nn/index.js';
import { AVModel, AudioConv2d, R2Plus1D, hashFillStateDict } from '../../src/models/index.js';
import { readRunArtifact, disposeArtifact } from '../../src/train/run-artifact.js';
import { saveSafetensors } from '../../src/io/safetensors.js';
import { encodeOnnxModel } from '../../src/io/onnx-writer.js';
import { encoderOnnxModel } from '../../src/io/onnx-export.js';
import { exportOnnx, run as exportCommand, type ExportManifest } from '../../src/cli/commands/export.js';

const SMALL = { model: 'av-r2plus1d-10', width: 0.125, frames: 4, size: 32 };

function tempDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'avid-onnx-'));
}

/** Per row: ‖onnx − avid‖₂ / ‖avid‖₂. */
function rowRelativeErrors(onnx: Float32Array, avid: Float32Array, rows: number): number[] {
  assert.equal(onnx.length, avid.length);
  const d = avid.length / rows;
  return Array.from({ length: rows }, (_, r) => {
    let diff = 0;
    let norm = 0;
    for (let i = r * d; i < (r + 1) * d; i++) {
      diff += (onnx[i] - avid[i]) ** 2;
      norm += avid[i] ** 2;
    }
    assert.ok(norm > 0, `row ${r} of avid's output is all zeros: the comparison would prove nothing`);
    return Math.sqrt(diff / norm);
  });
}

/** Deterministic, non-constant input (different per batch row). */
function input(shape: number[], seed: number): T.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return T.tensor(Float32Array.from({ length: n }, (_, i) => Math.sin(0.37 * i + seed) + 0.3 * Math.cos(0.011 * i * (seed + 1))), shape);
}

async function runOnnx(file: string, name: string, x: T.Tensor): Promise<Record<string, { dims: readonly number[]; data: Float32Array }>> {
  const session = await ort.InferenceSession.create(file);
  try {
    const out = await session.run({ [name]: new ort.Tensor('float32', Float32Array.from(x.toFloat32Array()), x.shape) });
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, { dims: v.dims, data: v.data as Float32Array }]));
  } finally {
    await session.release();
  }
}

/** A saved state dict of a small AV model whose every weight and batch-norm statistic is non-trivial. */
function writeHashFilledStateDict(file: string): void {
  const artifact = readRunArtifact('random', { random: SMALL });
  try {
    hashFillStateDict(artifact.net.model.stateDict());
    saveSafetensors(file, artifact.net.model.stateDict());
  } finally {
    disposeArtifact(artifact);
  }
}

test('exported video and audio models match avid within 1e-4 relative error at batch 1 and 3', async () => {
  const dir = tempDir();
  try {
    const weights = path.join(dir, 'weights.safetensors');
    writeHashFilledStateDict(weights);
    const out = path.join(dir, 'export');
    assert.equal(await exportCommand(['--onnx', weights, '--out', out]), 0);
    const manifest = JSON.parse(readFileSync(path.join(out, 'export.json'), 'utf8')) as ExportManifest;
    assert.equal(manifest.opset, 17);
    // A plain state dict brings no clip geometry: the schema's defaults (8 frames of 112², 2 s of audio).
    assert.deepEqual(manifest.video!.input.shape, ['batch', 3, 8, 112, 112]);
    assert.deepEqual(manifest.audio!.input.shape, ['batch', 1, 100, 129]);
    assert.deepEqual(manifest.video!.outputs.map((o) => o.name), ['embedding', 'features']);

    const artifact = readRunArtifact(weights);
    try {
      const model = artifact.net.model as AVModel;
      model.eval();
      for (const batch of [1, 3]) {
        for (const modality of ['video', 'audio'] as const) {
          const x = input(modality === 'video' ? [batch, 3, 8, 112, 112] : [batch, 1, 100, 129], batch);
          const embedding = modality === 'video' ? model.embedVideo(x) : model.embedAudio(x);
          const features = modality === 'video' ? model.video_model.forward(x) : model.audio_model.forward(x);
          const onnx = await runOnnx(path.join(out, `${modality}.onnx`), modality, x);
          assert.deepEqual(onnx.embedding.dims, [batch, 128]);
          assert.deepEqual(onnx.features.dims, features.shape);
          for (const [what, got, want] of [['embedding', onnx.embedding.data, embedding], ['features', onnx.features.data, features]] as const) {
            const errors = rowRelativeErrors(got, want.toFloat32Array(), batch);
            assert.ok(Math.max(...errors) < 1e-4, `${modality} ${what} at batch ${batch}: relative errors ${errors.map((e) => e.toExponential(2)).join(', ')}`);
          }
          for (const t of [x, embedding, features]) t.dispose();
        }
      }
    } finally {
      disposeArtifact(artifact);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a bare audio encoder exports alone, its one output the pooled features; --embedding-only drops them', async () => {
  const dir = tempDir();
  try {
    const bare = readRunArtifact('random', { random: { model: 'audio-conv2d', width: 0.125 } });
    try {
      hashFillStateDict(bare.net.model.stateDict());
      const manifest = exportOnnx(bare, path.join(dir, 'bare'));
      assert.equal(manifest.video, undefined);
      assert.equal(existsSync(path.join(dir, 'bare', 'video.onnx')), false);
      assert.deepEqual(manifest.audio!.outputs.map((o) => o.name), ['features']);
      const encoder = bare.net.model as AudioConv2d;
      encoder.eval();
      const x = input([2, 1, 100, 129], 7);
      const want = encoder.forward(x);
      const onnx = await runOnnx(path.join(dir, 'bare', 'audio.onnx'), 'audio', x);
      assert.deepEqual(Object.keys(onnx), ['features']);
      const errors = rowRelativeErrors(onnx.features.data, want.toFloat32Array(), 2);
      assert.ok(Math.max(...errors) < 1e-4, `bare audio features: relative errors ${errors.join(', ')}`);
      x.dispose();
      want.dispose();
    } finally {
      disposeArtifact(bare);
    }

    assert.equal(await exportCommand(['--onnx', 'random', '--width', '0.125', '--frames', '4', '--size', '32', '--out', path.join(dir, 'slim'), '--embedding-only']), 0);
    const slim = JSON.parse(readFileSync(path.join(dir, 'slim', 'export.json'), 'utf8')) as ExportManifest;
    assert.deepEqual(slim.video!.outputs.map((o) => o.name), ['embedding']);
    const session = await ort.InferenceSession.create(path.join(dir, 'slim', 'video.onnx'));
    assert.deepEqual(session.outputNames, ['embedding']);
    await session.release();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('export.json carries the run\'s spectrogram statistics and front end', () => {
  const dir = tempDir();
  try {
    const artifact = readRunArtifact('random', { random: SMALL });
    try {
      const bins = 129;
      artifact.audioStats = {
        config: { sampleRate: 24000, windowSec: 0.02, hopSec: 0.02, nFft: 512, freqBins: bins },
        mean: Array.from({ length: bins }, (_, i) => -5 + i / 100),
        std: Array.from({ length: bins }, (_, i) => 1 + i / 1000),
        frames: 10,
        clips: 1,
      };
      const live = T.memory().liveTensors;
      const manifest = exportOnnx(artifact, dir);
      assert.equal(T.memory().liveTensors, live, 'the export leaves no tensor behind');
      assert.deepEqual(manifest.audio!.normalisation!.mean, artifact.audioStats.mean);
      assert.equal(manifest.audio!.normalisation!.stdFloor, 1e-5);
      assert.deepEqual(manifest.audio!.spectrogram, { sampleRate: 24000, windowSec: 0.02, hopSec: 0.02, nFft: 512, freqBins: 129 });
      assert.equal(manifest.audio!.samples, 48000);
    } finally {
      disposeArtifact(artifact);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('odd inputs: a missing checkpoint, --out that is a file, a bad input shape, an unknown layer, a malformed tensor', async () => {
  const dir = tempDir();
  try {
    await assert.rejects(exportCommand(['--onnx', path.join(dir, 'nope.safetensors'), '--out', path.join(dir, 'x')]), /nope\.safetensors: no such file/);
    await assert.rejects(exportCommand(['--onnx', path.join(dir, 'nope.safetensors'), '--width', '0.5', '--out', path.join(dir, 'x')]), /--width: only for --checkpoint random/);
    const garbage = path.join(dir, 'garbage.safetensors');
    writeFileSync(garbage, 'not a safetensors file at all');
    await assert.rejects(exportCommand(['--onnx', garbage, '--out', path.join(dir, 'x')]), /garbage\.safetensors: not a readable safetensors checkpoint/);
    const file = path.join(dir, 'a-file');
    writeFileSync(file, '');
    const artifact = readRunArtifact('random', { random: SMALL });
    try {
      assert.throws(() => exportOnnx(artifact, file), /--out .*a-file: exists and is not a directory/);
    } finally {
      disposeArtifact(artifact);
    }

    const video = new R2Plus1D({ layers: [1, 1, 1, 1], width: 0.125 });
    try {
      assert.throws(() => encoderOnnxModel(video, '', { input: { name: 'video', shape: [1, 3, 32, 32] }, graphName: 'g' }), /input 'video' needs \(N, 3, frames, height, width\).*got \(1, 3, 32, 32\)/);
      // A layer the exporter has no operators for is refused by its path, not exported wrongly.
      (video.stages as Layer[])[1] = new Identity();
      assert.throws(() => encoderOnnxModel(video, 'video_model', { input: { name: 'video', shape: [1, 3, 4, 32, 32] }, graphName: 'g' }), /no ONNX operators for Identity at 'video_model\.conv3x'/);
    } finally {
      video.dispose();
    }
    assert.throws(
      () => encodeOnnxModel({ graphName: 'g', nodes: [], inputs: [], outputs: [], opset: 17, initializers: [{ name: 'w', dims: [2, 3], data: new Float32Array(5) }] }),
      /tensor 'w' has dims \[2, 3\] \(6 values\) but 5 values/,
    );

    // The exported model declares its clip shape: only the batch dimension may change.
    const out = path.join(dir, 'export');
    assert.equal(await exportCommand(['--onnx', 'random', '--width', '0.125', '--frames', '4', '--size', '32', '--out', out]), 0);
    const x = input([2, 1, 50, 129], 0);
    await assert.rejects(runOnnx(path.join(out, 'audio.onnx'), 'audio', x), /[Ii]nvalid|dimension|Got: 50 Expected: 100/);
    x.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
