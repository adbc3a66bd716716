import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawn, execFileSync } from 'node:child_process';
import { decodeVideoClip, decodeAudio, decodeAudioVisualClip, DecodeError } from '../../src/media/decode.js';
import { AbortError, liveChildPids } from '../../src/media/child-processes.js';
import { avClip, esc10Dir, repoRoot, skipWithoutAvClips, skipWithoutEsc10, makeTempDir } from './fixtures.js';

/** A 10 fps, 32×32 grey video whose frame n has luma 16 + 7n: frame identity is readable from a pixel. */
function counterVideo(dir: string): string {
  const file = path.join(dir, 'counter.mp4');
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'color=c=black:s=64x32:r=10:d=3,geq=lum=16+7*N:cb=128:cr=128',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-qp', '0', '-pix_fmt', 'yuv420p', file]);
  return file;
}
const frameLevel = (pixels: Uint8Array, frame: number, frameBytes: number) => pixels[frame * frameBytes];

test('frame-rate conversion and seek pick the source frames at start + k / fps', async () => {
  const { dir, cleanup } = makeTempDir();
  try {
    const file = counterVideo(dir);
    const native = await decodeVideoClip(file, { startSec: 0, numFrames: 30, fps: 10, outWidth: 64, outHeight: 32 });
    const levels = Array.from({ length: 30 }, (_, n) => frameLevel(native.pixels, n, 64 * 32 * 3));
    for (let n = 1; n < 30; n++) assert.ok(levels[n] > levels[n - 1], `frame levels increase: ${levels}`);
    const half = await decodeVideoClip(file, { startSec: 1.0, numFrames: 4, fps: 5, outWidth: 64, outHeight: 32 });
    assert.deepEqual(Array.from({ length: 4 }, (_, k) => frameLevel(half.pixels, k, 64 * 32 * 3)), [levels[10], levels[12], levels[14], levels[16]]);
    assert.equal(half.paddedFrames, 0);
    // The file ends at 3 s: a clip from 2.5 s at 10 fps has 5 real frames, then repeats the last one.
    const tail = await decodeVideoClip(file, { startSec: 2.5, numFrames: 8, fps: 10, outWidth: 64, outHeight: 32 });
    assert.equal(tail.decodedFrames, 5);
    assert.equal(tail.paddedFrames, 3);
    const fb = 64 * 32 * 3;
    for (let f = 5; f < 8; f++) assert.deepEqual(tail.pixels.subarray(f * fb, (f + 1) * fb), tail.pixels.subarray(4 * fb, 5 * fb));
    await assert.rejects(decodeVideoClip(file, { startSec: 5, numFrames: 2, fps: 10, outWidth: 8, outHeight: 8 }), (e: unknown) => e instanceof DecodeError && e.reason === 'no frames');
  } finally {
    cleanup();
  }
});

test('crop, resize and flip in one pass: crop equals the sub-block, flip mirrors exactly', { skip: skipWithoutAvClips }, async () => {
  const file = avClip('IronMan.mp4');
  const full = await decodeVideoClip(file, { startSec: 2, numFrames: 1, fps: 16, outWidth: 854, outHeight: 480 });
  const box = { x: 200, y: 100, width: 64, height: 48 };
  const crop = await decodeVideoClip(file, { startSec: 2, numFrames: 1, fps: 16, outWidth: 64, outHeight: 48, crop: box });
  let maxDiff = 0;
  for (let y = 0; y < 48; y++) {
    for (let x = 0; x < 64 * 3; x++) {
      const a = crop.pixels[y * 64 * 3 + x];
      const b = full.pixels[(y + box.y) * 854 * 3 + box.x * 3 + x];
      maxDiff = Math.max(maxDiff, Math.abs(a - b));
    }
  }
  assert.ok(maxDiff <= 3, `cropped pixels match the full frame (max diff ${maxDiff})`);
  const opts = { startSec: 4.1, numFrames: 8, fps: 16, outWidth: 112, outHeight: 112, crop: { x: 100, y: 50, width: 300, height: 300 } };
  const plain = await decodeVideoClip(file, opts);
  const flipped = await decodeVideoClip(file, { ...opts, flip: true });
  assert.equal(plain.pixels.length, 8 * 112 * 112 * 3);
  for (let i = 0; i < 8 * 112; i++) {
    for (let x = 0; x < 112; x++) {
      for (let c = 0; c < 3; c++) {
        if (plain.pixels[(i * 112 + x) * 3 + c] !== flipped.pixels[(i * 112 + 111 - x) * 3 + c]) assert.fail(`row ${i} x ${x} not mirrored`);
      }
    }
  }
  const frame0 = plain.pixels.subarray(0, 112 * 112 * 3);
  const frame7 = plain.pixels.subarray(7 * 112 * 112 * 3);
  assert.notDeepEqual(frame0, frame7, 'frames of a moving scene differ');
});

