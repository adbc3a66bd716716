import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { probeMedia, MediaProbeError } from '../../src/media/probe.js';
import { avClipsDir, avClip, esc10Dir, skipWithoutAvClips, skipWithoutEsc10, makeTempDir, writeCorruptFiles, generateVideo } from './fixtures.js';

test('probes all ten real clips: streams, sizes, frame rates; the two silent ones have no audio', { skip: skipWithoutAvClips }, async () => {
  const names = readdirSync(avClipsDir).sort();
  assert.equal(names.length, 10);
  const infos = await Promise.all(names.map((n) => probeMedia(avClip(n))));
  const byName = Object.fromEntries(names.map((n, i) => [n, infos[i]]));
  for (const info of infos) {
    assert.ok(info.video, `${info.path} has video`);
    assert.ok(info.durationSec > 2, `${info.path} duration ${info.durationSec}`);
    assert.ok(info.video.fps > 10 && info.video.fps < 31, `${info.path} fps ${info.video.fps}`);
  }
  assert.equal(byName['birthday.mp4'].audio, null);
  assert.equal(byName['silence_girl.mp4'].audio, null);
  const portrait = byName['skateboarding_dog.mp4'].video!;
  assert.deepEqual([portrait.width, portrait.height], [576, 1024]);
  const avi = byName['mmaction_test.avi'];
  assert.equal(avi.video!.codec, 'mpeg4');
  assert.equal(avi.audio!.codec, 'mp3');
  assert.match(avi.container, /avi/);
  const ironMan = byName['IronMan.mp4'];
  assert.deepEqual([ironMan.video!.width, ironMan.video!.height, ironMan.audio!.sampleRate, ironMan.audio!.channels], [854, 480, 44100, 2]);
  assert.ok(Math.abs(ironMan.durationSec - 8.07) < 0.05);
});

test('corrupt files are rejected with a typed reason, and nothing crashes', { skip: skipWithoutAvClips }, async () => {
  const { dir, cleanup } = makeTempDir();
  try {
    const files = writeCorruptFiles(dir);
    const failure = async (file: string) => {
      try {
        await probeMedia(file);
      } catch (error) {
        assert.ok(error instanceof MediaProbeError, String(error));
        return error;
      }
      assert.fail(`${file} was accepted`);
    };
    const zero = await failure(files.zeroBytes);
    assert.equal(zero.reason, 'zero-length');
    const text = await failure(files.textAsMp4);
    assert.equal(text.reason, 'not a media file');
    assert.match(text.detail, /text file/);
    const truncated = await failure(files.truncated);
    assert.equal(truncated.reason, 'unreadable');
    assert.match(truncated.detail, /truncated: media data ends at [\d.]+ s of 6\.\d+ s/);
    assert.match(truncated.message, /truncated\.mp4: unreadable/);
    const missing = await failure(path.join(dir, 'does-not-exist.mp4'));
    assert.equal(missing.reason, 'unreadable');
    assert.match(missing.detail, /no such file/);
  } finally {
    cleanup();
  }
});

test('a rotated (portrait-by-metadata) video reports display size and rotation', async () => {
  const { dir, cleanup } = makeTempDir();
  try {
    const plain = generateVideo(path.join(dir, 'plain.mp4'), { seconds: 1, width: 64, height: 32, fps: 10, audio: false });
    const { execFileSync } = await import('node:child_process');
    const rotated = path.join(dir, 'rotated.mp4');
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', plain, '-c', 'copy', '-metadata:s:v:0', 'rotate=90', rotated]);
    const info = await probeMedia(rotated);
    assert.equal(info.video!.rotation % 180, 90);
    assert.deepEqual([info.video!.width, info.video!.height], [32, 64]);
    assert.deepEqual([info.video!.codedWidth, info.video!.codedHeight], [64, 32]);
    // ffmpeg rotates while decoding, so crop boxes are in displayed pixels: a full-frame 32×64 box fits.
    const { decodeVideoClip } = await import('../../src/media/decode.js');
    const clip = await decodeVideoClip(rotated, { startSec: 0, numFrames: 2, fps: 10, outWidth: 16, outHeight: 32, crop: { x: 0, y: 0, width: 32, height: 64 } });
    assert.equal(clip.paddedFrames, 0);
    await assert.rejects(decodeVideoClip(plain, { startSec: 0, numFrames: 2, fps: 10, outWidth: 16, outHeight: 32, crop: { x: 0, y: 0, width: 32, height: 64 } }), /unreadable|Invalid/);
  } finally {
    cleanup();
  }
});

test('an ESC-10 Ogg Vorbis clip probes as audio only', { skip: skipWithoutEsc10 }, async () => {
  const file = readdirSync(esc10Dir).find((f) => f.endsWith('.ogg'))!;
  const info = await probeMedia(path.join(esc10Dir, file));
  assert.equal(info.video, null);
  assert.equal(info.audio!.codec, 'vorbis');
  assert.equal(info.audio!.sampleRate, 44100);
  assert.ok(Math.abs(info.durationSec - 5) < 0.05);
});
