// `avid prepare` on three real videos (the portrait one, one without audio, the AVI with MP3 audio), a small
// generated one (never upscaled) and a garbage file: sizes, keyframe gaps, mono 24 kHz audio, rejects, the
// manifest that pretraining reads, resuming, and the cleaning of an interrupted run's temporaries.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { prepareCollection, preparedSize, preparedNames, PREPARE_SETTINGS_FILE, type PrepareResult } from '../../src/data/prepare.js';
import { readManifest, readRejects } from '../../src/data/manifest.js';
import { readLabelsCsv } from '../../src/data/labels.js';
import { parseConfig } from '../../src/config/index.js';
import { loadTrainingManifest } from '../../src/train/pretrain.js';
import { avClip, generateVideo, makeTempDir, skipWithoutAvClips } from '../media/fixtures.js';

const realFiles = ['skateboarding_dog.mp4', 'birthday.mp4', 'mmaction_test.avi'];
let temp: ReturnType<typeof makeTempDir>;
let inputDir: string;
let outDir: string;
let first: PrepareResult;

function ffprobeJson(file: string, args: string[]): any {
  return JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-of', 'json', ...args, file], { encoding: 'utf8' }));
}

function videoSize(file: string): [number, number] {
  const s = ffprobeJson(file, ['-select_streams', 'v:0', '-show_entries', 'stream=width,height']).streams[0];
  return [s.width, s.height];
}

/** Times of the keyframes only (the decoder skips every other frame), and the stream's duration. */
function keyframeTimes(file: string): number[] {
  const frames = ffprobeJson(file, ['-select_streams', 'v:0', '-skip_frame', 'nokey', '-show_entries', 'frame=pts_time']).frames as { pts_time: string }[];
  return frames.map((f) => Number(f.pts_time));
}

before(async () => {
  if (skipWithoutAvClips) return;
  temp = makeTempDir('avid-prepare-');
  inputDir = path.join(temp.dir, 'videos');
  outDir = path.join(temp.dir, 'prepared');
  mkdirSync(path.join(inputDir, 'small'), { recursive: true });
  for (const name of realFiles) copyFileSync(avClip(name), path.join(inputDir, name));
  generateVideo(path.join(inputDir, 'small', 'tiny.mp4'), { seconds: 2.5, width: 96, height: 72, fps: 10 });
  writeFileSync(path.join(inputDir, 'garbage.mp4'), 'not a video at all, just some words saved with the wrong name\n');
  const labels = path.join(temp.dir, 'labels.csv');
  writeFileSync(labels, 'file,label,fold\nskateboarding_dog.mp4,dog,1\nbirthday.mp4,party,2\nmmaction_test.avi,action,1\nsmall/tiny.mp4,pattern,2\n');
  first = await prepareCollection(inputDir, { outDir, workers: 2, labels });
});

after(() => temp?.cleanup());

test('preparedSize: short side brought down to the target, aspect kept, even sizes, never upscaled', () => {
  assert.deepEqual(preparedSize(576, 1024, 128), { width: 128, height: 228 });
  assert.deepEqual(preparedSize(854, 480, 128), { width: 228, height: 128 });
  assert.deepEqual(preparedSize(320, 240, 256), { width: 320, height: 240 }, 'short side 240 < 256: kept');
  assert.deepEqual(preparedSize(97, 73, 128), { width: 96, height: 72 }, 'odd sizes made even by cropping one pixel, not by scaling up');
});

test('preparedNames: .mp4 names kept, collisions resolved without sharing a name', () => {
  assert.deepEqual(preparedNames(['a.avi', 'a.mp4', 'b.mkv', 'sub/c.webm']), ['a.avi.mp4', 'a.mp4', 'b.mp4', 'sub/c.mp4']);
  // Two files of a manifest from different folders, both reduced to their base name.
  assert.deepEqual(preparedNames(['x.mp4', 'x.mp4', 'x.MP4']), ['x.mp4', 'x-2.mp4', 'x-3.mp4']);
  assert.deepEqual(preparedNames(['y.avi', 'y.mov']), ['y.mp4', 'y.mov.mp4']);
});

test('short side 128 (portrait too), small videos not upscaled', { skip: skipWithoutAvClips }, () => {
  assert.deepEqual(videoSize(path.join(outDir, 'skateboarding_dog.mp4')), [128, 228]);
  assert.deepEqual(videoSize(path.join(outDir, 'birthday.mp4')), [228, 128]); // 596x336
  assert.deepEqual(videoSize(path.join(outDir, 'mmaction_test.mp4')), [170, 128]); // 320x240, AVI -> MP4
  assert.deepEqual(videoSize(path.join(outDir, 'small', 'tiny.mp4')), [96, 72], 'the folder layout is kept and 96x72 is not upscaled');
  const codec = ffprobeJson(path.join(outDir, 'mmaction_test.mp4'), ['-select_streams', 'v:0', '-show_entries', 'stream=codec_name,pix_fmt']).streams[0];
  assert.deepEqual([codec.codec_name, codec.pix_fmt], ['h264', 'yuv420p']);
});

test('a keyframe at least every 0.5 s', { skip: skipWithoutAvClips }, () => {
  for (const name of ['skateboarding_dog.mp4', 'birthday.mp4', 'mmaction_test.mp4', 'small/tiny.mp4']) {
    const file = path.join(outDir, name);
    const keys = keyframeTimes(file);
    const duration = Number(ffprobeJson(file, ['-show_entries', 'format=duration']).format.duration);
    assert.ok(keys.length >= Math.floor(duration / 0.5), `${name}: ${keys.length} keyframes in ${duration} s`);
    assert.ok(keys[0] <= 1e-3, `${name}: starts with a keyframe`);
    const gaps = keys.slice(1).map((t, i) => t - keys[i]);
    assert.ok(Math.max(...gaps) <= 0.5 + 1e-3, `${name}: largest keyframe gap ${Math.max(...gaps).toFixed(3)} s`);
    assert.ok(duration - keys[keys.length - 1] <= 0.5 + 0.1, `${name}: the last keyframe is near the end`);
  }
});

