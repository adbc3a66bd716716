import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as T from '../../src/tensor/index.js';
import { Module, BatchNorm } from '../../src/nn/index.js';
import { AudioConv2d } from '../../src/models/audio-conv2d.js';
import { FinetuneClassifier, finetune, scaledMilestones, type FinetuneBatchSource, type TestBatch, type TrainBatch } from '../../src/eval/finetune.js';
import { loadFinetuneMedia, mediaBatchSource } from '../../src/eval/finetune-data.js';
import { clipGeometry } from '../../src/eval/clip-geometry.js';
import { PretrainConfig } from '../../src/config/schema.js';
import { givenSplit, kFoldSplits } from '../../src/eval/folds.js';
import { seededRandom } from '../../src/data/rng.js';
import { run } from '../../src/cli/commands/eval.js';
import { loadCheckpoint, disposeContents } from '../../src/io/checkpoint.js';
import { writeLabelledTones } from './tones.js';

// Small problems: one libtorch thread avoids OpenMP contention on a shared machine.
T.setNumThreads(1);

/** An encoder that records, at every forward, the phase the source is in and every batch-norm's mode. */
class SpyEncoder extends Module {
  readonly inner: AudioConv2d;
  readonly outChannels: number;
  readonly calls: { phase: string; bnTraining: boolean[] }[] = [];
  phase = 'none';
  constructor() {
    super();
    this.inner = this.registerModule('inner', new AudioConv2d({ width: 1 / 16 }));
    this.outChannels = this.inner.outChannels;
  }
  forward(x: T.Tensor): T.Tensor {
    const bns = this.namedModules().filter(([, m]) => m instanceof BatchNorm);
    this.calls.push({ phase: this.phase, bnTraining: bns.map(([, m]) => m.training) });
    return this.inner.forward(x);
  }
}

/**
 * A separable "spectrogram" problem: class k lights a band of frequency bins; every clip adds fresh noise
 * (drawn from the seed, the epoch and the sample), so training sees new clips each epoch.
 */
function bandSource(spy: SpyEncoder, o: { classes: number; train: number; test: number; clips: number }): FinetuneBatchSource & { trainSeen: Set<number> } {
  const size = 32;
  const labelOf = (sample: number) => sample % o.classes;
  const clip = (sample: number, salt: number) => {
    const random = seededRandom(sample * 7919 + salt);
    const data = new Float32Array(size * size);
    const band = labelOf(sample) * Math.floor(size / o.classes);
    for (let t = 0; t < size; t++) {
      for (let f = 0; f < size; f++) data[t * size + f] = random() - 0.5 + (f >= band && f < band + 4 ? 1.5 : 0);
    }
    return data;
  };
  const stack = (rows: Float32Array[]) => {
    const all = new Float32Array(rows.length * size * size);
    rows.forEach((r, i) => all.set(r, i * size * size));
    return T.tensor(all, [rows.length, 1, size, size]);
  };
  const trainSeen = new Set<number>();
  const testIds = Array.from({ length: o.test }, (_, i) => o.train + i);
  return {
    trainSeen,
    testLabels: testIds.map(labelOf),
    async *trainBatches(epoch: number): AsyncGenerator<TrainBatch> {
      spy.phase = 'train';
      const order = Array.from({ length: o.train }, (_, i) => i);
      for (let start = 0; start + 8 <= order.length; start += 8) {
        const ids = order.slice(start, start + 8);
        ids.forEach((i) => trainSeen.add(i));
        yield { input: stack(ids.map((i) => clip(i, 1000 + epoch))), labels: T.tensor(Int32Array.from(ids.map(labelOf)), [ids.length], 'int64'), samples: ids };
      }
    },
    async *testBatches(): AsyncGenerator<TestBatch> {
      spy.phase = 'test';
      const rows: Float32Array[] = [];
      const samples: number[] = [];
      testIds.forEach((id, s) => {
        for (let c = 0; c < o.clips; c++) {
          rows.push(clip(id, c));
          samples.push(s);
        }
      });
      yield { input: stack(rows), samples };
    },
  };
}