test('portrait video, AVI (mpeg4 + mp3) and Ogg Vorbis decode', { skip: skipWithoutAvClips || skipWithoutEsc10 }, async () => {
  const portrait = await decodeVideoClip(avClip('skateboarding_dog.mp4'), { startSec: 1, numFrames: 4, fps: 16, outWidth: 56, outHeight: 100, crop: { x: 0, y: 0, width: 576, height: 1024 } });
  assert.equal(portrait.paddedFrames, 0);
  const avi = await decodeVideoClip(avClip('mmaction_test.avi'), { startSec: 3, numFrames: 8, fps: 16, outWidth: 112, outHeight: 112 });
  assert.equal(avi.paddedFrames, 0);
  assert.ok(avi.pixels.some((v) => v > 0));
  const mp3 = await decodeAudio(avClip('mmaction_test.avi'), { startSec: 1, durationSec: 2, sampleRate: 24000 });
  assert.equal(mp3.samples.length, 48000);
  assert.equal(mp3.paddedSamples, 0);
  assert.ok(rms(mp3.samples) > 1e-3);
  const ogg = readdirSync(esc10Dir).find((f) => f.endsWith('.ogg'))!;
  // ESC clips are often silent for their first seconds: decode all 5.
  const vorbis = await decodeAudio(path.join(esc10Dir, ogg), { startSec: 0, durationSec: 5, sampleRate: 24000 });
  assert.equal(vorbis.samples.length, 120000);
  assert.ok(rms(vorbis.samples) > 1e-3);
});

function rms(x: Float32Array): number {
  let s = 0;
  for (const v of x) s += v * v;
  return Math.sqrt(s / x.length);
}

test('audio: mono at the requested rate, exact length, silence outside the file, a clear error without audio', async () => {
  const { dir, cleanup } = makeTempDir();
  try {
    const file = path.join(dir, 'tone.mp4');
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100:duration=2', '-ac', '2', '-c:a', 'aac', file]);
    const a = await decodeAudio(file, { startSec: 0.5, durationSec: 1, sampleRate: 24000 });
    assert.equal(a.samples.length, 24000);
    assert.equal(a.paddedSamples, 0);
    let crossings = 0;
    for (let i = 1; i < a.samples.length; i++) if (a.samples[i - 1] < 0 && a.samples[i] >= 0) crossings++;
    assert.ok(Math.abs(crossings - 440) <= 2, `440 Hz tone at 24 kHz: ${crossings} upward zero crossings in 1 s`);
    const early = await decodeAudio(file, { startSec: -0.25, durationSec: 1, sampleRate: 24000 });
    assert.equal(early.samples.length, 24000);
    assert.ok(early.samples.subarray(0, 6000).every((v) => v === 0), 'silence before the file');
    assert.ok(rms(early.samples.subarray(6100)) > 0.05, 'the tone (amplitude 1/8) after it');
    const late = await decodeAudio(file, { startSec: 1.5, durationSec: 1, sampleRate: 16000 });
    assert.equal(late.samples.length, 16000);
    assert.ok(late.paddedSamples >= 7400 && late.paddedSamples <= 8100, `about half a second padded (AAC adds a few ms): ${late.paddedSamples}`);
    const silentVideo = path.join(dir, 'silent.mp4');
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=32x32:rate=5:duration=1', '-c:v', 'libx264', '-preset', 'ultrafast', silentVideo]);
    await assert.rejects(decodeAudio(silentVideo, { startSec: 0, durationSec: 1, sampleRate: 24000 }), (e: unknown) => e instanceof DecodeError && e.reason === 'no audio stream');
    await assert.rejects(decodeVideoClip(file, { startSec: 0, numFrames: 1, fps: 5, outWidth: 8, outHeight: 8 }), (e: unknown) => e instanceof DecodeError && e.reason === 'no video stream');
  } finally {
    cleanup();
  }
});

