// The ffmpeg writer on its own: several files from one process, each with its own frames and sound, and
// clear errors (no ffmpeg, a bad chunk, ffmpeg refusing the input) that leave no file behind.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encodeMp4, encodeMp4s } from '../../src/data/synth/index.js';
import { decodeAudio, decodeFrames } from './analysis.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'avid-synth-encode-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const format = { width: 32, height: 32, fps: 8, sampleRate: 16000 };

function solidFrames(rgb: [number, number, number], count: number): Uint8Array {
  const out = new Uint8Array(count * format.width * format.height * 3);
  for (let i = 0; i < out.length; i += 3) out.set(rgb, i);
  return out;
}

function sine(hz: number, seconds: number, amplitude: number): Float32Array {
  return Float32Array.from({ length: seconds * format.sampleRate }, (_, i) => amplitude * Math.sin((2 * Math.PI * hz * i) / format.sampleRate));
}

test('one ffmpeg writes several files, each with its own frames and sound', async () => {
  const colours: [number, number, number][] = [[200, 30, 30], [30, 200, 30], [30, 30, 200]];
  const amplitudes = [0.05, 0.2, 0.5];
  await encodeMp4s(format, colours.map((rgb, b) => ({
    path: path.join(tmp, `ok-${b}.mp4`),
    // Two chunks of 4 frames: 1 s at 8 fps.
    frames: [solidFrames(rgb, 4), solidFrames(rgb, 4)],
    audio: sine(440, 1, amplitudes[b]),
  })));
  colours.forEach((rgb, b) => {
    const file = path.join(tmp, `ok-${b}.mp4`);
    const frames = decodeFrames(file);
    assert.equal(frames.length, 8 * 32 * 32 * 3);
    for (let c = 0; c < 3; c++) {
      let sum = 0;
      for (let i = c; i < frames.length; i += 3) sum += frames[i];
      assert.ok(Math.abs(sum / (frames.length / 3) - rgb[c]) < 6, `${file}: channel ${c} is ${sum / (frames.length / 3)}, expected ${rgb[c]}`);
    }
    const audio = decodeAudio(file, format.sampleRate);
    const rms = Math.sqrt(audio.slice(1600, 14400).reduce((s, v) => s + v * v, 0) / 12800);
    assert.ok(Math.abs(rms - amplitudes[b] / Math.SQRT2) < 0.1 * amplitudes[b], `${file}: RMS ${rms}, expected ${amplitudes[b] / Math.SQRT2}`);
  });
  assert.deepEqual(readdirSync(tmp).filter((f) => f.endsWith('.part')), []);
});

test('errors say what went wrong and leave no file behind', async () => {
  const target = path.join(tmp, 'bad.mp4');
  const item = { path: target, frames: [solidFrames([1, 2, 3], 8)], audio: sine(440, 1, 0.1) };
  await assert.rejects(encodeMp4({ ...format, ...item, ffmpegPath: path.join(tmp, 'no-such-ffmpeg') }), /cannot run ffmpeg .*ENOENT.*installed/);
  await assert.rejects(encodeMp4({ ...format, ...item, frames: [new Uint8Array(100)] }), /a chunk after frame 0 has 100 bytes, not a multiple of the 3072 of a frame/);
  // libx264 with 4:2:0 chroma refuses an odd width; ffmpeg's own message comes through.
  const odd = { ...format, width: 33, height: 32 };
  await assert.rejects(encodeMp4({ ...odd, ...item, frames: [new Uint8Array(33 * 32 * 3 * 8)] }), /ffmpeg .*bad\.mp4.*(divisible|width)/is);
  assert.equal(existsSync(target), false);
  assert.deepEqual(readdirSync(tmp).filter((f) => f.startsWith('bad')), []);
});
