// Both analyses end to end on a tiny run: a 16-video synthetic world, 2 epochs of a narrow Cross-AVID with a
// checkpoint kept every epoch. ablate-epochs through the CLI (a subprocess) with the SVM protocol on generated
// tones, then through the library (resume reuses every evaluation; other settings are refused); ablate-data-size
// through the CLI with eval-av on the world's labels, then through the library (resume trains and evaluates
// nothing; the other --equal and other settings are refused).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync, statSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as T from '../../src/tensor/index.js';
import { generateWorld } from '../../src/data/synth/index.js';
import { loadConfig } from '../../src/config/load.js';
import { pretrain } from '../../src/train/pretrain.js';
import { readManifest } from '../../src/data/manifest.js';
import * as avid from '../../src/index.js';
import { writeLabelledTones } from '../eval/tones.js';

T.setNumThreads(2);

const root = path.resolve(new URL('../..', import.meta.url).pathname);

function avidCli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [path.join(root, 'bin', 'avid.mjs'), ...args], { cwd: root, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function tinyConfig(world: string, runsDir: string, name: string, extra: string[] = []) {
  return loadConfig(path.join(root, 'configs/cpu/cross-avid.yaml'), [
    `data.source=${world}`, `data.labels=${path.join(world, 'labels.csv')}`, `runsDir=${runsDir}`, `name=${name}`, 'data.clipsPerVideo=1',
    'video={frames: 4, fps: 8, size: 32}', 'audio.seconds=1', 'model.width=0.125', 'model.embeddingDim=16',
    'objective.negatives=8', 'train.epochs=2', 'train.batchSize=4', 'train.logEvery=1', ...extra,
  ]);
}

const quiet = () => {};

test('ablate-epochs and ablate-data-size end to end: CLI, library, resume and refusal', async (t) => {
  if (spawnSync('ffmpeg', ['-version']).status !== 0) return t.skip('ffmpeg is not installed');
  const dir = mkdtempSync(path.join(tmpdir(), 'avid-analyses-'));
  try {
    const world = path.join(dir, 'world');
    await generateWorld({ out: world, videos: 16, longVideos: 0, seconds: 3, size: 32, seed: 0 });
    const labels = path.join(world, 'labels.csv');
    const tones = path.join(dir, 'tones');
    mkdirSync(tones);
    writeLabelledTones(tones, { seconds: 2, fold: (i) => 1 + (i % 2), group: (name, i) => `${name}${i}` });

    // A run that keeps a checkpoint every epoch: epochs 0 (initial weights), 1, 2.
    await pretrain(tinyConfig(world, dir, 'tiny', ['train.keepCheckpoints={every: 1}']), { progress: null });
    const runDir = path.join(dir, 'tiny');
    const svmFlags = ['--protocol', 'svm', '--data', tones, '--labels', path.join(tones, 'labels.csv'), '--clips', '2', '--c-grid', '0.1,1', '--cache', path.join(dir, 'cache')];

    const cli = avidCli(['ablate-epochs', runDir, ...svmFlags]);
    assert.equal(cli.status, 0, cli.stderr);
    assert.match(cli.stderr, /3 kept checkpoint\(s\) \(epochs 0, 1, 2\) \+ random init; 0 evaluation\(s\) reused, 4 to run/);
    assert.match(cli.stderr, /ablate-epochs: 1\/4 stages done \(random init, .*\); ETA /, 'progress with an ETA after each evaluation');
    assert.match(cli.stdout, /linear SVM on conv5x audio features, tones/);
    const byEpoch = JSON.parse(readFileSync(path.join(runDir, 'results', 'by-epoch.json'), 'utf8'));
    assert.deepEqual(byEpoch.epochs.map((e: { epoch: number }) => e.epoch), [0, 1, 2]);
    for (const e of [...byEpoch.epochs, byEpoch.randomInit]) {
      assert.ok(e.accuracy >= 0 && e.accuracy <= 1, `accuracy ${e.accuracy}`);
      assert.equal(e.n, 12, 'every tone is predicted once');
      assert.ok(Math.abs(e.se - Math.sqrt((e.accuracy * (1 - e.accuracy)) / 12)) < 1e-12, 'binomial standard error');
      assert.ok(Math.abs(e.chance - 1 / 3) < 1e-12, 'three balanced classes');
      assert.deepEqual(e.settings, byEpoch.settings, 'the settings are stored with each result');
    }
    assert.equal(byEpoch.randomInit.input, `random:${runDir}`);
    assert.equal(byEpoch.epochs[1].checkpoint, path.join('checkpoints', 'epoch-1.safetensors'));
    const report = readFileSync(path.join(runDir, 'report.html'), 'utf8');
    assert.match(report, /<section id="by-epoch"[^>]*data-status="ok"/);
    assert.match(report, /class="se-band"/);
    assert.match(report, /random init/);

    // Resume through the library: every evaluation is reused (nothing is evaluated again).
    const lines: string[] = [];
    const settings = avid.analyses.protocolSettings({ protocol: 'svm', data: tones, labels: path.join(tones, 'labels.csv'), clips: 2, svm: { cGrid: [0.1, 1] } });
    const resumed = await avid.analyses.runEpochAnalysis(runDir, settings, { cacheDir: path.join(dir, 'cache'), progress: (l) => lines.push(l), log: quiet });
    assert.match(lines.join('\n'), /4 evaluation\(s\) reused, 0 to run/);
    assert.deepEqual(resumed.epochs.map((e) => e.seconds), byEpoch.epochs.map((e: { seconds: number }) => e.seconds));
    // --epochs picks kept checkpoints; one that was not kept is named.
    const picked = await avid.analyses.runEpochAnalysis(runDir, settings, { epochs: [1], randomInit: false, cacheDir: path.join(dir, 'cache'), progress: quiet, log: quiet });
    assert.deepEqual(picked.epochs.map((e) => e.epoch), [0, 1, 2], 'the stored results of the other epochs stay');
    assert.ok(picked.randomInit, 'without the random init, its stored result stays');
    await assert.rejects(avid.analyses.runEpochAnalysis(runDir, settings, { epochs: [5], progress: quiet }), /no kept checkpoint for epoch\(s\) 5 \(kept: 0, 1, 2\)/);
    // Other settings are refused, naming what differs.
    const other = avid.analyses.protocolSettings({ protocol: 'svm', data: tones, labels: path.join(tones, 'labels.csv'), clips: 3, svm: { cGrid: [0.1, 1] } });
    await assert.rejects(avid.analyses.runEpochAnalysis(runDir, other, { log: quiet, progress: quiet }), /by-epoch\.json holds results measured with other evaluation settings \(clipsPerSample: 2 ≠ 3\)/);
    // A run without kept checkpoints says how to get them.
    await pretrain(tinyConfig(world, dir, 'plain', ['train.epochs=1']), { progress: null });
    await assert.rejects(avid.analyses.runEpochAnalysis(path.join(dir, 'plain'), settings, { progress: quiet }), /no kept checkpoints .*train\.keepCheckpoints/);

    // ablate-data-size through the CLI: fractions 1/2 and 1 of the 16 videos, eval-av on the world's labels.
    // The resolved config as the file to pass (JSON is YAML).
    const config = path.join(dir, 'sizes.yaml');
    writeFileSync(config, JSON.stringify(tinyConfig(world, dir, 'sizes')));
    const evalAvFlags = ['--protocol', 'eval-av', '--labels', labels, '--clips', '1'];
    const out = path.join(dir, 'sizes-data-size');
    const sized = avidCli(['ablate-data-size', '--config', config, '--fractions', '0.5,1', ...evalAvFlags]);
    assert.equal(sized.status, 0, sized.stderr);
    assert.match(sized.stdout, /equal epochs: every run trains 2 epochs over its subset/);
    assert.match(sized.stderr, /ablate-data-size: \d\/5 stages done .*ETA/);
    const ablation = JSON.parse(readFileSync(path.join(out, 'ablation.json'), 'utf8'));
    assert.equal(ablation.equal, 'epochs');
    assert.deepEqual(ablation.runs.map((r: { fraction: number; videos: number; epochs: number }) => [r.fraction, r.videos, r.epochs]), [[0.5, 8, 2], [1, 16, 2]]);
    assert.deepEqual(ablation.runs.map((r: { updates: number }) => r.updates), [4, 8], 'equal epochs: half the videos, half the updates');
    assert.ok(ablation.randomInit && Number.isFinite(ablation.randomInit.accuracy));
    assert.equal(ablation.summary.length, 2);
    // The subsets are nested: the half lies inside the whole.
    const half = readManifest(path.join(out, 'subsets', 'f0.5-r0.jsonl')).map((e) => e.path);
    const whole = new Set(readManifest(path.join(out, 'subsets', 'f1-r0.jsonl')).map((e) => e.path));
    assert.equal(half.length, 8);
    assert.ok(half.every((p) => whole.has(p)));
    const page = readFileSync(path.join(out, 'ablation.html'), 'utf8');
    assert.match(page, /Budget: equal epochs/);
    assert.match(page, /training videos \(log scale\)/);

    // Resume through the library: nothing is trained or evaluated again.
    const before = statSync(path.join(out, 'f1-r0', 'checkpoints', 'last.safetensors')).mtimeMs;
    const sizeLines: string[] = [];
    const base = tinyConfig(world, dir, 'sizes');
    const evalAv = avid.analyses.protocolSettings({ protocol: 'eval-av', labels, clips: 1 });
    const again = await avid.analyses.runDataSizeAnalysis(base, evalAv, { fractions: [0.5, 1], equal: 'epochs', progress: (l) => sizeLines.push(l), trainProgress: null });
    assert.match(sizeLines.join('\n'), /2 run\(s\), 2 reused; 0 to train/);
    assert.equal(statSync(path.join(out, 'f1-r0', 'checkpoints', 'last.safetensors')).mtimeMs, before);
    assert.deepEqual(again.results.runs.map((r) => r.accuracy), ablation.runs.map((r: { accuracy: number }) => r.accuracy));
    await assert.rejects(avid.analyses.runDataSizeAnalysis(base, evalAv, { fractions: [0.5, 1], equal: 'updates', progress: quiet }), /measured with equal epochs, not equal updates/);
    await assert.rejects(
      avid.analyses.runDataSizeAnalysis(base, avid.analyses.protocolSettings({ protocol: 'eval-av', labels, clips: 1, block: 'conv4x' }), { fractions: [0.5, 1], equal: 'epochs', progress: quiet }),
      /ablation\.json holds results measured with other evaluation settings \(block: "conv5x" ≠ "conv4x"\)/,
    );
    assert.ok(existsSync(path.join(out, 'manifest.jsonl')), 'the probed manifest is kept for resumes');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
