import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as T from '../../src/tensor/index.js';
import { run } from '../../src/cli/commands/eval.js';
import { createModel } from '../../src/models/index.js';
import { saveCheckpoint } from '../../src/io/checkpoint.js';
import { ANALYSIS_SPECTROGRAM } from '../../src/media/spectrogram.js';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { writeLabelledTones } from './tones.js';
import { parseConfig } from '../../src/config/load.js';
import { pretrain } from '../../src/train/pretrain.js';
import { RandomSource } from '../helpers/random-source.js';
import { buildReport } from '../../src/report/index.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const avClips = path.resolve(repoRoot, '../shared/data/av-clips');

T.setNumThreads(1);

test('avid eval svm, knn and probe end to end on generated tones (CSV labels, feature cache reused)', async (t) => {
  if (spawnSync('ffmpeg', ['-version']).status !== 0) return t.skip('ffmpeg is not installed');
  const dir = mkdtempSync(path.join(tmpdir(), 'avid-eval-cli-'));
  try {
    writeLabelledTones(dir, { seconds: 1, fold: (i) => 1 + (i % 2), group: (name, i) => `${name}${i}` });
    const common = ['--checkpoint', 'random', '--data', dir, '--labels', path.join(dir, 'labels.csv'), '--width', '0.25', '--clips', '2', '--clip-seconds', '0.5', '--sample-rate', '16000', '--hop-seconds', '0.01', '--cache', path.join(dir, 'cache')];
    const log = console.log;
    const printed: string[] = [];
    console.log = (...args: unknown[]) => printed.push(args.join(' '));
    const stderr = process.stderr.write.bind(process.stderr);
    process.stderr.write = (() => true) as typeof process.stderr.write;
    try {
      assert.equal(await run(['svm', ...common, '--c-grid', '0.1,1', '--out', path.join(dir, 'svm.json')]), 0);
      assert.equal(await run(['knn', ...common, '--k', '1', '--out', path.join(dir, 'knn.json')]), 0);
      assert.equal(await run(['probe', ...common, '--out', path.join(dir, 'probe.json')]), 0);
      await assert.rejects(run(['svm', '--checkpoint', 'random', '--data', dir, '--out', 'x.json']), /does not follow the ESC naming scheme/);
      await assert.rejects(run(['nope', ...common, '--out', 'x.json']), /the protocol must be svm, probe, knn, retrieval or finetune/);
      await assert.rejects(run(['svm', ...common]), /--out is required: random is not a run directory/);
      await assert.rejects(run(['svm', ...common, '--widht', '1', '--out', 'x.json']), /unknown flag --widht \(did you mean --width\?\)/);
      await assert.rejects(run(['svm', ...common, '--clips', 'two', '--out', 'x.json']), /--clips must be a positive integer; got 'two'/);
    } finally {
      console.log = log;
      process.stderr.write = stderr;
    }
    const svm = JSON.parse(readFileSync(path.join(dir, 'svm.json'), 'utf8'));
    assert.equal(svm.protocol, 'svm');
    assert.deepEqual(svm.classNames, ['high', 'low', 'mid']);
    assert.equal(svm.results.conv5x.folds.length, 2);
    assert.equal(svm.results.conv5x.meanAccuracy, 1, 'pure tones of three frequencies are separable');
    assert.equal(svm.timing.featuresFromCache, false);
    const knn = JSON.parse(readFileSync(path.join(dir, 'knn.json'), 'utf8'));
    assert.equal(knn.timing.featuresFromCache, true, 'the second protocol reuses the cached features');
    const probe = JSON.parse(readFileSync(path.join(dir, 'probe.json'), 'utf8'));
    assert.equal(probe.results.conv5x.folds.length, 2);
    assert.ok(probe.results.conv5x.meanVideoAccuracy >= 0.8, `probe video@1 ${probe.results.conv5x.meanVideoAccuracy}`);
    assert.equal(readdirSync(path.join(dir, 'cache')).length, 1);
    assert.ok(printed.some((l) => /conv5x\s+mean\s+100\b/.test(l)), printed.join('\n'));
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('avid eval reads the architecture of an encoder checkpoint (audio_model.*) and its spectrogram statistics', async (t) => {
  if (spawnSync('ffmpeg', ['-version']).status !== 0) return t.skip('ffmpeg is not installed');
  const dir = mkdtempSync(path.join(tmpdir(), 'avid-eval-ckpt-'));
  try {
    const rows = ['file,label,fold'];
    for (let i = 0; i < 8; i++) {
      const file = `t${i}.wav`;
      const made = spawnSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', `sine=frequency=${i % 2 ? 500 : 3000}:duration=2.2`, '-ar', '24000', '-y', path.join(dir, file)]);
      assert.equal(made.status, 0, String(made.stderr));
      rows.push(`${file},${i % 2},${1 + (i % 4 < 2 ? 0 : 1)}`);
    }
    writeFileSync(path.join(dir, 'labels.csv'), `${rows.join('\n')}\n`);
    const audio = createModel('audio-conv2d', { width: 0.125 });
    const model = new Map([...audio.stateDict()].map(([k, v]) => [`audio_model.${k}`, v] as [string, T.Tensor]));
    const audioStats = { config: ANALYSIS_SPECTROGRAM, mean: new Array(129).fill(-5), std: new Array(129).fill(3), frames: 100, clips: 1 };
    const checkpoint = path.join(dir, 'av.safetensors');
    saveCheckpoint(checkpoint, { groups: { model }, scalars: { audioStats } });
    audio.dispose();
    const args = ['--checkpoint', checkpoint, '--data', dir, '--labels', path.join(dir, 'labels.csv'), '--clips', '1', '--no-cache', '--c-grid', '1'];
    const stderr = process.stderr.write.bind(process.stderr);
    const log = console.log;
    process.stderr.write = (() => true) as typeof process.stderr.write;
    console.log = () => {};
    try {
      // The architecture (an audio encoder of width 0.125) comes from the checkpoint's weights.
      assert.equal(await run(['svm', ...args, '--out', path.join(dir, 'r.json')]), 0);
      await assert.rejects(run(['svm', ...args, '--width', '0.25', '--out', path.join(dir, 'x.json')]), /--width: only for --checkpoint random/);
    } finally {
      process.stderr.write = stderr;
      console.log = log;
    }
    const r = JSON.parse(readFileSync(path.join(dir, 'r.json'), 'utf8'));
    assert.equal(r.settings.frontend.normalisation, 'checkpoint statistics');
    assert.deepEqual(r.settings.frontend.spectrogram, ANALYSIS_SPECTROGRAM);
    assert.equal(r.encoder.checkpoint, checkpoint);
    assert.equal(r.results.conv5x.folds.length, 2);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('avid eval retrieval on the real videos (random weights: near chance, files without audio skipped)', async (t) => {
  if (!existsSync(avClips)) return t.skip(`av-clips not found at ${avClips}`);
  const dir = mkdtempSync(path.join(tmpdir(), 'avid-eval-retrieval-'));
  const lines: string[] = [];
  const stderr = process.stderr.write.bind(process.stderr);
  const log = console.log;
  process.stderr.write = ((chunk: string) => (lines.push(String(chunk)), true)) as typeof process.stderr.write;
  console.log = () => {};
  try {
    const out = path.join(dir, 'r.json');
    const code = await run(['retrieval', '--checkpoint', 'random', '--data', avClips, '--width', '0.125', '--frames', '4', '--size', '32', '--clips', '1', '--out', out]);
    assert.equal(code, 0);
    const r = JSON.parse(readFileSync(out, 'utf8'));
    assert.equal(r.videos, 8, 'the 8 videos with an audio stream');
    assert.ok(lines.some((l) => /skipped .*birthday\.mp4 \(no audio stream\)/.test(l)));
    assert.equal(r.results.videoToAudio.ranks.length, 8);
    assert.equal(r.results.videoToAudio.recall['10'], 1);
    assert.ok(r.results.audioToVideo.medianRank >= 1 && r.results.audioToVideo.medianRank <= 8);
  } finally {
    process.stderr.write = stderr;
    console.log = log;
    rmSync(dir, { recursive: true });
  }
});

test("avid eval svm on a run avid trained: the architecture (widths) comes from the run, not from flags", async (t) => {
  if (spawnSync('ffmpeg', ['-version']).status !== 0) return t.skip('ffmpeg is not installed');
  const dir = mkdtempSync(path.join(tmpdir(), 'avid-eval-run-'));
  try {
    writeLabelledTones(dir, { seconds: 1, fold: (i) => 1 + (i % 2), group: (name, i) => `${name}${i}` });
    // A run whose audio encoder is not the default width: 'eval svm' used to build a width-1 encoder and fail.
    const config = parseConfig({ name: 'narrow', runsDir: dir, data: { source: 'in-memory' }, audio: { seconds: 0.5, sampleRate: 16000 }, model: { width: 0.125, audioWidth: 0.25, embeddingDim: 16 }, objective: { negatives: 8 }, train: { epochs: 1, batchSize: 4, checkpointEvery: 1000 } }, 'test');
    const trained = await pretrain(config, { source: new RandomSource(8, 4), progress: null });
    const stderr = process.stderr.write.bind(process.stderr);
    const log = console.log;
    process.stderr.write = (() => true) as typeof process.stderr.write;
    console.log = () => {};
    try {
      const out = path.join(dir, 'svm.json');
      assert.equal(await run(['svm', '--checkpoint', path.join(dir, 'narrow'), '--data', dir, '--labels', path.join(dir, 'labels.csv'), '--clips', '2', '--no-cache', '--c-grid', '1', '--out', out]), 0);
      const r = JSON.parse(readFileSync(out, 'utf8'));
      assert.equal(r.encoder.checkpoint, trained.checkpoint);
      assert.equal(r.settings.clipSeconds, 0.5, "the run's audio window");
      assert.equal(r.settings.sampleRate, 16000, "the run's sample rate");
      // Without --out the results land in the run, as a table the report shows.
      assert.equal(await run(['knn', '--checkpoint', trained.checkpoint, '--data', dir, '--labels', path.join(dir, 'labels.csv'), '--clips', '2', '--no-cache', '--k', '1']), 0);
      const tables = JSON.parse(readFileSync(path.join(dir, 'narrow', 'results', 'knn.json'), 'utf8'));
      assert.equal(tables[0].columns[0], 'block');
      assert.deepEqual(tables[0].rows.at(-1).slice(0, 2), ['conv5x', 'mean']);
      assert.equal(JSON.parse(readFileSync(path.join(dir, 'narrow', 'results', 'details', 'knn.json'), 'utf8')).protocol, 'knn');
      assert.equal(tables[0].evaluation, undefined, 'k-NN: no paper figure uses it, so no evaluation record');
      // The SVM table records what its headline figure measures: conv5x, mean over folds, on data that is no benchmark.
      assert.equal(await run(['svm', '--checkpoint', trained.checkpoint, '--data', dir, '--labels', path.join(dir, 'labels.csv'), '--clips', '2', '--no-cache', '--c-grid', '1']), 0);
      const labelledFiles = readFileSync(path.join(dir, 'labels.csv'), 'utf8').trim().split('\n').length - 1;
      const [svmTable] = JSON.parse(readFileSync(path.join(dir, 'narrow', 'results', 'svm.json'), 'utf8'));
      const svmDetails = JSON.parse(readFileSync(path.join(dir, 'narrow', 'results', 'details', 'svm.json'), 'utf8'));
      assert.deepEqual(svmTable.evaluation, { protocol: 'audio-svm', benchmark: null, data: path.basename(dir), block: 'conv5x', score: svmDetails.results.conv5x.meanAccuracy, samples: labelledFiles });
      const report = await buildReport(path.join(dir, 'narrow'));
      assert.match(readFileSync(report, 'utf8'), /k-NN sound classification/);
    } finally {
      process.stderr.write = stderr;
      console.log = log;
    }
  } finally {
    rmSync(dir, { recursive: true });
  }
});
