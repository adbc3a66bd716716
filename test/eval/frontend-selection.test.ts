// Which audio front end an evaluation uses: the checkpoint's `audio.frontend` ('paper' when the field is
// absent, as in every checkpoint written before it existed; 'reference' in checkpoints imported from the
// reference), unless --frontend says otherwise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as T from '../../src/tensor/index.js';
import { run } from '../../src/cli/commands/eval.js';
import { evaluationFrontend, createAudioFrontend } from '../../src/eval/audio-frontend.js';
import { clipGeometry } from '../../src/eval/clip-geometry.js';
import { readRunArtifact } from '../../src/train/run-artifact.js';
import { saveCheckpoint, disposeContents } from '../../src/io/checkpoint.js';
import { importReferenceCheckpoint } from '../../src/io/reference-checkpoint.js';
import { ANALYSIS_SPECTROGRAM, saveStats } from '../../src/media/spectrogram.js';
import { PretrainConfig } from '../../src/config/schema.js';
import { runPython, pythonTorchSkipReason } from '../helpers/python.js';
import { writeLabelledTones } from './tones.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

test('evaluationFrontend: the config field, paper without it, --frontend over both, bad values named', () => {
  assert.equal(evaluationFrontend(undefined), 'paper');
  assert.equal(evaluationFrontend({ audio: { sampleRate: 24000 } }), 'paper');
  assert.equal(evaluationFrontend({ audio: { frontend: 'reference' } }), 'reference');
  assert.equal(evaluationFrontend({ audio: { frontend: 'reference' } }, 'paper'), 'paper');
  assert.equal(evaluationFrontend(undefined, 'reference'), 'reference');
  assert.throws(() => evaluationFrontend(undefined, 'librosa'), /--frontend must be paper or reference; got 'librosa'/);
  assert.throws(() => evaluationFrontend({ audio: { frontend: 'mel' } }), /audio\.frontend 'mel'; allowed: paper, reference/);
  // avid's configs default to the paper's front end; the schema names the allowed values.
  assert.equal(PretrainConfig.parse({ data: { source: 'x' } }).audio.frontend, 'paper');
  assert.throws(() => PretrainConfig.parse({ data: { source: 'x' }, audio: { frontend: 'mel' } }), /frontend/);
  // Statistics computed with one front end cannot normalise the other.
  const stats = { config: ANALYSIS_SPECTROGRAM, mean: new Array(129).fill(0), std: new Array(129).fill(1), frames: 1, clips: 1 };
  assert.throws(() => createAudioFrontend({ frontend: 'reference', stats }), /computed with the 'paper' front end; they cannot normalise the 'reference' one/);
  const referenceConfig = PretrainConfig.parse({ data: { source: 'x' }, audio: { frontend: 'reference' } });
  assert.throws(() => clipGeometry(referenceConfig, stats), /computed with the 'paper' front end/);
  // The clip geometry of loader-based evaluations: the config's front end, or --frontend over it.
  assert.equal(clipGeometry(referenceConfig).frontend, 'reference');
  assert.equal(clipGeometry(referenceConfig, null, 'paper').frontend, 'paper');
  assert.equal(clipGeometry(PretrainConfig.parse({ data: { source: 'x' } }), stats).frontend, 'paper');
});

// A reference checkpoint (zip serialisation, bare DistributedDataParallel state dict) written by python3-torch.
const WRITE_PTH = String.raw`
import sys, torch
sys.path.insert(0, sys.argv[2])
from reference_models import AVModel
torch.manual_seed(0)
m = AVModel(10, 0.125)
torch.save({'epoch': 3, 'model': {'module.' + k: v for k, v in m.state_dict().items()}}, sys.argv[1])
# Statistics in the reference's format (datasets/assets/audio-spectDB-24k-513-norm-stats.npz: mean, std per bin).
import numpy as np
np.savez(sys.argv[3], mean=np.linspace(-80, -30, 257).astype(np.float32), std=np.linspace(8, 14, 257).astype(np.float32))
`;

