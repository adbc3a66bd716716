// The parts of the synthetic world that need no ffmpeg: the class catalogue and its confusable pairs, the
// rhythms, the motions, the plan (classes, folds, splits), the options, and the command line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  buildClassCatalogue, deriveSeed, MAX_CLASSES, MIN_CLASSES, MOTIONS, planWorld, resolveWorldOptions, RHYTHMS, Rng,
  sampleScene, soundingBoxes, WORLD_DEFAULTS,
} from '../../src/data/synth/index.js';
import { eventTimes, MIN_EVENT_GAP_SEC } from '../../src/data/synth/rhythm.js';
import { run as runSynth } from '../../src/cli/commands/synth.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

test('every catalogue size has distinct classes, and each pair shares exactly what it claims', () => {
  for (let n = MIN_CLASSES; n <= MAX_CLASSES; n++) {
    const { classes, confusablePairs } = buildClassCatalogue(n);
    assert.equal(classes.length, n);
    assert.equal(new Set(classes.map((c) => c.name)).size, n, `${n} classes: duplicate names`);
    assert.equal(confusablePairs.length, Math.floor(n / 2));
    for (const { classes: [a, b], shares } of confusablePairs) {
      const [x, y] = [classes[a], classes[b]];
      assert.equal(x.audio.rhythm, y.audio.rhythm, 'pairs share their rhythm, so event timing does not tell them apart');
      if (shares === 'look') {
        assert.deepEqual(x.visual, y.visual);
        assert.notEqual(x.audio.timbre, y.audio.timbre);
        assert.notEqual(x.audio.pitchBand.name, y.audio.pitchBand.name);
      } else {
        assert.deepEqual(x.audio, y.audio);
        assert.notEqual(x.visual.shape, y.visual.shape);
        assert.notEqual(x.visual.colour.name, y.visual.colour.name);
        assert.notEqual(x.visual.motion, y.visual.motion);
      }
    }
  }
  const eight = buildClassCatalogue(8);
  assert.deepEqual(eight.confusablePairs.map((p) => [p.classes, p.shares]), [[[0, 1], 'look'], [[2, 3], 'sound'], [[4, 5], 'look'], [[6, 7], 'sound']]);
  assert.throws(() => buildClassCatalogue(1), /classes must be an integer in \[2, 24\], got 1/);
  assert.throws(() => buildClassCatalogue(25), /got 25/);
});

test('events fall on frames, keep their minimum gap, and stay inside the clip', () => {
  for (const rhythm of RHYTHMS) {
    for (let seed = 0; seed < 20; seed++) {
      const fps = seed % 2 ? 16 : 25;
      const events = eventTimes(rhythm, 0.8 + seed / 40, 3, fps, new Rng(seed));
      assert.ok(events.length >= 3, `${rhythm}: ${events.length} events in 3 s`);
      events.forEach((e, i) => {
        assert.ok(Math.abs(e * fps - Math.round(e * fps)) < 1e-9, `${rhythm}: ${e} is not on a frame`);
        assert.ok(e > 0 && e < 3);
        if (i > 0) assert.ok(e - events[i - 1] >= MIN_EVENT_GAP_SEC - 1e-9, `${rhythm}: gap ${e - events[i - 1]}`);
      });
      assert.deepEqual(eventTimes(rhythm, 0.8 + seed / 40, 3, fps, new Rng(seed)), events, 'same seed, same events');
    }
  }
});

test('sounding objects of every class stay inside the frame in short clips', () => {
  const { classes } = buildClassCatalogue(8);
  const motionsSeen = new Set<string>();
  for (const cls of classes) {
    for (let i = 0; i < 12; i++) {
      const scene = sampleScene(cls, deriveSeed(3, cls.id, i), { durationSec: 3, fps: 16, size: 96, sampleRate: 24000 });
      motionsSeen.add(scene.sounding.motion.pattern);
      for (const [x, y, w, h] of soundingBoxes(scene)) {
        // Whole boxes: a clipped box would be narrower than the object's smallest possible extent.
        assert.ok(x >= 0 && y >= 0 && x + w <= 96 + 1e-6 && y + h <= 96 + 1e-6);
        assert.ok(w >= 0.09 * 96 && h >= 0.09 * 96 * 0.75, `box ${[x, y, w, h]} of class ${cls.id} is cut by the frame edge`);
      }
    }
  }
  assert.deepEqual([...motionsSeen].sort(), [...MOTIONS].sort());
});

