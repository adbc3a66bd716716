// The one reader of runs and checkpoints: every input kind gives the same typed config, the model with its
// weights, the statistics and the run directory; bad inputs get errors that name the file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as T from '../../src/tensor/index.js';
import { parseConfig } from '../../src/config/load.js';
import { pretrain } from '../../src/train/pretrain.js';
import { readRunArtifact, readMemoryBanks, disposeArtifact, avModelOf, takeEncoder, NO_DATA_SOURCE, type RunArtifact } from '../../src/train/run-artifact.js';
import { saveSafetensors } from '../../src/io/safetensors.js';
import { saveCheckpoint } from '../../src/io/checkpoint.js';
import { createModel } from '../../src/models/index.js';
import { inferArchitecture } from '../../src/models/infer-architecture.js';
import { ANALYSIS_SPECTROGRAM, saveStats } from '../../src/media/spectrogram.js';
import { RandomSource } from '../helpers/random-source.js';

T.setNumThreads(1);
let dir = '';
let runDir = '';
let checkpoint = '';

/** Every weight of the two models, compared: a model read back is the model saved. */
function sameWeights(a: Map<string, T.Tensor>, b: Map<string, T.Tensor>): boolean {
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
  return [...a].every(([k, t]) => T.tidy(() => t.sub(b.get(k)!).abs().max().item()) === 0);
}

function withArtifact<R>(artifact: RunArtifact, fn: (a: RunArtifact) => R): R {
  try {
    return fn(artifact);
  } finally {
    disposeArtifact(artifact);
  }
}

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'avid-run-artifact-'));
  const config = parseConfig(
    {
      name: 'tiny',
      runsDir: dir,
      data: { source: 'in-memory' },
      video: { frames: 4, size: 32 },
      audio: { seconds: 1 },
      model: { name: 'av-r2plus1d-18', width: 0.125, audioWidth: 0.25, embeddingDim: 16 },
      objective: { negatives: 8 },
      train: { epochs: 1, batchSize: 4, logEvery: 1, checkpointEvery: 1000 },
    },
    'test',
  );
  const result = await pretrain(config, { source: new RandomSource(8, 4), progress: null });
  runDir = path.join(dir, 'tiny');
  checkpoint = result.checkpoint;
  saveStats(path.join(runDir, 'audio-stats.json'), { config: ANALYSIS_SPECTROGRAM, mean: new Array(129).fill(-5), std: new Array(129).fill(2), frames: 10, clips: 1 });
});

after(() => rmSync(dir, { recursive: true, force: true }));

test('a run directory: its config (typed), last checkpoint, model and run dir; no tensor left behind', () => {
  const live = T.memory().liveTensors;
  withArtifact(readRunArtifact(runDir), (a) => {
    assert.equal(a.kind, 'run');
    assert.equal(a.runDir, runDir);
    assert.equal(a.checkpoint, checkpoint);
    assert.equal(a.config.model.name, 'av-r2plus1d-18');
    assert.equal(a.config.video.frames, 4);
    assert.equal(a.config.audio.seconds, 1);
    assert.equal(a.net.network, 'av');
    assert.equal(avModelOf(a, 'test').video_model.outChannels, 64);
    assert.equal(a.objectiveState, null, 'objective state only on request');
  });
  assert.equal(T.memory().liveTensors, live);
});

test('a checkpoint inside a run counts as the run; a copy elsewhere is a checkpoint without a run', () => {
  withArtifact(readRunArtifact(checkpoint), (a) => {
    assert.equal(a.kind, 'checkpoint');
    assert.equal(a.runDir, runDir);
  });
  const copy = path.join(dir, 'copied.safetensors');
  copyFileSync(checkpoint, copy);
  withArtifact(readRunArtifact(copy, { objective: true }), (a) => {
    assert.equal(a.runDir, null);
    assert.equal(a.config.model.audioWidth, 0.25, 'the config travels inside the checkpoint');
    assert.ok(a.objectiveState?.tensors.has('memory.video'), 'the memory banks, on request');
  });
  const banks = readMemoryBanks(copy);
  assert.deepEqual(banks.video.shape, [8, 16]);
  banks.video.dispose();
  banks.audio.dispose();
});

test('a plain state dict: the architecture is read from its keys and shapes, the weights are its own', () => {
  const model = createModel('av-r2plus1d-18', { width: 0.25, audioWidth: 0.125, embeddingDim: 32 });
  const file = path.join(dir, 'plain.safetensors');
  saveSafetensors(file, model.stateDict());
  withArtifact(readRunArtifact(file), (a) => {
    assert.equal(a.kind, 'state-dict');
    assert.equal(a.runDir, null);
    assert.deepEqual(a.config.model, { name: 'av-r2plus1d-18', width: 0.25, audioWidth: 0.125, embeddingDim: 32 });
    assert.equal(a.config.data.source, NO_DATA_SOURCE);
    assert.equal(a.config.video.size, 112, "the schema's default geometry");
    assert.ok(sameWeights(a.net.model.stateDict(), model.stateDict()));
  });
  // A bare audio encoder (say, exported from PyTorch) and one stored inside an AV checkpoint's naming.
  const audio = createModel('audio-conv2d', { width: 0.3 });
  saveSafetensors(path.join(dir, 'audio.safetensors'), audio.stateDict());
  saveCheckpoint(path.join(dir, 'audio-in-av.safetensors'), { groups: { model: new Map([...audio.stateDict()].map(([k, t]) => [`audio_model.${k}`, t])) }, scalars: {} });
  for (const file of ['audio.safetensors', 'audio-in-av.safetensors']) {
    withArtifact(readRunArtifact(path.join(dir, file)), (a) => {
      assert.equal(a.net.network, 'audio', file);
      const encoder = takeEncoder(a, 'audio');
      assert.ok(sameWeights(encoder.stateDict(), audio.stateDict()), file);
    });
  }
  assert.throws(() => withArtifact(readRunArtifact(path.join(dir, 'audio.safetensors')), (a) => avModelOf(a, 'retrieval')), /retrieval needs an audio-visual model; .*audio\.safetensors holds a bare audio encoder/);
  model.dispose();
  audio.dispose();
});

