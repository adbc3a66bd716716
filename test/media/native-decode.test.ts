// Parity of the in-process decoder (FFmpeg's libraries, native/media_*.cc) with the ffmpeg program it
// replaced (test/helpers/ffmpeg-program-decode.ts), on the real videos of ../shared/data/av-clips; and its
// robustness: corrupt files, cancellation, time limits, files changed on disk, open file handles.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { copyFileSync, linkSync, readdirSync, readdirSync as listDir, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { decodeVideoClip, decodeAudio, decodeAudioVisualClip, decodeClips, DecodeError, type VideoClipRequest, type AudioRequest } from '../../src/media/decode.js';
import { cachedContainerCount, clearDecoderCache } from '../../src/media/native-decoder.js';
import { AbortError } from '../../src/media/child-processes.js';
import { probeMedia } from '../../src/media/probe.js';
import { decodeVideoClipWithFfmpeg, decodeAudioWithFfmpeg } from '../helpers/ffmpeg-program-decode.js';
import { buildManifest } from '../../src/data/manifest.js';
import { ClipDataset } from '../../src/data/dataset.js';
import { avClip, avClipsDir, makeTempDir, skipWithoutAvClips, writeCorruptFiles } from './fixtures.js';

const stableReasons = new Set(['no video stream', 'no audio stream', 'unreadable', 'no frames', 'decode timed out']);