const skip = pythonTorchSkipReason() ?? (spawnSync('ffmpeg', ['-version']).status !== 0 ? 'ffmpeg is not installed' : false);

test('a checkpoint without audio.frontend evaluates with the paper front end, an imported one with the reference front end', { skip, timeout: 600_000 }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'avid-frontend-'));
  try {
    const pth = path.join(dir, 'reference.pth.tar');
    const npz = path.join(dir, 'audio-spectDB-24k-513-norm-stats.npz');
    runPython(WRITE_PTH, { args: [pth, path.join(repoRoot, 'python'), npz] });
    // What `avid import` writes, and the same weights and settings as a checkpoint written before the field.
    const imported = path.join(dir, 'imported.safetensors');
    const older = path.join(dir, 'older.safetensors');
    const { contents } = importReferenceCheckpoint(pth);
    try {
      saveCheckpoint(imported, contents);
      const config = contents.scalars.config as { audio: Record<string, unknown> };
      const { frontend, ...audioWithoutField } = config.audio;
      assert.equal(frontend, 'reference');
      saveCheckpoint(older, { groups: { model: contents.groups.model! }, scalars: { config: { ...config, audio: audioWithoutField } } });
    } finally {
      disposeContents(contents);
    }

    // The clip geometry of loader-based evaluations (finetune, eval-av, eval-sync, localize), read through the
    // one reader of checkpoints (a .pth.tar too).
    for (const [file, expected] of [[pth, 'reference'], [imported, 'reference'], [older, 'paper']] as const) {
      const { config, audioStats } = readRunArtifact(file, { withModel: false });
      assert.equal(clipGeometry(config, audioStats).frontend, expected, path.basename(file));
      assert.equal(clipGeometry(config, audioStats, 'paper').frontend, 'paper', `${path.basename(file)} with --frontend paper`);
    }

    // The SVM protocol: the spectrogram it used is in the results.
    writeLabelledTones(dir, { seconds: 1, fold: (i) => 1 + (i % 2), group: (name, i) => `${name}${i}` });
    const common = ['--data', dir, '--labels', path.join(dir, 'labels.csv'), '--clips', '1', '--clip-seconds', '0.5', '--c-grid', '1', '--no-cache', '--threads', '1'];
    const stderr = process.stderr.write.bind(process.stderr);
    const log = console.log;
    process.stderr.write = (() => true) as typeof process.stderr.write;
    console.log = () => {};
    const evaluate = async (checkpoint: string, name: string, extra: string[] = []) => {
      const out = path.join(dir, `${name}.json`);
      assert.equal(await run(['svm', '--checkpoint', checkpoint, ...common, ...extra, '--out', out]), 0);
      return JSON.parse(readFileSync(out, 'utf8')).settings.frontend as { spectrogram: Record<string, unknown>; normalisation: string };
    };
    let older_: Awaited<ReturnType<typeof evaluate>>, imported_: typeof older_, fromPth: typeof older_, overridden: typeof older_, withStats: typeof older_;
    try {
      older_ = await evaluate(older, 'older');
      imported_ = await evaluate(imported, 'imported');
      fromPth = await evaluate(pth, 'pth');
      overridden = await evaluate(imported, 'overridden', ['--frontend', 'paper']);
      withStats = await evaluate(imported, 'with-stats', ['--audio-stats', npz]);
      await assert.rejects(evaluate(older, 'paper-with-npz', ['--audio-stats', npz]), /uses the 'paper' front end \(pass --frontend reference\)/);
      await assert.rejects(evaluate(older, 'bad', ['--frontend', 'librosa']), /--frontend must be paper or reference/);
    } finally {
      process.stderr.write = stderr;
      console.log = log;
    }
    // Imported: the reference's, with the settings it was trained on (100 frames/s, N = 512 → 257 bins).
    const reference = { frontend: 'reference', sampleRate: 24000, windowSec: 1024 / 24000, hopSec: 0.01, nFft: 1024, freqBins: 257 };
    assert.deepEqual(imported_.spectrogram, reference);
    assert.equal(imported_.normalisation, 'per clip', 'the published checkpoints carry no statistics');
    // The .pth.tar itself, converted on the fly by the reader: the same.
    assert.deepEqual(fromPth.spectrogram, reference);
    // Without the field: the paper's spectrogram (no frontend field; its window is the config's windowSeconds)
    // with the checkpoint's settings, as is the imported one's with --frontend paper.
    const paper = { sampleRate: 24000, windowSec: 1024 / 24000, hopSec: 0.01, nFft: 1024, freqBins: 257 };
    assert.deepEqual(older_.spectrogram, paper);
    assert.deepEqual(overridden.spectrogram, paper);
    // With the reference's training-set statistics given as its .npz file.
    assert.deepEqual(withStats.spectrogram, imported_.spectrogram);
    assert.equal(withStats.normalisation, `statistics of ${npz}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('retrieval and fine-tuning take --frontend and --audio-stats; statistics of another front end are refused', async (t) => {
  const avClips = path.resolve(repoRoot, '../shared/data/av-clips');
  if (!existsSync(avClips)) return t.skip(`av-clips not found at ${avClips}`);
  const dir = mkdtempSync(path.join(tmpdir(), 'avid-frontend-flags-'));
  const stderr = process.stderr.write.bind(process.stderr);
  const log = console.log;
  process.stderr.write = (() => true) as typeof process.stderr.write;
  console.log = () => {};
  try {
    const random = ['--checkpoint', 'random', '--width', '0.125', '--frames', '4', '--size', '32', '--clips', '1'];
    const out = path.join(dir, 'r.json');
    assert.equal(await run(['retrieval', ...random, '--data', avClips, '--frontend', 'reference', '--out', out]), 0);
    const r = JSON.parse(readFileSync(out, 'utf8'));
    assert.equal(r.settings.audio.frontend, 'reference');
    assert.equal(r.settings.normalisation, 'log spectrogram as is');
    // avid's statistics JSON of the paper's spectrogram cannot normalise the reference's.
    const paperStats = path.join(dir, 'paper-stats.json');
    saveStats(paperStats, { config: ANALYSIS_SPECTROGRAM, mean: new Array(129).fill(0), std: new Array(129).fill(1), frames: 1, clips: 1 });
    await assert.rejects(run(['retrieval', ...random, '--data', avClips, '--frontend', 'reference', '--audio-stats', paperStats, '--out', out]), /paper-stats\.json/);
    // With the paper's front end they do, and the results name the file.
    assert.equal(await run(['retrieval', ...random, '--data', avClips, '--audio-stats', paperStats, '--out', out]), 0);
    assert.equal(JSON.parse(readFileSync(out, 'utf8')).settings.normalisation, `statistics of ${paperStats}`);
    // Fine-tuning: the reference's .npz needs the reference's front end.
    writeLabelledTones(dir, { seconds: 1, fold: (i) => 1 + (i % 2), group: (name, i) => `${name}${i}` });
    await assert.rejects(
      run(['finetune', '--checkpoint', 'random', '--width', '0.125', '--model', 'audio-conv2d', '--data', dir, '--labels', path.join(dir, 'labels.csv'), '--audio-stats', path.join(dir, 'stats.npz'), '--out', path.join(dir, 'f.json')]),
      /stats\.npz: the reference's statistics are of its own log spectrogram; this evaluation uses the 'paper' front end \(pass --frontend reference\)/,
    );
  } finally {
    process.stderr.write = stderr;
    console.log = log;
    rmSync(dir, { recursive: true, force: true });
  }
});

T.setNumThreads(1);
