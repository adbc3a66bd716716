import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync, readFileSync, copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import {
  buildManifest,
  writeManifest,
  readManifest,
  writeRejects,
  readRejects,
  rejectsPathFor,
  type ManifestEntry,
} from '../../src/data/manifest.js';
import { parseLabelsCsv } from '../../src/data/labels.js';
import { loadStats, ANALYSIS_SPECTROGRAM } from '../../src/media/spectrogram.js';
import { avClipsDir, esc10Dir, repoRoot, skipWithoutAvClips, skipWithoutEsc10, makeTempDir, writeCorruptFiles } from '../media/fixtures.js';

const silent = ['birthday.mp4', 'silence_girl.mp4'];

test('audio-visual mode: 8 of the 10 real clips, the two silent ones rejected for having no audio', { skip: skipWithoutAvClips }, async () => {
  const m = await buildManifest([avClipsDir], { mode: 'audio-visual', clipSeconds: 2 });
  assert.equal(m.entries.length, 8);
  assert.deepEqual(
    m.rejects.map((r) => [path.basename(r.path), r.reason]),
    silent.map((n) => [n, 'no audio stream']),
  );
  const names = m.entries.map((e) => path.basename(e.path));
  assert.deepEqual(names, [...names].sort(), 'sorted order');
  m.entries.forEach((e, i) => assert.equal(e.index, i));
  const car = m.entries.find((e) => e.path.endsWith('car-detection.mp4'))!;
  assert.equal(car.numClips, 15);
  assert.equal(car.fps, 12.5);
  assert.equal(car.audioSampleRate, 48000);
  const portrait = m.entries.find((e) => e.path.endsWith('skateboarding_dog.mp4'))!;
  assert.deepEqual([portrait.width, portrait.height], [576, 1024]);
});

test('video mode accepts all ten, the silent ones with null audio fields; a long clip length rejects short files', { skip: skipWithoutAvClips }, async () => {
  const video = await buildManifest([avClipsDir], { mode: 'video', clipSeconds: 2, verifyEnd: false });
  assert.equal(video.entries.length, 10);
  assert.deepEqual(video.rejects, []);
  for (const n of silent) {
    const e = video.entries.find((x) => x.path.endsWith(n))!;
    assert.equal(e.audioSampleRate, null);
    assert.equal(e.audioChannels, null);
    assert.equal(e.fps, 25);
  }
  const long = await buildManifest([path.join(avClipsDir, 'grid_speaker.mp4')], { mode: 'video', clipSeconds: 4, verifyEnd: false });
  assert.deepEqual(long.rejects.map((r) => [path.basename(r.path), r.reason]), [['grid_speaker.mp4', 'shorter than one clip (3.0 s < 4.0 s)']]);
});

test('corrupt files among good ones: each rejected with a clear reason, the good one kept', { skip: skipWithoutAvClips }, async () => {
  const { dir, cleanup } = makeTempDir();
  try {
    writeCorruptFiles(dir);
    mkdirSync(path.join(dir, 'nested'));
    copyFileSync(path.join(avClipsDir, 'grid_speaker.mp4'), path.join(dir, 'nested', 'good.mp4'));
    writeFileSync(path.join(dir, '.hidden.mp4'), 'ignored');
    const m = await buildManifest([dir, path.join(dir, 'missing.mp4')]);
    assert.deepEqual(m.entries.map((e) => path.relative(dir, e.path)), ['nested/good.mp4']);
    const reasons = Object.fromEntries(m.rejects.map((r) => [path.basename(r.path), r.reason]));
    assert.deepEqual(reasons, {
      'missing.mp4': 'unreadable',
      'notes-renamed.mp4': 'not a media file',
      'truncated.mp4': 'unreadable',
      'zero-bytes.mp4': 'zero-length',
    });
    assert.match(m.rejects.find((r) => r.path.endsWith('truncated.mp4'))!.detail!, /truncated/);
  } finally {
    cleanup();
  }
});

test('ESC-10 .ogg files are accepted in audio mode (and rejected in audio-visual mode), with labels carried', { skip: skipWithoutEsc10 }, async () => {
  const files = readdirSync(esc10Dir).filter((f) => f.endsWith('.ogg')).sort().slice(0, 3).map((f) => path.join(esc10Dir, f));
  const csv = ['file,label,fold,group', ...files.map((f, i) => `${path.basename(f)},${path.basename(f).slice(0, 3)},${i + 1},rec${i}`)].join('\n');
  const audio = await buildManifest(files, { mode: 'audio', clipSeconds: 2, labels: parseLabelsCsv(csv) });
  assert.equal(audio.entries.length, 3);
  assert.equal(audio.rejects.length, 0);
  assert.deepEqual(audio.warnings, []);
  const first = audio.entries[0];
  assert.deepEqual([first.fps, first.width, first.audioSampleRate, first.audioChannels, first.numClips], [null, null, 44100, 1, 2]);
  assert.deepEqual([first.label, first.fold, first.group], ['001', 1, 'rec0']);
  const av = await buildManifest(files.slice(0, 1), { mode: 'audio-visual', verifyEnd: false });
  assert.deepEqual(av.rejects.map((r) => r.reason), ['no video stream']);
});