test('the plan balances classes, stratifies folds by class, and keeps a long video in one group', () => {
  const o = resolveWorldOptions({ out: '/nowhere', videos: 100, classes: 5, longVideos: 7 });
  const plan = planWorld(o);
  const clips = plan.filter((v) => !v.long);
  const longs = plan.filter((v) => v.long);
  assert.equal(clips.length, 100);
  assert.equal(longs.length, 7);
  for (let c = 0; c < 5; c++) {
    const members = clips.filter((v) => v.classId === c);
    assert.equal(members.length, 20);
    for (let fold = 1; fold <= 5; fold++) assert.equal(members.filter((v) => v.fold === fold).length, 4, `class ${c} fold ${fold}`);
  }
  assert.equal(clips.filter((v) => v.split === 'test').length, 20);
  assert.ok(plan.every((v) => (v.split === 'test') === (v.fold === 5)));
  assert.equal(new Set(longs.map((v) => v.group)).size, 7);
  assert.ok(longs.every((v) => v.file === `long/${v.group}.mp4` && v.durationSec === 60));
  assert.ok(clips.every((v) => v.file === `clips/${v.group}.mp4`));
  assert.deepEqual(planWorld(o), plan, 'the plan is a function of the options');
  const tiny = planWorld(resolveWorldOptions({ out: '/nowhere', videos: 8, classes: 8, longVideos: 0 }));
  assert.deepEqual(tiny.map((v) => v.fold).sort(), [1, 1, 2, 2, 3, 3, 4, 5], 'one clip per class still fills every fold');
  assert.notDeepEqual(planWorld({ ...o, seed: 1 }).map((v) => v.classId), plan.map((v) => v.classId));
});

test('options: defaults, and errors that name the option', () => {
  const o = resolveWorldOptions({ out: 'x' });
  assert.equal(o.videos, WORLD_DEFAULTS.videos);
  assert.equal(o.size, 128);
  assert.equal(o.fps, 16);
  assert.equal(o.sampleRate, 24000);
  assert.equal(resolveWorldOptions({ out: 'x', videos: undefined }).videos, 240, 'undefined means default');
  assert.throws(() => resolveWorldOptions({ out: 'x', size: 101 }), /size: must be even/);
  assert.throws(() => resolveWorldOptions({ out: 'x', sampleRate: 12345 }), /sampleRate: must be one of .*48000, got 12345/);
  assert.throws(() => resolveWorldOptions({ out: 'x', classes: 30 }), /classes: must be an integer in \[2, 24\], got 30/);
  assert.throws(() => resolveWorldOptions({ out: 'x', seconds: 0 }), /seconds: must be a number/);
  assert.throws(() => resolveWorldOptions({ out: 'x', shotSeconds: [5, 2] }), /shotSeconds/);
  assert.throws(() => resolveWorldOptions({ out: 'x', videos: 0, longVideos: 0 }), /nothing to generate/);
  assert.throws(() => resolveWorldOptions({ out: '' }), /out: an output directory is required/);
});

test('deriveSeed and Rng are deterministic and keep purposes apart', () => {
  assert.equal(deriveSeed(1, 'clip', 2), deriveSeed(1, 'clip', 2));
  const seeds = new Set([deriveSeed(1, 'clip', 2), deriveSeed(1, 'clip', 3), deriveSeed(2, 'clip', 2), deriveSeed(1, 'long', 2), deriveSeed(1, 'clip2')]);
  assert.equal(seeds.size, 5);
  const a = new Rng(9);
  const b = new Rng(9);
  const draws = Array.from({ length: 1000 }, () => a.next());
  assert.deepEqual(Array.from({ length: 1000 }, () => b.next()), draws);
  const mean = draws.reduce((s, v) => s + v, 0) / draws.length;
  assert.ok(Math.abs(mean - 0.5) < 0.03 && draws.every((v) => v >= 0 && v < 1));
});

test('avid synth: --help, a missing --out, a bad number, and a small run through the binary', async () => {
  const log = console.log;
  const error = console.error;
  const printed: string[] = [];
  console.log = (s: string) => printed.push(s);
  console.error = (s: string) => printed.push(s);
  try {
    assert.equal(await runSynth(['--help']), 0);
    assert.match(printed.join('\n'), /--long-videos <n>/);
    assert.equal(await runSynth([]), 2);
    assert.match(printed.join('\n'), /--out is required/);
  } finally {
    console.log = log;
    console.error = error;
  }
  await assert.rejects(runSynth(['--out', '/tmp/never', '--videos', 'many']), /--videos: expected a number, got 'many'/);

  const out = mkdtempSync(path.join(os.tmpdir(), 'avid-synth-cli-'));
  try {
    const stdout = execFileSync(process.execPath, ['bin/avid.mjs', 'synth', '--out', out, '--videos', '3', '--seconds', '1', '--long-videos', '0', '--classes', '3', '--size', '64'], {
      cwd: repoRoot, encoding: 'utf8',
    });
    assert.match(stdout, /wrote 3 clips and 0 long videos of 3 classes/);
    assert.equal(readFileSync(path.join(out, 'labels.csv'), 'utf8').trim().split('\n').length, 4);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