test("'random' takes its architecture from options; 'random:<run>' from the run, with its statistics", () => {
  withArtifact(readRunArtifact('random', { seed: 3, random: { model: 'av-r2plus1d-10', width: 0.125, frames: 2, size: 16 } }), (a) => {
    assert.equal(a.kind, 'random');
    assert.equal(a.checkpoint, null);
    assert.equal(a.seed, 3);
    assert.equal(a.config.model.width, 0.125);
    assert.equal(a.config.video.size, 16);
    assert.deepEqual(inferArchitecture(a.net.model.stateDict(), 'random'), { network: 'av', depth: 10, width: 0.125, audioWidth: 0.125, embeddingDim: 128 });
  });
  withArtifact(readRunArtifact('random', { random: { model: 'audio-conv2d', width: 0.125 } }), (a) => assert.equal(a.net.network, 'audio'));
  const trained = readRunArtifact(runDir);
  try {
    const seeded = (seed: number) => readRunArtifact(`random:${runDir}`, { seed });
    withArtifact(seeded(1), (a) =>
      withArtifact(seeded(1), (b) =>
        withArtifact(seeded(2), (c) => {
          assert.equal(a.kind, 'random');
          assert.equal(a.config.model.name, 'av-r2plus1d-18');
          assert.equal(a.audioStats?.mean[0], -5, "the run's spectrogram statistics");
          assert.ok(sameWeights(a.net.model.stateDict(), b.net.model.stateDict()), 'the seed decides the weights');
          assert.ok(!sameWeights(a.net.model.stateDict(), c.net.model.stateDict()), 'another seed, other weights');
          assert.ok(!sameWeights(a.net.model.stateDict(), trained.net.model.stateDict()), 'not the trained weights');
        }),
      ),
    );
  } finally {
    disposeArtifact(trained);
  }
  const yaml = path.join(dir, 'arch.yaml');
  writeFileSync(yaml, 'data: { source: somewhere }\nmodel: { name: av-r2plus1d-10, width: 0.125 }\nvideo: { size: 48 }\n');
  withArtifact(readRunArtifact(`random:${yaml}`), (a) => {
    assert.equal(a.config.video.size, 48);
    assert.equal(a.config.model.width, 0.125);
  });
  assert.throws(() => readRunArtifact(yaml), /arch\.yaml is a config file, not weights: use 'random:.*arch\.yaml'/);
});

test('bad inputs: errors that name the file and what is wrong', () => {
  const live = T.memory().liveTensors;
  const text = path.join(dir, 'notes.safetensors');
  writeFileSync(text, 'these are not tensors');
  assert.throws(() => readRunArtifact(text), (e: Error) => e.message.startsWith(`${text}: not a readable safetensors checkpoint`));
  assert.throws(() => readRunArtifact(path.join(dir, 'missing.safetensors')), /missing\.safetensors: no such file or run directory/);
  assert.throws(() => readRunArtifact(checkpoint, { random: { width: 0.5 } }), /only for 'random'/);
  const empty = path.join(dir, 'empty-run');
  mkdirSync(empty);
  writeFileSync(path.join(empty, 'config.json'), JSON.stringify({ data: { source: 'x' } }));
  assert.throws(() => readRunArtifact(empty), /empty-run: the run has no checkpoints\/last\.safetensors/);
  writeFileSync(path.join(empty, 'config.json'), JSON.stringify({ data: { source: 'x' }, model: { width: 'wide' } }));
  assert.throws(() => readRunArtifact(empty), /config\.json: its stored config does not fit the config schema:\n.*model\.width: expected number, got string/s);
  const wrong = path.join(dir, 'wrong-shapes.safetensors');
  const model = createModel('av-r2plus1d-10', { width: 0.125 });
  const state = model.stateDict();
  saveCheckpoint(wrong, { groups: { model: state }, scalars: { config: { ...parseConfig({ data: { source: 'x' }, model: { width: 0.25 } }) } } });
  model.dispose();
  assert.throws(() => readRunArtifact(wrong), /wrong-shapes\.safetensors: .*shape/);
  assert.throws(() => readRunArtifact('random', { random: { model: 'resnet' } }), /model must be one of .*got 'resnet'/);
  assert.equal(T.memory().liveTensors, live, 'failed reads free what they read');
});