test('one-process audio-visual decode gives the same frames and samples as the two separate decodes', { skip: skipWithoutAvClips }, async () => {
  const cases: [string, number, number, number][] = [
    ['IronMan.mp4', 3.3, 2.9, 1.7], // audio before video, duration-jittered
    ['applausing.mp4', 2, 2.4, 2], // audio after video
    ['boat.mp4', 0.2, -0.3, 2], // audio window starting before the file
    ['boat.mp4', 5.8, 5.0, 2], // both running past the end
  ];
  for (const [name, videoStart, audioStart, audioSeconds] of cases) {
    const videoRequest = { startSec: videoStart, numFrames: 8, fps: 16, outWidth: 48, outHeight: 48, crop: { x: 10, y: 20, width: 200, height: 200 }, flip: true };
    const audioRequest = { startSec: audioStart, durationSec: audioSeconds, sampleRate: 24000 };
    const [v, a, both] = await Promise.all([decodeVideoClip(avClip(name), videoRequest), decodeAudio(avClip(name), audioRequest), decodeAudioVisualClip(avClip(name), videoRequest, audioRequest)]);
    assert.deepEqual(both.video, v, `${name}: frames`);
    assert.deepEqual(both.audio, a, `${name}: samples`);
  }
  // MP3 in AVI seeks only to the nearest MP3 frame (tens of ms either way), so the two ways can differ there.
  const avi = await decodeAudioVisualClip(avClip('mmaction_test.avi'), { startSec: 2, numFrames: 8, fps: 16, outWidth: 48, outHeight: 48 }, { startSec: 2.4, durationSec: 2, sampleRate: 24000 });
  assert.deepEqual([avi.video.paddedFrames, avi.audio.paddedSamples, avi.audio.samples.length], [0, 0, 48000]);
  assert.deepEqual(avi.video.pixels, (await decodeVideoClip(avClip('mmaction_test.avi'), { startSec: 2, numFrames: 8, fps: 16, outWidth: 48, outHeight: 48 })).pixels);
  await assert.rejects(
    decodeAudioVisualClip(avClip('birthday.mp4'), { startSec: 0, numFrames: 2, fps: 8, outWidth: 8, outHeight: 8 }, { startSec: 0, durationSec: 1, sampleRate: 8000 }),
    (e: unknown) => e instanceof DecodeError && e.reason === 'no audio stream',
  );
});