test('fine-tuning learns a separable problem end to end: weights change, batch-norm trains then evaluates, no leak per step', async () => {
  T.manualSeed(0);
  const spy = new SpyEncoder();
  const model = new FinetuneClassifier(spy as unknown as ConstructorParameters<typeof FinetuneClassifier>[0], 3, { dropout: 0.2, generator: new T.Generator(0) });
  const source = bandSource(spy, { classes: 3, train: 48, test: 24, clips: 3 });
  const conv = spy.inner.conv1.stateDict().get('0.weight')!;
  const firstBn = spy.namedModules().find(([, m]) => m instanceof BatchNorm)![1] as unknown as { stateDict(): Map<string, T.Tensor> };
  const weightBefore = conv.toFloat32Array();
  const runningMeanBefore = firstBn.stateDict().get('running_mean')!.toFloat32Array();
  const live: number[] = [];
  const before = T.memory().liveTensors;
  const r = await finetune(model, source, { epochs: 8, lr: 3e-3, onStep: () => live.push(T.memory().liveTensors) });
  assert.equal(T.memory().liveTensors, before, 'fine-tuning leaves no tensor behind (gradients freed)');
  assert.ok(live.length === 8 * 6, `${live.length} steps`);
  assert.ok(live.every((n) => n === live[0]), `live tensors per step: ${[...new Set(live)].join(', ')}`);

  assert.ok(r.videoAccuracy >= 0.95, `video@1 ${r.videoAccuracy}`);
  assert.ok(r.clipAccuracy >= 0.9, `clip@1 ${r.clipAccuracy}`);
  assert.equal(r.testSamples, 24);
  assert.equal(r.testClips, 72);
  assert.ok(r.epochs[r.epochs.length - 1].loss < r.epochs[0].loss, 'the training loss falls');
  assert.deepEqual(r.milestones, scaledMilestones(8));
  const expectedLr = [3e-3, 3e-3, 3e-3, 9e-4, 9e-4, 2.7e-4, 2.7e-4, 8.1e-5];
  r.epochs.forEach((e, i) => assert.ok(Math.abs(e.lr - expectedLr[i]) < 1e-12, `epoch ${i}: lr ${e.lr}, expected ${expectedLr[i]} (× 0.3 at epochs 3, 5, 7)`));

  // The encoder is not frozen: its first convolution moved, and so did the batch-norm running statistics.
  const weightAfter = conv.toFloat32Array();
  assert.ok(weightAfter.some((v, i) => Math.abs(v - weightBefore[i]) > 1e-4), 'conv1 weights changed');
  const runningMeanAfter = firstBn.stateDict().get('running_mean')!.toFloat32Array();
  assert.ok(runningMeanAfter.some((v, i) => Math.abs(v - runningMeanBefore[i]) > 1e-4), 'batch-norm statistics were updated in training');
  // Batch-norm in training mode for every training forward, evaluation mode for every test forward.
  const train = spy.calls.filter((c) => c.phase === 'train');
  const testCalls = spy.calls.filter((c) => c.phase === 'test');
  assert.equal(train.length, 48);
  assert.equal(testCalls.length, 1);
  assert.ok(train.every((c) => c.bnTraining.length >= 9 && c.bnTraining.every((m) => m)), 'training forwards: batch-norm in training mode');
  assert.ok(testCalls.every((c) => c.bnTraining.every((m) => !m)), 'test forwards: batch-norm in evaluation mode');
  assert.equal(model.training, false, 'the model is left in evaluation mode');
  for (const s of source.trainSeen) assert.ok(s < 48, `test sample ${s} reached training`);
  assert.ok(model.parameters().every((p) => !p.requiresGrad), 'parameters no longer require gradients');
  model.dispose();
});

test('scaled milestones follow 60/100/140 of 160 epochs', () => {
  assert.deepEqual(scaledMilestones(160), [60, 100, 140]);
  assert.deepEqual(scaledMilestones(16), [6, 10, 14]);
  assert.deepEqual(scaledMilestones(8), [3, 5, 7]);
  assert.deepEqual(scaledMilestones(1), []);
});

