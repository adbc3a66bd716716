// Generates a small world (a handful of 2 s clips and one short long video) once, then checks that what
// was written decodes and matches its ground truth: streams, event times against the decoded audio, boxes
// against the decoded pixels, shots, labels, and determinism.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateWorld, groundTruthPath, type VideoGroundTruth, type WorldSummary } from '../../src/data/synth/index.js';
import { probeMedia } from '../../src/media/probe.js';
import { decodeAudio, decodeFrames, onsetFunction, strongestOnsets } from './analysis.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'avid-synth-'));
const small = { videos: 8, seconds: 2, classes: 8, longVideos: 1, longSeconds: 9, shotSeconds: [2, 3] as [number, number], seed: 11, concurrency: 2 };
let world: WorldSummary;

function truthOf(file: string): VideoGroundTruth {
  return JSON.parse(readFileSync(groundTruthPath(path.join(world.out, file)), 'utf8')) as VideoGroundTruth;
}

before(async () => {
  world = await generateWorld({ out: path.join(tmp, 'a'), ...small });
});

after(() => rmSync(tmp, { recursive: true, force: true }));

test('labels.csv, world.json and one ground-truth JSON per video', () => {
  const lines = readFileSync(world.labelsPath, 'utf8').trim().split('\n');
  assert.equal(lines[0], 'file,label,fold,group,class_name,split');
  assert.equal(lines.length, 1 + small.videos + small.longVideos);
  const worldJson = JSON.parse(readFileSync(world.worldPath, 'utf8'));
  assert.equal(worldJson.classes.length, 8);
  assert.deepEqual(worldJson.confusablePairs.map((p: { shares: string }) => p.shares), ['look', 'sound', 'look', 'sound']);
  for (const line of lines.slice(1)) {
    const [file, label, fold, group, className, split] = line.split(',');
    const truth = truthOf(file);
    assert.equal(truth.file, file);
    assert.equal(truth.class, Number(label));
    assert.equal(truth.className, className);
    assert.equal(worldJson.classes[truth.class].name, className);
    assert.ok(Number(fold) >= 1 && Number(fold) <= 5, `fold ${fold}`);
    assert.equal(split, Number(fold) === 5 ? 'test' : 'train');
    const long = file.startsWith('long/');
    assert.equal(group, long ? truth.longVideo : path.basename(file, '.mp4'));
    assert.equal(truth.fps, 16);
    assert.equal(truth.width, 128);
    assert.equal(truth.height, 128);
    assert.equal(truth.sampleRate, 24000);
    assert.equal(truth.durationSec, long ? 9 : 2);
    assert.equal(truth.boxes.length, truth.durationSec * truth.fps);
    assert.ok(truth.events.length >= 2, `${file} has ${truth.events.length} events`);
    for (const e of truth.events) assert.ok(Number.isInteger(Math.round(e * 16)) && Math.abs(e * 16 - Math.round(e * 16)) < 1e-9, `event ${e} is on a frame`);
    assert.equal(long, Array.isArray(truth.shots));
  }
  // Nothing but the videos, their JSON and the two index files.
  assert.deepEqual(readdirSync(world.out).sort(), ['clips', 'labels.csv', 'long', 'world.json']);
  assert.equal(readdirSync(path.join(world.out, 'clips')).length, 2 * small.videos);
});

test('every video decodes through the media probe as H.264 + AAC of the promised length', async () => {
  for (const video of world.videos) {
    const file = path.join(world.out, video.file);
    const info = await probeMedia(file);
    assert.equal(info.video?.codec, 'h264', file);
    assert.equal(info.audio?.codec, 'aac', file);
    assert.equal(info.video?.width, 128);
    assert.equal(info.video?.fps, 16);
    assert.equal(info.audio?.sampleRate, 24000);
    assert.ok(Math.abs(info.durationSec - video.durationSec) < 0.05, `${file}: ${info.durationSec} s`);
    const frames = decodeFrames(file);
    assert.equal(frames.length, video.durationSec * 16 * 128 * 128 * 3, `${file}: frame count`);
  }
});