test('manifest and rejects round-trip through JSONL with paths relative to the manifest', () => {
  const { dir, cleanup } = makeTempDir();
  try {
    const media = path.join(dir, 'media', 'a.mp4');
    const entries: ManifestEntry[] = [
      { index: 0, path: media, durationSec: 4.5, fps: 25, width: 320, height: 240, audioSampleRate: 44100, audioChannels: 2, numClips: 2, label: 'dog', fold: 1, group: 'movie-1' },
      { index: 1, path: path.join(dir, 'media', 'b.ogg'), durationSec: 5, fps: null, width: null, height: null, audioSampleRate: 44100, audioChannels: 1, numClips: 2 },
    ];
    const out = path.join(dir, 'out', 'manifest.jsonl');
    writeManifest(out, entries);
    assert.match(readFileSync(out, 'utf8').split('\n')[0], /"path":"..\/media\/a.mp4"/);
    assert.deepEqual(readManifest(out), entries);
    const rejectsFile = rejectsPathFor(out);
    assert.equal(rejectsFile, path.join(dir, 'out', 'manifest.rejects.jsonl'));
    writeRejects(rejectsFile, [{ path: media, reason: 'no audio stream' }]);
    assert.deepEqual(readRejects(rejectsFile), [{ path: media, reason: 'no audio stream' }]);
  } finally {
    cleanup();
  }
});

test('readManifest names the file and line of a bad entry', () => {
  const { dir, cleanup } = makeTempDir();
  try {
    const file = path.join(dir, 'bad.jsonl');
    const good = { index: 0, path: 'a.mp4', durationSec: 3, fps: 25, width: 2, height: 2, audioSampleRate: 8000, audioChannels: 1, numClips: 1 };
    writeFileSync(file, JSON.stringify(good) + '\n' + JSON.stringify({ ...good, index: 1, durationSec: 'long' }) + '\n');
    assert.throws(() => readManifest(file), new RegExp(`${file.replace(/[.]/g, '\\.')}:2: durationSec: Expected number`));
    writeFileSync(file, JSON.stringify(good) + '\n{oops\n');
    assert.throws(() => readManifest(file), /bad\.jsonl:2: not valid JSON/);
    writeFileSync(file, JSON.stringify({ ...good, index: 3 }) + '\n');
    assert.throws(() => readManifest(file), /index 3, expected 0/);
    writeFileSync(file, JSON.stringify({ ...good, extra: 1 }) + '\n');
    assert.throws(() => readManifest(file), /bad\.jsonl:1: .*extra/i);
  } finally {
    cleanup();
  }
});

test('labels CSV errors name the file and line', () => {
  assert.throws(() => parseLabelsCsv('file,label,fold\na.mp4,dog,x\n', 'l.csv'), /l\.csv:2: 'fold' must be an integer, got 'x'/);
  assert.throws(() => parseLabelsCsv('a.mp4,dog,1\na.mp4,cat,2\n', 'l.csv'), /l\.csv:2: file 'a\.mp4' is listed twice \(first on line 1\)/);
  assert.deepEqual(parseLabelsCsv('"a, b.mp4",dog\n'), [{ file: 'a, b.mp4', label: 'dog', line: 1 }]);
});

test('avid manifest writes the manifest and the rejects and prints counts', { skip: skipWithoutAvClips }, () => {
  const { dir, cleanup } = makeTempDir();
  try {
    const out = path.join(dir, 'm.jsonl');
    const stdout = execFileSync(process.execPath, [path.join(repoRoot, 'bin/avid.mjs'), 'manifest', path.join(avClipsDir, 'boat.mp4'), path.join(avClipsDir, 'birthday.mp4'), '--out', out, '--no-verify-end', '--spectrogram-stats', path.join(dir, 'stats.json')], { encoding: 'utf8' });
    assert.match(stdout, /1 usable file\(s\), 3 clip\(s\) of 2 s \(audio-visual\)/);
    assert.match(stdout, /1 rejected: 1 no audio stream/);
    assert.equal(readManifest(out).length, 1);
    assert.equal(readRejects(path.join(dir, 'm.rejects.jsonl'))[0].reason, 'no audio stream');
    assert.match(stdout, /spectrogram statistics \(analysis, 2 clips, 200 frames\)/);
    const stats = loadStats(path.join(dir, 'stats.json'), ANALYSIS_SPECTROGRAM);
    assert.equal(stats.mean.length, 129);
  } finally {
    cleanup();
  }
});