function maxByteDiff(a: Uint8Array, b: Uint8Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function maxSampleDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** The outcome of a decode, either its value or its DecodeError's reason (to compare the two decoders). */
async function outcome<T>(run: () => Promise<T>): Promise<T | { reason: string }> {
  try {
    return await run();
  } catch (e) {
    if (e instanceof DecodeError) return { reason: e.reason };
    throw e;
  }
}
const failed = (x: unknown): x is { reason: string } => typeof x === 'object' && x !== null && 'reason' in x && !('pixels' in x) && !('samples' in x);

const clipFiles = skipWithoutAvClips ? [] : readdirSync(avClipsDir).filter((f) => /\.(mp4|avi)$/.test(f)).sort();

test('video: the in-process frames equal the ffmpeg program\'s on every clip (starts incl. near the end, crop, flip, odd sizes)', { skip: skipWithoutAvClips }, async (t) => {
  let worst = 0;
  let compared = 0;
  let padded = 0;
  for (const name of clipFiles) {
    const file = avClip(name);
    const info = await probeMedia(file);
    const duration = info.durationSec;
    const w = info.video!.width;
    const h = info.video!.height;
    const requests: VideoClipRequest[] = [
      { startSec: 0.25, numFrames: 8, fps: 16, outWidth: 113, outHeight: 97, crop: { x: 31, y: 17, width: Math.min(201, w - 31), height: Math.min(181, h - 17) }, flip: true },
      { startSec: duration * 0.45, numFrames: 8, fps: 16, outWidth: 112, outHeight: 112, crop: { x: Math.floor(w / 5), y: 3, width: Math.floor(w / 2) + 1, height: h - 5 } },
      // Near the end: the clip runs past the file, the last frame repeats.
      { startSec: duration - 0.3, numFrames: 8, fps: 10, outWidth: 57, outHeight: 31 },
      // Larger than the source (upscaling) and the source's own size (no scaling at all).
      { startSec: duration * 0.7, numFrames: 3, fps: 5, outWidth: w + 9, outHeight: h + 3, flip: true },
      { startSec: 1.03, numFrames: 2, fps: 30, outWidth: w, outHeight: h },
    ];
    for (const request of requests) {
      const [ours, theirs] = await Promise.all([outcome(() => decodeVideoClip(file, request)), outcome(() => decodeVideoClipWithFfmpeg(file, request))]);
      const where = `${name} from ${request.startSec.toFixed(2)} s ${request.outWidth}x${request.outHeight}`;
      if (failed(ours) || failed(theirs)) {
        assert.deepEqual(ours, theirs, `${where}: the same failure`);
        continue;
      }
      assert.equal(ours.decodedFrames, theirs.decodedFrames, `${where}: frames decoded before padding`);
      assert.equal(ours.paddedFrames, theirs.paddedFrames, `${where}: padded frames`);
      const diff = maxByteDiff(ours.pixels, theirs.pixels);
      // The same swscale with the same options and colour matrix: identical, not merely close.
      assert.equal(diff, 0, `${where}: max pixel difference ${diff}`);
      worst = Math.max(worst, diff);
      padded += ours.paddedFrames;
      compared++;
    }
  }
  t.diagnostic(`${compared} clips compared, max uint8 difference ${worst}, ${padded} padded frames among them`);
  assert.ok(compared >= clipFiles.length * 4, `most requests decode (${compared})`);
  assert.ok(padded > 0, 'the near-end clips exercise padding');
});

test('audio: the in-process samples equal the ffmpeg program\'s within 1e-4; files without audio reject with "no audio stream"', { skip: skipWithoutAvClips }, async (t) => {
  let worst = 0;
  let compared = 0;
  for (const name of clipFiles) {
    const file = avClip(name);
    const info = await probeMedia(file);
    const duration = info.durationSec;
    if (!info.audio) {
      await assert.rejects(decodeAudio(file, { startSec: 0, durationSec: 1, sampleRate: 24000 }), (e: unknown) => e instanceof DecodeError && e.reason === 'no audio stream', name);
      await assert.rejects(
        decodeAudioVisualClip(file, { startSec: 0, numFrames: 2, fps: 8, outWidth: 8, outHeight: 8 }, { startSec: 0, durationSec: 1, sampleRate: 16000 }),
        (e: unknown) => e instanceof DecodeError && e.reason === 'no audio stream',
        name,
      );
      await assert.rejects(decodeAudioWithFfmpeg(file, { startSec: 0, durationSec: 1, sampleRate: 24000 }), (e: unknown) => e instanceof DecodeError && e.reason === 'no audio stream', `${name} (the oracle agrees)`);
      continue;
    }
    const requests: AudioRequest[] = [
      { startSec: 0.25, durationSec: 2, sampleRate: 24000 },
      { startSec: duration * 0.45, durationSec: 1.5, sampleRate: 16000 },
      { startSec: duration - 0.5, durationSec: 2, sampleRate: 24000 }, // past the end: silence, counted
    ];
    for (const request of requests) {
      const [ours, theirs] = await Promise.all([decodeAudio(file, request), decodeAudioWithFfmpeg(file, request)]);
      const where = `${name} from ${request.startSec.toFixed(2)} s at ${request.sampleRate} Hz`;
      assert.equal(ours.paddedSamples, theirs.paddedSamples, `${where}: padded samples`);
      const diff = maxSampleDiff(ours.samples, theirs.samples);
      assert.ok(diff <= 1e-4, `${where}: max sample difference ${diff}`);
      worst = Math.max(worst, diff);
      compared++;
    }
    // A window that starts before the file: silence, then the file from time 0. (The ffmpeg program cut
    // such windows short by up to the video's first timestamp and padded the rest although the file has
    // audio there; the oracle is therefore the program's decode from 0 with time to spare.)
    const early = await decodeAudio(file, { startSec: -0.3, durationSec: 2, sampleRate: 24000 });
    const leading = Math.round(0.3 * 24000);
    assert.equal(early.paddedSamples, leading, `${name}: only the leading 0.3 s is silence`);
    assert.ok(early.samples.subarray(0, leading).every((v) => v === 0), `${name}: silence before the file`);
    const fromZero = await decodeAudioWithFfmpeg(file, { startSec: 0, durationSec: 2.7, sampleRate: 24000 });
    const diff = maxSampleDiff(early.samples.subarray(leading), fromZero.samples.subarray(0, early.samples.length - leading));
    assert.ok(diff <= 1e-4, `${name} from -0.3 s: max sample difference ${diff}`);
    worst = Math.max(worst, diff);
    compared++;
  }
  t.diagnostic(`${compared} windows compared, max difference ${worst.toExponential(2)}`);
});

test('training clips (video and audio in one pass, 8 frames at 16 fps from 24–30 fps sources, random crops) equal the ffmpeg program\'s', { skip: skipWithoutAvClips }, async (t) => {
  // The decoder skips work here (frames that nothing refers to, before the clip and inside it where the 16 fps
  // selection never shows them): none of it may change an output.
  const entries = (await buildManifest([avClipsDir], { mode: 'audio-visual', verifyEnd: false })).entries;
  const dataset = new ClipDataset(entries, { mode: 'train', seed: 7, clip: { numFrames: 8, fps: 16 }, frameSize: [112, 112], clipsPerVideo: 3 });
  let worstPixel = 0;
  let worstSample = 0;
  let audioCompared = 0;
  for (let i = 0; i < dataset.length; i++) {
    const plan = dataset.plan(i, 0);
    const video: VideoClipRequest = { startSec: plan.timing.videoStartSec, numFrames: 8, fps: 16, outWidth: 112, outHeight: 112, crop: plan.crop!, flip: plan.flip };
    const audio: AudioRequest = { startSec: plan.timing.audioStartSec, durationSec: plan.timing.audioDurationSec, sampleRate: 24000 };
    // The oracles are the program's separate video and audio decodes (its one-process audio-visual decode pads
    // the first few hundredths of a second of audio where the file has sound; see the audio test).
    const [ours, theirVideo, theirAudio] = await Promise.all([decodeAudioVisualClip(plan.path, video, audio), decodeVideoClipWithFfmpeg(plan.path, video), decodeAudioWithFfmpeg(plan.path, audio)]);
    const theirs = { video: theirVideo, audio: theirAudio };
    const where = `${path.basename(plan.path)} video from ${video.startSec.toFixed(3)} s, audio from ${audio.startSec.toFixed(3)} s`;
    assert.equal(ours.video.decodedFrames, theirs.video.decodedFrames, `${where}: frames`);
    const pixelDiff = maxByteDiff(ours.video.pixels, theirs.video.pixels);
    assert.equal(pixelDiff, 0, `${where}: max pixel difference ${pixelDiff}`);
    worstPixel = Math.max(worstPixel, pixelDiff);
    // Audio windows in the first half second are left out: there the program cut windows short by up to the
    // video's first timestamp and padded the rest (see the audio test), so it is no oracle.
    if (audio.startSec < 0.5) continue;
    assert.equal(ours.audio.paddedSamples, theirs.audio.paddedSamples, `${where}: padded samples`);
    const sampleDiff = maxSampleDiff(ours.audio.samples, theirs.audio.samples);
    assert.ok(sampleDiff <= 1e-4, `${where}: max sample difference ${sampleDiff}`);
    worstSample = Math.max(worstSample, sampleDiff);
    audioCompared++;
  }
  t.diagnostic(`${dataset.length} training clips compared, max uint8 difference ${worstPixel}; ${audioCompared} audio windows, max sample difference ${worstSample.toExponential(2)}`);
  assert.ok(audioCompared >= dataset.length / 2, `most audio windows compared (${audioCompared} of ${dataset.length})`);
});

test('several clips of one video in one call equal the clips decoded one by one', { skip: skipWithoutAvClips }, async () => {
  const file = avClip('car-detection.mp4');
  // Uniformly spaced evaluation clips (close: one forward pass) and two far apart (a seek), out of order.
  const starts = [20.5, 0, 1.0, 2.0, 3.0, 4.0, 12.25];
  const requests = starts.map((s, i) => ({
    video: { startSec: s, numFrames: 8, fps: 16, outWidth: 64, outHeight: 48, crop: { x: 100 + i, y: 50, width: 400, height: 300 }, flip: i % 2 === 1 },
    audio: { startSec: s + 0.1, durationSec: 1, sampleRate: 24000 },
  }));
  const batch = await decodeClips(file, requests);
  assert.equal(batch.length, starts.length);
  for (let i = 0; i < starts.length; i++) {
    const [video, audio] = await Promise.all([decodeVideoClip(file, requests[i].video), decodeAudio(file, requests[i].audio)]);
    assert.deepEqual(batch[i].video, video, `clip ${i} (${starts[i]} s): frames`);
    assert.equal(batch[i].audio!.paddedSamples, audio.paddedSamples);
    const diff = maxSampleDiff(batch[i].audio!.samples, audio.samples);
    assert.ok(diff <= 1e-4, `clip ${i} (${starts[i]} s): max sample difference ${diff}`);
  }
  // One bad clip rejects the call with its reason.
  await assert.rejects(decodeClips(file, [requests[0], { video: { ...requests[0].video, startSec: 99 } }]), (e: unknown) => e instanceof DecodeError && e.reason === 'no frames');
});

test("join: 'same-seek' — clips of one call share a pass only where their own seeks meet, each byte-identical to decoding it alone", { skip: skipWithoutAvClips }, async () => {
  // Clips close in time in an MP4 whose AAC uses noise substitution: joined by nearness ('nearby'), the
  // later clips' audio differs from a lone decode by up to 3.4e-3 (its decoder started at an earlier
  // keyframe); and an AVI (decode-order timestamps, MP3).
  const cases: [string, number[]][] = [
    ['skateboarding_dog.mp4', [5.0, 5.6, 6.0, 7.0, 8.5, 9.5]],
    ['skateboarding_dog.mp4', [10, 11, 12, 13]],
    ['mmaction_test.avi', [0.3, 1.1, 2.377, 2.9, 4.415, 5.2]],
  ];
  for (const [name, starts] of cases) {
    const file = avClip(name);
    const requests = starts.map((s, i) => ({
      video: { startSec: s, numFrames: 8, fps: 16, outWidth: 48, outHeight: 40, crop: { x: 10 + i, y: 8, width: 200, height: 160 }, flip: i % 2 === 0 },
      audio: { startSec: Math.max(0, s - 0.3 + 0.1 * i), durationSec: 1.7, sampleRate: 24000 },
    }));
    const together = await decodeClips(file, requests, { join: 'same-seek' });
    const byDefault = await decodeClips(file, requests);
    for (let i = 0; i < starts.length; i++) {
      assert.deepEqual(byDefault[i], together[i], `${name} clip ${i}: the default join is 'same-seek' (evaluation relies on it)`);
      const alone = await decodeAudioVisualClip(file, requests[i].video, requests[i].audio);
      assert.deepEqual(together[i], alone, `${name} clip ${i} (${starts[i]} s): byte-identical to decoding it alone`);
    }
  }
  await assert.rejects(decodeClips(avClip('boat.mp4'), [{ audio: { startSec: 0, durationSec: 1, sampleRate: 8000 } }], { join: 'sideways' as 'nearby' }), /join must be 'nearby' or 'same-seek'/);
});

test('display rotation is applied before the crop, as the ffmpeg program\'s autorotation does', async () => {
  const { dir, cleanup } = makeTempDir();
  try {
    const plain = path.join(dir, 'plain.mp4');
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=98x54:rate=25:duration=2', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', plain]);
    for (const degrees of [90, 180, 270]) {
      const rotated = path.join(dir, `rotated-${degrees}.mp4`);
      execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', plain, '-c', 'copy', '-metadata:s:v:0', `rotate=${degrees}`, rotated]);
      const crop = degrees === 180 ? { x: 9, y: 3, width: 47, height: 41 } : { x: 3, y: 9, width: 41, height: 47 };
      const request = { startSec: 0.3, numFrames: 4, fps: 10, outWidth: 27, outHeight: 49, crop, flip: true };
      const [ours, theirs] = await Promise.all([decodeVideoClip(rotated, request), decodeVideoClipWithFfmpeg(rotated, request)]);
      assert.equal(maxByteDiff(ours.pixels, theirs.pixels), 0, `${degrees}°`);
      const upright = await decodeVideoClip(plain, request);
      assert.notDeepEqual(ours.pixels, upright.pixels, `${degrees}°: the rotation changed the picture`);
    }
    // A crop that only fits the stored (unrotated) frame is refused: the box is in displayed pixels.
    await assert.rejects(
      decodeVideoClip(path.join(dir, 'rotated-90.mp4'), { startSec: 0, numFrames: 1, fps: 10, outWidth: 8, outHeight: 8, crop: { x: 0, y: 0, width: 90, height: 50 } }),
      (e: unknown) => e instanceof DecodeError && e.reason === 'unreadable' && /does not fit the 54x98 frame/.test(e.detail),
    );
  } finally {
    cleanup();
  }
});