test('the decoded audio has its onsets at the listed event times, and nowhere else', () => {
  for (const video of world.videos) {
    const file = path.join(world.out, video.file);
    const truth = truthOf(video.file);
    const audio = decodeAudio(file, truth.sampleRate);
    assert.ok(Math.abs(audio.length - truth.durationSec * truth.sampleRate) < 0.01 * truth.sampleRate, `${file}: ${audio.length} samples`);
    const onsets = onsetFunction(audio, truth.sampleRate);
    // Each event: a sharp energy rise (> 10 dB) within 10 ms of it.
    for (const e of truth.events) {
      let best = -Infinity;
      let bestTime = NaN;
      onsets.times.forEach((t, i) => {
        if (Math.abs(t - e) <= 0.03 && onsets.strength[i] > best) [best, bestTime] = [onsets.strength[i], t];
      });
      if (e + 0.01 > truth.durationSec) continue; // an onset in the last 10 ms has no window after it
      assert.ok(best > Math.log(10), `${file}: event at ${e} s rises only ${(10 * best / Math.LN10).toFixed(1)} dB`);
      assert.ok(Math.abs(bestTime - e) <= 0.01, `${file}: the onset of the event at ${e} s is at ${bestTime} s`);
    }
    // The strongest rises of the whole soundtrack are the events, all of them.
    const strongest = strongestOnsets(onsets, truth.events.length);
    for (const t of strongest) {
      assert.ok(truth.events.some((e) => Math.abs(e - t) <= 0.015), `${file}: an onset at ${t.toFixed(3)} s matches no event (${truth.events})`);
    }
  }
});

test("the sounding object's pixels lie inside its box", () => {
  for (const video of world.videos) {
    const file = path.join(world.out, video.file);
    const truth = truthOf(video.file);
    const frames = decodeFrames(file);
    const [r, g, b] = truth.scene.sounding.rgb;
    const size = truth.width;
    let checked = 0;
    for (let k = 0; k < truth.boxes.length; k++) {
      const t = k / truth.fps;
      // Skip frames where the object flashes toward white (its colour is then not its own).
      if (truth.events.some((e) => t >= e && t - e < 0.2)) continue;
      const [bx, by, bw, bh] = truth.boxes[k];
      let inside = 0;
      let outside = 0;
      for (let y = 0; y < size; y++) {
        for (let x = 0; x < size; x++) {
          const o = (k * size * size + y * size + x) * 3;
          const d = Math.hypot(frames[o] - r, frames[o + 1] - g, frames[o + 2] - b);
          if (d > 40) continue;
          // Pixel centres within the box grown by 1.5 px (chroma is subsampled 2x2 in the H.264 stream).
          if (x + 0.5 >= bx - 1.5 && x + 0.5 <= bx + bw + 1.5 && y + 0.5 >= by - 1.5 && y + 0.5 <= by + bh + 1.5) inside++;
          else outside++;
        }
      }
      assert.ok(outside <= Math.max(2, 0.01 * inside), `${file} frame ${k}: ${outside} object-coloured pixels outside the box ${truth.boxes[k]} (${inside} inside)`);
      const whollyInFrame = bx > 0 && by > 0 && bx + bw < size && by + bh < size;
      if (whollyInFrame) assert.ok(inside >= 0.3 * bw * bh, `${file} frame ${k}: only ${inside} object pixels in box ${truth.boxes[k]}`);
      checked++;
    }
    assert.ok(checked >= 8, `${file}: only ${checked} frames checked`);
  }
});