test('audio: mono AAC at 24 kHz; the file without audio is kept video-only and said so', { skip: skipWithoutAvClips }, () => {
  for (const name of ['skateboarding_dog.mp4', 'mmaction_test.mp4', 'small/tiny.mp4']) {
    const a = ffprobeJson(path.join(outDir, name), ['-select_streams', 'a', '-show_entries', 'stream=codec_name,channels,sample_rate']).streams;
    assert.equal(a.length, 1, name);
    assert.deepEqual([a[0].codec_name, a[0].channels, Number(a[0].sample_rate)], ['aac', 1, 24000], name);
  }
  const silent = path.join(outDir, 'birthday.mp4');
  assert.equal(ffprobeJson(silent, ['-select_streams', 'a', '-show_entries', 'stream=index']).streams.length, 0);
  assert.deepEqual(first.videoOnly, [silent]);
});

test('rejects listed with the manifest reasons; the manifest carries labels and sources', { skip: skipWithoutAvClips }, () => {
  const rejects = readRejects(first.rejectsPath).map((r) => [path.relative(temp.dir, r.path), r.reason]);
  assert.deepEqual(rejects.sort(), [
    ['prepared/birthday.mp4', 'no audio stream'],
    ['videos/garbage.mp4', 'not a media file'],
  ]);
  const entries = readManifest(first.manifestPath);
  assert.deepEqual(
    entries.map((e) => [path.relative(outDir, e.path), e.label, e.fold, e.source && path.relative(inputDir, e.source), e.audioSampleRate, e.audioChannels]),
    [
      ['mmaction_test.mp4', 'action', 1, 'mmaction_test.avi', 24000, 1],
      ['skateboarding_dog.mp4', 'dog', 1, 'skateboarding_dog.mp4', 24000, 1],
      ['small/tiny.mp4', 'pattern', 2, 'small/tiny.mp4', 24000, 1],
    ],
  );
  // The labels beside the copies name the prepared files, the video-only one included.
  const labels = readLabelsCsv(first.labelsPath!).map((r) => [r.file, r.label, r.fold]);
  assert.deepEqual(labels, [
    ['birthday.mp4', 'party', 2],
    ['mmaction_test.mp4', 'action', 1],
    ['skateboarding_dog.mp4', 'dog', 1],
    ['small/tiny.mp4', 'pattern', 2],
  ]);
});

test('pretraining accepts the prepared manifest as data.source', { skip: skipWithoutAvClips }, async () => {
  const config = parseConfig({ name: 'prepared', data: { source: first.manifestPath } });
  const { entries, manifestPath } = await loadTrainingManifest(config, path.join(temp.dir, 'run'), false);
  assert.equal(manifestPath, first.manifestPath);
  assert.equal(entries.length, 3);
});

test('a second run skips the finished files and rewrites nothing', { skip: skipWithoutAvClips }, async () => {
  const before = Object.fromEntries(first.transcoded.map((f) => [f, statSync(f).mtimeMs]));
  assert.equal(first.transcoded.length, 4);
  const second = await prepareCollection(inputDir, { outDir, workers: 2, labels: path.join(temp.dir, 'labels.csv') });
  assert.equal(second.transcoded.length, 0);
  assert.deepEqual([...second.skipped].sort(), [...first.transcoded].sort());
  for (const [f, mtime] of Object.entries(before)) assert.equal(statSync(f).mtimeMs, mtime, `${f} untouched`);
  assert.deepEqual(readManifest(second.manifestPath), readManifest(first.manifestPath));
});

test('an interrupted run: its .tmp is removed and the unfinished file written again', { skip: skipWithoutAvClips }, async () => {
  // What a kill during transcoding leaves: the temporary, and no file under the final name.
  const finalName = path.join(outDir, 'mmaction_test.mp4');
  const { rmSync } = await import('node:fs');
  rmSync(finalName);
  writeFileSync(`${finalName}.tmp`, Buffer.alloc(1000, 7));
  const third = await prepareCollection(inputDir, { outDir, workers: 2, labels: path.join(temp.dir, 'labels.csv') });
  assert.deepEqual(third.cleaned, [`${finalName}.tmp`]);
  assert.deepEqual(third.transcoded, [finalName]);
  assert.equal(third.skipped.length, 3);
  assert.deepEqual(videoSize(finalName), [170, 128]);
  const leftovers = readdirSync(outDir, { recursive: true }).map(String).filter((n) => n.includes('.tmp'));
  assert.deepEqual(leftovers, []);
});

test('other settings on a prepared folder are refused, naming the difference', { skip: skipWithoutAvClips }, async () => {
  assert.ok(existsSync(path.join(outDir, PREPARE_SETTINGS_FILE)));
  await assert.rejects(prepareCollection(inputDir, { outDir, shortSide: 256 }), /shortSide 128 there, 256 now/);
  await assert.rejects(prepareCollection(inputDir, { outDir: path.join(inputDir, 'copy') }), /inside the input folder/);
  await assert.rejects(prepareCollection(inputDir, { outDir: path.join(temp.dir, 'odd'), shortSide: 127 }), /shortSide must be an even integer/);
});