test('corrupt, truncated and empty files reject with a DecodeError (as the ffmpeg program does) and the process lives on', { skip: skipWithoutAvClips }, async () => {
  const { dir, cleanup } = makeTempDir();
  try {
    const files = writeCorruptFiles(dir);
    const garbage = path.join(dir, 'random.mp4');
    writeFileSync(garbage, Buffer.from(Array.from({ length: 65536 }, (_, i) => (i * 2654435761) >>> 24)));
    const video = { startSec: 0.5, numFrames: 8, fps: 16, outWidth: 33, outHeight: 31 };
    const audio = { startSec: 0.5, durationSec: 1, sampleRate: 24000 };
    for (const file of [files.zeroBytes, files.textAsMp4, garbage]) {
      for (const run of [() => decodeVideoClip(file, video), () => decodeAudio(file, audio), () => decodeAudioVisualClip(file, video, audio)]) {
        await assert.rejects(run(), (e: unknown) => e instanceof DecodeError && e.reason === 'unreadable' && e.detail.length > 0 && e.message.includes(file));
      }
    }
    // The truncated copy: the part that is there decodes like the program decodes it; past the cut, no frames.
    const [ours, theirs] = await Promise.all([decodeVideoClip(files.truncated, video), decodeVideoClipWithFfmpeg(files.truncated, video)]);
    assert.deepEqual(ours, theirs);
    const late = { ...video, startSec: 4 };
    const [oursLate, theirsLate] = await Promise.all([outcome(() => decodeVideoClip(files.truncated, late)), outcome(() => decodeVideoClipWithFfmpeg(files.truncated, late))]);
    assert.deepEqual(oursLate, { reason: 'no frames' });
    assert.deepEqual(theirsLate, { reason: 'no frames' });
    for (const reason of ['unreadable', 'no frames']) assert.ok(stableReasons.has(reason));
    // Still working.
    assert.equal((await decodeVideoClip(avClip('boat.mp4'), video)).decodedFrames, 8);
  } finally {
    cleanup();
  }
});