test('other containers: Matroska (mpeg4 + flac) and WAV decode; probe sees their streams', async () => {
  const { dir, cleanup } = makeTempDir();
  try {
    const mkv = path.join(dir, 'clip.mkv');
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=80x60:rate=12:duration=2', '-f', 'lavfi', '-i', 'sine=frequency=300:sample_rate=32000:duration=2', '-c:v', 'mpeg4', '-c:a', 'flac', '-shortest', mkv]);
    const wav = path.join(dir, 'tone.wav');
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'sine=frequency=300:sample_rate=16000:duration=1.5', '-c:a', 'pcm_s16le', wav]);
    const { probeMedia } = await import('../../src/media/probe.js');
    const info = await probeMedia(mkv);
    assert.deepEqual([info.video!.codec, info.video!.width, info.video!.fps, info.audio!.codec, info.audio!.sampleRate], ['mpeg4', 80, 12, 'flac', 32000]);
    const both = await decodeAudioVisualClip(mkv, { startSec: 0.5, numFrames: 6, fps: 12, outWidth: 40, outHeight: 30 }, { startSec: 0.4, durationSec: 1, sampleRate: 24000 });
    assert.deepEqual([both.video.paddedFrames, both.audio.paddedSamples, both.audio.samples.length], [0, 0, 24000]);
    const wavInfo = await probeMedia(wav);
    assert.equal(wavInfo.video, null);
    const tone = await decodeAudio(wav, { startSec: 0, durationSec: 2, sampleRate: 24000 });
    assert.equal(tone.samples.length, 48000);
    assert.ok(Math.abs(tone.paddedSamples - 12000) <= 50, `0.5 s of silence after the 1.5 s file: ${tone.paddedSamples}`);
  } finally {
    cleanup();
  }
});

/** A pid that exists and is not a zombie. */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

test('abort stops the in-process decode: AbortError, no child process, and the decoder still works', { skip: skipWithoutAvClips }, async () => {
  const controller = new AbortController();
  const pending = decodeVideoClip(avClip('car-detection.mp4'), { startSec: 0, numFrames: 300, fps: 10, outWidth: 768, outHeight: 432 }, { signal: controller.signal });
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(liveChildPids(), [], 'decoding starts no process');
  controller.abort();
  await assert.rejects(pending, AbortError);
  const after = await decodeVideoClip(avClip('car-detection.mp4'), { startSec: 1, numFrames: 2, fps: 10, outWidth: 32, outHeight: 32 });
  assert.equal(after.decodedFrames, 2);
});

// The ffmpeg program still runs as a child (it writes files, and it is the decoders' test oracle): its
// children must not outlive the parent.
for (const how of ['exit', 'SIGINT', 'SIGTERM'] as const) {
  test(`ffmpeg children die with their parent (${how})`, { skip: skipWithoutAvClips }, async () => {
    const { dir, cleanup } = makeTempDir();
    try {
      const script = path.join(dir, 'child.mts');
      writeFileSync(script, `
        import { decodeVideoClipWithFfmpeg as decodeVideoClip } from ${JSON.stringify(path.join(repoRoot, 'test/helpers/ffmpeg-program-decode.ts'))};
        import { liveChildPids } from ${JSON.stringify(path.join(repoRoot, 'src/media/child-processes.ts'))};
        const big = { startSec: 0, numFrames: 300, fps: 10, outWidth: 768, outHeight: 432 };
        decodeVideoClip(${JSON.stringify(avClip('car-detection.mp4'))}, big).catch(() => {});
        decodeVideoClip(${JSON.stringify(avClip('applausing.mp4'))}, big).catch(() => {});
        setTimeout(() => {
          console.log(JSON.stringify(liveChildPids()));
          if (${JSON.stringify(how)} === 'exit') process.exit(0);
        }, 100);
        setTimeout(() => {}, 30000);
      `);
      const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
      const pids: number[] = await new Promise((resolve) => child.stdout.once('data', (d) => resolve(JSON.parse(String(d)))));
      assert.equal(pids.length, 2);
      if (how !== 'exit') child.kill(how);
      const code = await new Promise((resolve) => child.once('close', (c, s) => resolve(c ?? s)));
      assert.equal(code, how === 'exit' ? 0 : how, 'the default signal behaviour is kept');
      // The children are killed when the parent goes; on a loaded machine the kernel may take a moment to
      // finish them, so poll for up to 1 s instead of looking once after 100 ms.
      const deadline = Date.now() + 1000;
      while (pids.some(isRunning) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      for (const pid of pids) assert.equal(isRunning(pid), false, `ffmpeg ${pid} still running`);
    } finally {
      cleanup();
    }
  });
}