/** Takes 0-1 and 2-3 of a tone share a recording group (and so a fold); with a split, fold 2 is the test set. */
function makeTones(dir: string, withSplit: boolean): { csv: string; files: string[] } {
  const fold = (i: number) => 1 + (Math.floor(i / 2) % 2);
  return writeLabelledTones(dir, {
    seconds: 2.5,
    fold,
    group: (name, i) => `${name}-rec${Math.floor(i / 2)}`,
    ...(withSplit ? { split: (i: number) => (fold(i) === 2 ? ('test' as const) : ('train' as const)) } : {}),
  });
}

test('media batches: no test file or recording reaches a training batch, in any fold or epoch', async (t) => {
  if (spawnSync('ffmpeg', ['-version']).status !== 0) return t.skip('ffmpeg is not installed');
  const dir = mkdtempSync(path.join(tmpdir(), 'avid-finetune-'));
  try {
    const { files } = makeTones(dir, false);
    const entries = files.map((f, i) => ({ fold: 1 + (Math.floor((i % 4) / 2) % 2), group: `${Math.floor(i / 4)}-${Math.floor((i % 4) / 2)}` }));
    const geometry = clipGeometry(PretrainConfig.parse({ data: { source: 'tones' } }));
    const media = await loadFinetuneMedia(files, 'audio', geometry);
    const labels = files.map((_, i) => Math.floor(i / 4));
    const before = T.memory().liveTensors;
    for (const split of kFoldSplits(entries)) {
      const source = mediaBatchSource(media, labels, split.train, split.test, { seed: 3, batchSize: 3, testClips: 2 });
      const testGroups = new Set(split.test.map((i) => entries[i].group));
      try {
        for (let epoch = 0; epoch < 2; epoch++) {
          let rows = 0;
          for await (const b of source.trainBatches(epoch)) {
            assert.deepEqual(b.input.shape, [3, 1, 100, 129]);
            for (const s of b.samples!) {
              assert.ok(split.train.includes(s), `sample ${s} of held-out fold ${split.heldOutFold} trained`);
              assert.ok(!testGroups.has(entries[s].group), `recording ${entries[s].group} is in test and in training`);
            }
            assert.deepEqual([...b.labels.toArray() as number[]].map(Number), b.samples!.map((s) => labels[s]));
            rows += b.samples!.length;
            b.input.dispose();
            b.labels.dispose();
          }
          assert.equal(rows, split.train.length, 'one clip per training sample per epoch');
        }
        let testRows = 0;
        for await (const b of source.testBatches()) {
          testRows += b.samples.length;
          b.input.dispose();
        }
        assert.equal(testRows, 2 * split.test.length, 'K clips per test sample');
      } finally {
        await source.close();
      }
    }
    assert.equal(T.memory().liveTensors, before);
    assert.throws(() => mediaBatchSource(media, labels, [0, 1, 2], [2, 3], { seed: 0, batchSize: 2 }), /in both train and test/);
    assert.throws(() => givenSplit(entries.map((e, i) => ({ ...e, split: i % 4 === 0 ? ('test' as const) : ('train' as const) }))), /is in both train and test/);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('avid eval finetune end to end on generated tones: given split and folds, results JSON, table, checkpoints', async (t) => {
  if (spawnSync('ffmpeg', ['-version']).status !== 0) return t.skip('ffmpeg is not installed');
  const dir = mkdtempSync(path.join(tmpdir(), 'avid-finetune-cli-'));
  const log = console.log;
  const stderr = process.stderr.write.bind(process.stderr);
  try {
    const { csv } = makeTones(dir, true);
    const printed: string[] = [];
    console.log = (...args: unknown[]) => printed.push(args.join(' '));
    process.stderr.write = (() => true) as typeof process.stderr.write;
    const common = ['--checkpoint', 'random', '--model', 'audio-conv2d', '--width', '0.125', '--data', dir, '--labels', csv, '--modality', 'audio', '--epochs', '8', '--train-clips', '4', '--lr', '3e-3', '--batch-size', '6', '--clips', '2'];
    assert.equal(await run(['finetune', ...common, '--out', path.join(dir, 'given.json')]), 0);
    assert.equal(await run(['finetune', ...common, '--splits', 'folds', '--out', path.join(dir, 'folds.json')]), 0);
    await assert.rejects(run(['finetune', ...common, '--modality', 'video', '--out', path.join(dir, 'x.json')]), /--modality video: random holds a bare audio encoder, not a video one/);
    await assert.rejects(run(['finetune', ...common, '--epochs', '0', '--out', path.join(dir, 'x.json')]), /--epochs must be a positive integer/);
    console.log = log;
    process.stderr.write = stderr;
    const given = JSON.parse(readFileSync(path.join(dir, 'given.json'), 'utf8'));
    assert.equal(given.protocol, 'finetune');
    assert.equal(given.settings.splits, 'given');
    assert.equal(given.results.folds.length, 1);
    assert.equal(given.results.folds[0].testSamples, 6);
    assert.ok(given.results.meanVideoAccuracy >= 2 / 3, `pure tones: video@1 ${given.results.meanVideoAccuracy}`);
    const folds = JSON.parse(readFileSync(path.join(dir, 'folds.json'), 'utf8'));
    assert.deepEqual(folds.results.folds.map((f: { fold: number }) => f.fold), [1, 2]);
    for (const f of folds.results.folds) {
      assert.ok(existsSync(f.checkpoint), `checkpoint ${f.checkpoint}`);
      const saved = loadCheckpoint(f.checkpoint);
      assert.ok(saved.groups.model.has('classifier.weight') && saved.groups.model.has('encoder.conv1.0.weight'));
      assert.equal(saved.scalars.protocol, 'finetune');
      disposeContents(saved);
    }
    assert.ok(printed.some((l) => /^mean\s+\d/m.test(l)), printed.join('\n'));
  } finally {
    console.log = log;
    process.stderr.write = stderr;
    rmSync(dir, { recursive: true });
  }
});

test("fine-tuning's default video augmentation is Table 8's: multi-scale crops, flips and colour jitter in training, the evaluation crop at test", async () => {
  const { defaultFinetuneAugment } = await import('../../src/eval/finetune-data.js');
  const { ClipDataset } = await import('../../src/data/dataset.js');
  const { evaluationCropBox } = await import('../../src/media/video-transforms.js');
  assert.equal(defaultFinetuneAugment('audio').crop, null);
  const augment = defaultFinetuneAugment('video');
  const entries = Array.from({ length: 64 }, (_, index) => ({ index, path: `v${index}.mp4`, durationSec: 4, width: 320, height: 240, fps: 25, numClips: 1, audioSampleRate: 24000, audioChannels: 1 }));
  const common = { seed: 5, modalities: 'video' as const, frameSize: [112, 112] as [number, number], clip: { numFrames: 8, fps: 8, audioSeconds: 1, audioOffsetSec: 0, audioDurationJitter: null } };
  const train = new ClipDataset(entries, { ...common, mode: 'train', augment });
  const plans = entries.map((_, i) => train.plan(i, 0));
  const areas = new Set(plans.map((p) => p.crop!.width * p.crop!.height));
  assert.ok(areas.size > 32 && Math.min(...areas) < 0.5 * 320 * 240, `multi-scale crops: ${areas.size} distinct areas`);
  const flips = plans.filter((p) => p.flip).length;
  assert.ok(flips > 16 && flips < 48, `about half flipped: ${flips}`);
  assert.ok(plans.every((p) => p.colorJitter.order.length > 0), 'colour jitter on every clip');
  const test = new ClipDataset(entries, { ...common, mode: 'eval', augment });
  for (let i = 0; i < 4; i++) {
    const p = test.plan(i, 0);
    assert.deepEqual(p.crop, evaluationCropBox(320, 240, 112, 112));
    assert.equal(p.flip, false);
    assert.equal(p.colorJitter.order.length, 0);
  }
});