test('a per-clip time limit rejects with "decode timed out"; an abort rejects with AbortError', { skip: skipWithoutAvClips }, async () => {
  const long = { startSec: 0, numFrames: 300, fps: 10, outWidth: 768, outHeight: 432 };
  await assert.rejects(decodeVideoClip(avClip('car-detection.mp4'), long, { timeoutMs: 5 }), (e: unknown) => e instanceof DecodeError && e.reason === 'decode timed out');
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(decodeVideoClip(avClip('car-detection.mp4'), long, { signal: controller.signal }), AbortError);
  const later = new AbortController();
  const pending = decodeAudioVisualClip(avClip('car-detection.mp4'), long, { startSec: 0, durationSec: 30, sampleRate: 48000 }, { signal: later.signal });
  setTimeout(() => later.abort(), 30);
  await assert.rejects(pending, AbortError);
});

test('a file changed on disk is opened again, not served from the cache', { skip: skipWithoutAvClips }, async () => {
  const { dir, cleanup } = makeTempDir();
  try {
    const file = path.join(dir, 'video.mp4');
    const request = { startSec: 1, numFrames: 2, fps: 10, outWidth: 40, outHeight: 30 };
    copyFileSync(avClip('boat.mp4'), file);
    assert.deepEqual(await decodeVideoClip(file, request), await decodeVideoClip(avClip('boat.mp4'), request));
    copyFileSync(avClip('grid_speaker.mp4'), file);
    assert.deepEqual(await decodeVideoClip(file, request), await decodeVideoClip(avClip('grid_speaker.mp4'), request));
  } finally {
    cleanup();
  }
});

