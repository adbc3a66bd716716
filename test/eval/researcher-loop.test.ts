// The researcher's loop from the command line's point of view: synth → pretrain (tiny) → eval-av into the
// run → report, whose probe section then shows the run's numbers instead of "not available".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as T from '../../src/tensor/index.js';
import { generateWorld } from '../../src/data/synth/index.js';
import { loadConfig } from '../../src/config/load.js';
import { pretrain } from '../../src/train/pretrain.js';
import { run as evalAV } from '../../src/cli/commands/eval-av.js';
import { buildReport } from '../../src/report/index.js';
import { run as evalSync } from '../../src/cli/commands/eval-sync.js';
import { run as localize } from '../../src/cli/commands/localize.js';
import { run as cmaDiagnose } from '../../src/cli/commands/cma-diagnose.js';
import { readLabelledVideos } from '../../src/eval/av-evaluation.js';
import { evaluationCropBox } from '../../src/media/video-transforms.js';

T.setNumThreads(2);

test('synth → pretrain → eval-av, eval-sync, localize, cma-diagnose → report: the evaluations land in the run', async (t) => {
  if (spawnSync('ffmpeg', ['-version']).status !== 0) return t.skip('ffmpeg is not installed');
  const dir = mkdtempSync(path.join(tmpdir(), 'avid-loop-'));
  try {
    const world = path.join(dir, 'world');
    await generateWorld({ out: world, videos: 16, longVideos: 0, seconds: 3, size: 32, seed: 0 });
    const labels = path.join(world, 'labels.csv');
    const config = loadConfig('configs/cpu/cross-avid.yaml', [
      `data.source=${world}`, `data.labels=${labels}`, `runsDir=${dir}`, 'name=tiny', 'data.clipsPerVideo=1',
      'video={frames: 4, fps: 8, size: 32}', 'audio.seconds=1', 'model.width=0.125', 'model.embeddingDim=16',
      'objective.negatives=8', 'train.epochs=1', 'train.batchSize=8', 'train.logEvery=1',
    ]);
    const trained = await pretrain(config, { progress: null });
    const runDir = path.join(dir, 'tiny');
    assert.equal(trained.checkpoint, path.join(runDir, 'checkpoints', 'last.safetensors'));
    const before = readFileSync(await buildReport(runDir), 'utf8');
    assert.match(before, /no <code>results\/probe\.json<\/code>; written by <code>avid eval-av --checkpoint &lt;run dir&gt;/, 'the missing section names its command');
    const log = console.log;
    console.log = () => {};
    try {
      assert.equal(await evalAV(['--checkpoint', runDir, '--labels', labels, '--clips', '1']), 0);
      await assert.rejects(evalAV(['--checkpoint', `random:${runDir}`, '--labels', labels]), /--out is required: random:.* is not a run directory/);
    } finally {
      console.log = log;
    }
    const testVideos = (await readLabelledVideos(labels)).filter((v) => v.split === 'test').slice(0, 2).map((v) => v.path);
    console.log = () => {};
    try {
      assert.equal(await evalSync(['--checkpoint', trained.checkpoint, '--labels', labels, '--pairs', '1', '--min-offset', '0.5']), 0);
      assert.equal(await localize(['--checkpoint', runDir, ...testVideos]), 0);
      assert.equal(await cmaDiagnose([runDir, '--k', '2', '--no-probe']), 0);
    } finally {
      console.log = log;
    }
    assert.equal(JSON.parse(readFileSync(path.join(runDir, 'results', 'sync.json'), 'utf8'))[0].rows[0][0], 'easy (another video)');
    const localization = JSON.parse(readFileSync(path.join(runDir, 'results', 'localization.json'), 'utf8'));
    assert.ok(Number.isFinite(localization.score.random));
    // Every rendered frame carries the sounding object's box from the video's ground truth, in fractions of the
    // evaluation crop the network saw (cut at its edges), or says that the object is outside that crop.
    assert.ok(localization.frames.length > 0);
    const truths = testVideos.map((v) => JSON.parse(readFileSync(v.replace(/\.mp4$/, '.json'), 'utf8')) as { width: number; height: number; boxes: number[][] });
    const inCrop = (b: number[], W: number, H: number): number[] | null => {
      const c = evaluationCropBox(W, H, 1, 1);
      const [x0, y0] = [Math.max(b[0], c.x), Math.max(b[1], c.y)];
      const [x1, y1] = [Math.min(b[0] + b[2], c.x + c.width), Math.min(b[1] + b[3], c.y + c.height)];
      return x1 > x0 && y1 > y0 ? [(x0 - c.x) / c.width, (y0 - c.y) / c.height, (x1 - x0) / c.width, (y1 - y0) / c.height] : null;
    };
    for (const frame of localization.frames as { image: string; box?: number[]; boxOutsideCrop?: true }[]) {
      if (frame.boxOutsideCrop) {
        assert.equal(frame.box, undefined, `${frame.image}: no box drawn for an object outside the crop`);
        assert.ok(truths.some((t) => t.boxes.some((b) => inCrop(b, t.width, t.height) === null)), `${frame.image}: some ground-truth box lies outside the crop`);
        continue;
      }
      assert.equal(frame.box?.length, 4, `${frame.image} has a box`);
      const truth = truths.some((t) => t.boxes.some((b) => inCrop(b, t.width, t.height)?.every((v, i) => Math.abs(v - frame.box![i]) < 1e-9)));
      assert.ok(truth, `${frame.image}: box ${frame.box} is one of the ground truth's boxes, in fractions of the evaluation crop`);
    }
    assert.ok(existsSync(path.join(runDir, 'results', 'cma-diagnostics.json')));
    assert.ok(existsSync(path.join(runDir, 'results', 'probe.json')));
    const probe = JSON.parse(readFileSync(path.join(runDir, 'results', 'probe.json'), 'utf8'));
    assert.ok(Number.isFinite(probe.blocks['video conv5x'].pretrained) && Number.isFinite(probe.blocks['video conv5x'].random));
    // Confusion counts of each encoder's chosen block, for the trained model and random init: one count per
    // test video, the diagonal giving the block's video@1.
    const labelled = await readLabelledVideos(labels);
    const testCount = labelled.filter((v) => v.split === 'test').length;
    assert.equal(probe.samples, testCount);
    assert.equal(probe.classes.length, new Set(labelled.map((v) => v.label)).size);
    assert.deepEqual(probe.confusion.map((c: { model: string }) => c.model), ['pretrained', 'random', 'pretrained', 'random']);
    for (const c of probe.confusion as { model: string; block: string; counts: number[][] }[]) {
      assert.equal(c.counts.length, probe.classes.length);
      assert.equal(c.counts.flat().reduce((a, b) => a + b, 0), testCount, `${c.model} ${c.block}: counts sum to the test videos`);
      const correct = c.counts.reduce((a, row, k) => a + row[k], 0);
      assert.equal(correct / testCount, probe.blocks[c.block][c.model], `${c.model} ${c.block}: the diagonal is the accuracy`);
    }
    const after = readFileSync(await buildReport(runDir), 'utf8');
    assert.match(after, /<section id="probe"[^>]*data-status="ok"/);
    assert.match(after, /<table class="per-class">/, 'the report shows per-class accuracy');
    assert.match(after, /<section id="retrieval"[^>]*data-status="ok"/);
    assert.match(after, /<section id="localization"[^>]*data-status="ok"/);
    const boxed = (localization.frames as { box?: number[] }[]).filter((f) => f.box).length;
    assert.ok(boxed > 0);
    assert.equal((after.match(/<svg class="gt-box"/g) ?? []).length, boxed, 'the report draws the box on every frame that has one');
    assert.match(after, /Audio-visual synchronisation on labels\.csv/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