test('the sounding object flashes on the frames of its sound events', () => {
  for (const video of world.videos.filter((v) => !v.long)) {
    const file = path.join(world.out, video.file);
    const truth = truthOf(video.file);
    const frames = decodeFrames(file);
    const size = truth.width;
    // Whiteness in the box: the mean of min(R, G, B); a flash lifts every channel toward 255.
    const whiteness = (k: number): number => {
      const [bx, by, bw, bh] = truth.boxes[k];
      let sum = 0;
      let n = 0;
      for (let y = Math.floor(by); y < Math.min(size, Math.ceil(by + bh)); y++) {
        for (let x = Math.floor(bx); x < Math.min(size, Math.ceil(bx + bw)); x++) {
          const o = (k * size * size + y * size + x) * 3;
          sum += Math.min(frames[o], frames[o + 1], frames[o + 2]);
          n++;
        }
      }
      return sum / n;
    };
    const eventFrames = truth.events.map((e) => Math.round(e * truth.fps));
    for (const k of eventFrames) {
      if (eventFrames.some((j) => j < k && k - j <= 3)) continue; // the frame before still glows from an earlier event
      const rise = whiteness(k) - whiteness(k - 1);
      assert.ok(rise > 10, `${file}: at the event frame ${k} the object brightens by only ${rise.toFixed(1)}`);
    }
  }
});

test('a long video is several shots of one scene, and its cuts change the picture', () => {
  const long = world.videos.find((v) => v.long)!;
  const truth = truthOf(long.file);
  assert.ok(truth.shots!.length >= 3, `${truth.shots!.length} shots`);
  assert.equal(truth.shots![0].startSec, 0);
  assert.equal(truth.shots![truth.shots!.length - 1].endSec, truth.durationSec);
  const frames = decodeFrames(path.join(world.out, long.file));
  const frameBytes = 128 * 128 * 3;
  const meanAbsDiff = (a: number, b: number): number => {
    let sum = 0;
    for (let i = 0; i < frameBytes; i++) sum += Math.abs(frames[a * frameBytes + i] - frames[b * frameBytes + i]);
    return sum / frameBytes;
  };
  for (const shot of truth.shots!.slice(1)) {
    const cut = Math.round(shot.startSec * truth.fps);
    const across = meanAbsDiff(cut - 1, cut);
    const within = meanAbsDiff(cut - 2, cut - 1);
    assert.ok(across > within + 1, `the cut at frame ${cut} changes the picture by ${across.toFixed(2)}, frames within a shot by ${within.toFixed(2)}`);
  }
});

test('the same seed gives the same files (whatever the concurrency); another seed does not', async () => {
  const options = { videos: 3, seconds: 1, longVideos: 0, classes: 3, concurrency: 2 };
  const a = await generateWorld({ out: path.join(tmp, 'd1'), seed: 5, ...options });
  const b = await generateWorld({ out: path.join(tmp, 'd2'), seed: 5, ...options, concurrency: 1 });
  const c = await generateWorld({ out: path.join(tmp, 'd3'), seed: 6, ...options });
  for (const v of a.videos) {
    for (const name of [v.file, groundTruthPath(v.file)]) {
      assert.ok(readFileSync(path.join(a.out, name)).equals(readFileSync(path.join(b.out, name))), `${name} differs between two runs`);
    }
    assert.ok(!decodeFrames(path.join(a.out, v.file)).equals(decodeFrames(path.join(c.out, v.file))), `${v.file} is the same for seeds 5 and 6`);
  }
  assert.equal(readFileSync(a.labelsPath, 'utf8'), readFileSync(b.labelsPath, 'utf8'));
  assert.equal(readFileSync(a.worldPath, 'utf8'), readFileSync(b.worldPath, 'utf8'), 'world.json does not depend on the concurrency');
});

test('refuses an output directory that holds something else, and replaces an earlier world', async () => {
  const foreign = path.join(tmp, 'foreign');
  mkdirSync(foreign);
  writeFileSync(path.join(foreign, 'thesis.tex'), 'precious');
  await assert.rejects(generateWorld({ out: foreign, videos: 1, longVideos: 0 }), /not empty.*thesis\.tex.*refusing/);
  assert.equal(readFileSync(path.join(foreign, 'thesis.tex'), 'utf8'), 'precious');
  const again = await generateWorld({ out: path.join(tmp, 'd1'), videos: 2, seconds: 1, longVideos: 0, classes: 2, seed: 1 });
  assert.equal(readdirSync(path.join(again.out, 'clips')).length, 4, 'the earlier world (3 clips) is gone');
});