test('many concurrent decodes: open files stay bounded by the cache, and closing it releases them all', { skip: skipWithoutAvClips }, async () => {
  const { dir, cleanup } = makeTempDir();
  try {
    clearDecoderCache();
    const openFiles = () => listDir('/proc/self/fd').length;
    const before = openFiles();
    // 24 distinct paths (more than the cache's 16) of one small video.
    const paths = Array.from({ length: 24 }, (_, i) => {
      const p = path.join(dir, `copy-${i}.mp4`);
      linkSync(avClip('grid_speaker.mp4'), p);
      return p;
    });
    const request = { video: { startSec: 0.5, numFrames: 4, fps: 16, outWidth: 32, outHeight: 32 }, audio: { startSec: 0.5, durationSec: 0.5, sampleRate: 16000 } };
    for (let round = 0; round < 3; round++) {
      const results = await Promise.all(paths.map((p) => decodeClips(p, [request])));
      assert.equal(results.length, 24);
      assert.ok(cachedContainerCount() <= 16, `cached containers ${cachedContainerCount()}`);
      assert.ok(openFiles() <= before + 16, `open files ${openFiles()} (before: ${before})`);
    }
    clearDecoderCache();
    assert.equal(cachedContainerCount(), 0);
    assert.equal(openFiles(), before, 'every file the decoder opened is closed');
  } finally {
    cleanup();
  }
});

test('evaluation\'s uniformly spaced clips (decodeEvalClips, one call per video) equal the clips decoded one by one, centre-cropped as the reference', { skip: skipWithoutAvClips }, async () => {
  const { decodeEvalClips } = await import('../../src/eval/av-features.js');
  const { uniformClipStarts } = await import('../../src/eval/audio-clips.js');
  const { evaluationCropBox } = await import('../../src/media/video-transforms.js');
  const { probeMedia } = await import('../../src/media/probe.js');
  const g = { frames: 8, fps: 16, size: 48, audioSeconds: 1, sampleRate: 16000, hopSeconds: 0.01, windowSeconds: 0.02, freqBins: 129 };
  const videos = await Promise.all(
    [{ path: avClip('boat.mp4'), durationSec: 6.1 }, { path: avClip('grid_speaker.mp4'), durationSec: 3.0 }].map(async (v) => {
      const info = await probeMedia(v.path, { verifyEnd: false });
      return { ...v, width: info.video!.width, height: info.video!.height };
    }),
  );
  const clips = await decodeEvalClips(videos, g, { clipsPerVideo: 3, workers: 2 });
  assert.deepEqual(Array.from(clips.videoOfClip), [0, 0, 0, 1, 1, 1]);
  const clipSeconds = g.frames / g.fps;
  let row = 0;
  for (const v of videos) {
    for (const start of uniformClipStarts(v.durationSec, Math.max(clipSeconds, g.audioSeconds), 3)) {
      const audioStart = Math.max(0, Math.min(start + clipSeconds / 2 - g.audioSeconds / 2, v.durationSec - g.audioSeconds));
      const video = await decodeVideoClipWithFfmpeg(v.path, { startSec: start, numFrames: g.frames, fps: g.fps, outWidth: g.size, outHeight: g.size, crop: evaluationCropBox(v.width, v.height, g.size, g.size) });
      const audio = await decodeAudioWithFfmpeg(v.path, { startSec: audioStart, durationSec: g.audioSeconds, sampleRate: g.sampleRate });
      assert.equal(maxByteDiff(clips.pixels[row], video.pixels), 0, `${v.path} clip at ${start} s: frames`);
      assert.ok(maxSampleDiff(clips.samples[row], audio.samples) <= 1e-4, `${v.path} clip at ${start} s: samples`);
      row++;
    }
  }
});
