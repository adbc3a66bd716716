// The ffmpeg program as a decoder: how avid decoded clips before it decoded in process (src/media/decode.ts),
// kept as the oracle of the parity tests (test/media/native-decode.test.ts). One ffmpeg process per clip does
// the seek, the frame-rate conversion, the crop, the resize and the flip, and streams raw pixels (rgb24) or
// samples (mono f32le) on stdout. Arguments are arrays (file names never reach a shell).
import { endianness } from 'node:os';
import { runProcess, lastErrorLine } from '../../src/media/child-processes.js';
import { DecodeError, type AudioRequest, type DecodedAudio, type DecodedAudioVisualClip, type DecodedVideoClip, type DecodeOptions, type VideoClipRequest } from '../../src/media/decode.js';

export interface FfmpegDecodeOptions extends DecodeOptions {
  /** Decoder threads per ffmpeg process (default 1). */
  threads?: number;
  ffmpeg?: string;
}

if (endianness() !== 'LE') throw new Error('avid media decoding assumes a little-endian machine (f32le output)');

function seconds(value: number): string {
  return Math.max(0, value).toFixed(6);
}

function positiveInt(name: string, value: number): void {
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got ${value}`);
}

/** The ffmpeg filter chain of a clip request (exported for tests and for the cache key). */
export function videoFilterChain(request: VideoClipRequest): string {
  const filters = [`fps=${request.fps}`];
  const c = request.crop;
  if (c) filters.push(`crop=${Math.round(c.width)}:${Math.round(c.height)}:${Math.round(c.x)}:${Math.round(c.y)}`);
  filters.push(`scale=${request.outWidth}:${request.outHeight}:flags=bilinear`);
  if (request.flip) filters.push('hflip');
  filters.push('format=rgb24');
  return filters.join(',');
}

/**
 * Decodes `numFrames` frames at `fps` from `startSec`, cropped, resized and optionally flipped. If the file
 * ends before the clip does, the last frame is repeated and `paddedFrames` says how many; if no frame at all
 * can be decoded, rejects with a DecodeError.
 */
export async function decodeVideoClipWithFfmpeg(path: string, request: VideoClipRequest, options: FfmpegDecodeOptions = {}): Promise<DecodedVideoClip> {
  positiveInt('numFrames', request.numFrames);
  positiveInt('outWidth', request.outWidth);
  positiveInt('outHeight', request.outHeight);
  if (!(request.fps > 0)) throw new Error(`fps must be > 0, got ${request.fps}`);
  const c = request.crop;
  if (c && !(c.width >= 1 && c.height >= 1 && c.x >= 0 && c.y >= 0)) {
    throw new Error(`invalid crop box ${JSON.stringify(c)}: width and height must be ≥ 1 and x, y ≥ 0`);
  }
  const frameBytes = request.outWidth * request.outHeight * 3;
  const pixels = new Uint8Array(frameBytes * request.numFrames);
  const args = [
    '-nostdin', '-hide_banner', '-v', 'error',
    '-threads', String(options.threads ?? 1),
    // Before -i: a fast keyframe seek, then decoding (accurately) up to the requested time.
    '-ss', seconds(request.startSec),
    '-i', `file:${path}`,
    '-map', '0:v:0', '-an', '-sn', '-dn',
    '-filter_threads', '1',
    // Time zero at the first frame kept, as in decodeAudioVisualClip: both pick the same frames.
    '-vf', `setpts=PTS-STARTPTS,${videoFilterChain(request)}`,
    '-frames:v', String(request.numFrames),
    '-pix_fmt', 'rgb24', '-f', 'rawvideo', 'pipe:1',
  ];
  const result = await runProcess(options.ffmpeg ?? 'ffmpeg', args, { signal: options.signal, timeoutMs: options.timeoutMs ?? 60_000, stdoutInto: pixels });
  if (result.timedOut) throw new DecodeError(path, 'decode timed out', `after ${(options.timeoutMs ?? 60_000) / 1000} s`);
  const decodedFrames = Math.min(request.numFrames, Math.floor(result.stdoutBytes / frameBytes));
  if (decodedFrames === 0) {
    const said = lastErrorLine(result.stderr);
    if (/matches no streams/.test(result.stderr)) throw new DecodeError(path, 'no video stream');
    if (result.exitCode === 0) throw new DecodeError(path, 'no frames', `nothing to decode from ${request.startSec.toFixed(2)} s`);
    throw new DecodeError(path, 'unreadable', said || `ffmpeg exited with ${result.exitCode ?? result.signal}`);
  }
  const last = pixels.subarray((decodedFrames - 1) * frameBytes, decodedFrames * frameBytes);
  for (let f = decodedFrames; f < request.numFrames; f++) pixels.set(last, f * frameBytes);
  return {
    pixels,
    numFrames: request.numFrames,
    width: request.outWidth,
    height: request.outHeight,
    decodedFrames,
    paddedFrames: request.numFrames - decodedFrames,
  };
}

/**
 * Decodes `durationSec` of audio from `startSec`, downmixed to mono and resampled to `sampleRate`, as
 * float32. The result has exactly round(durationSec × sampleRate) samples: silence fills whatever lies
 * outside the file. Rejects with a DecodeError when the file has no audio or it cannot be read.
 */
export async function decodeAudioWithFfmpeg(path: string, request: AudioRequest, options: FfmpegDecodeOptions = {}): Promise<DecodedAudio> {
  positiveInt('sampleRate', request.sampleRate);
  if (!(request.durationSec > 0)) throw new Error(`durationSec must be > 0, got ${request.durationSec}`);
  const total = Math.round(request.durationSec * request.sampleRate);
  const samples = new Float32Array(total);
  // A window that starts before the file: silence first, then the file from 0.
  const leading = Math.min(total, Math.max(0, Math.round(-request.startSec * request.sampleRate)));
  const wanted = total - leading;
  let decoded = 0;
  if (wanted > 0) {
    const target = new Uint8Array(samples.buffer, leading * 4, wanted * 4);
    const args = [
      '-nostdin', '-hide_banner', '-v', 'error',
      '-threads', String(options.threads ?? 1),
      '-ss', seconds(request.startSec),
      '-i', `file:${path}`,
      '-map', '0:a:0', '-vn', '-sn', '-dn',
      '-ac', '1', '-ar', String(request.sampleRate),
      // A few samples more than needed, so the resampler's rounding never leaves the last one empty.
      '-t', seconds(wanted / request.sampleRate + 0.01),
      '-f', 'f32le', 'pipe:1',
    ];
    const result = await runProcess(options.ffmpeg ?? 'ffmpeg', args, { signal: options.signal, timeoutMs: options.timeoutMs ?? 60_000, stdoutInto: target });
    if (result.timedOut) throw new DecodeError(path, 'decode timed out', `after ${(options.timeoutMs ?? 60_000) / 1000} s`);
    decoded = Math.min(wanted, Math.floor(result.stdoutBytes / 4));
    if (result.exitCode !== 0) {
      const said = lastErrorLine(result.stderr);
      if (/matches no streams/.test(result.stderr)) throw new DecodeError(path, 'no audio stream');
      if (decoded === 0) throw new DecodeError(path, 'unreadable', said || `ffmpeg exited with ${result.exitCode ?? result.signal}`);
    }
  }
  return { samples, sampleRate: request.sampleRate, paddedSamples: total - decoded };
}

/**
 * The video clip and the audio window of one training or evaluation sample from ONE ffmpeg process: one
 * start-up (≈ 90 ms of CPU for Debian's ffmpeg, as much as decoding 2 s of audio), one open and one seek
 * (to the earlier of the two starts; trim filters cut each stream from there). Frames go to stdout, samples
 * to fd 3. Same results as decodeVideoClip + decodeAudio, at about two thirds of the CPU.
 */
export async function decodeAudioVisualClipWithFfmpeg(path: string, video: VideoClipRequest, audio: AudioRequest, options: FfmpegDecodeOptions = {}): Promise<DecodedAudioVisualClip> {
  positiveInt('numFrames', video.numFrames);
  positiveInt('outWidth', video.outWidth);
  positiveInt('outHeight', video.outHeight);
  positiveInt('sampleRate', audio.sampleRate);
  if (!(video.fps > 0)) throw new Error(`fps must be > 0, got ${video.fps}`);
  if (!(audio.durationSec > 0)) throw new Error(`durationSec must be > 0, got ${audio.durationSec}`);
  const c = video.crop;
  if (c && !(c.width >= 1 && c.height >= 1 && c.x >= 0 && c.y >= 0)) {
    throw new Error(`invalid crop box ${JSON.stringify(c)}: width and height must be ≥ 1 and x, y ≥ 0`);
  }
  const frameBytes = video.outWidth * video.outHeight * 3;
  const pixels = new Uint8Array(frameBytes * video.numFrames);
  const totalSamples = Math.round(audio.durationSec * audio.sampleRate);
  const samples = new Float32Array(totalSamples);
  const leading = Math.min(totalSamples, Math.max(0, Math.round(-audio.startSec * audio.sampleRate)));
  const wanted = totalSamples - leading;
  const videoStart = Math.max(0, video.startSec);
  const audioStart = Math.max(0, audio.startSec);
  const seekTo = Math.min(videoStart, audioStart);
  const trim = (name: string, from: number) => (from - seekTo > 1e-6 ? `${name}=start=${seconds(from - seekTo)},` : '');
  const graph =
    `[0:v:0]${trim('trim', videoStart)}setpts=PTS-STARTPTS,${videoFilterChain(video)}[v];` +
    `[0:a:0]${trim('atrim', audioStart)}asetpts=PTS-STARTPTS[a]`;
  const args = [
    '-nostdin', '-hide_banner', '-v', 'error',
    '-threads', String(options.threads ?? 1),
    '-ss', seconds(seekTo),
    '-i', `file:${path}`,
    '-filter_complex_threads', '1',
    '-filter_complex', graph,
    '-map', '[v]', '-frames:v', String(video.numFrames), '-pix_fmt', 'rgb24', '-f', 'rawvideo', 'pipe:1',
    '-map', '[a]', '-ac', '1', '-ar', String(audio.sampleRate), '-t', seconds(Math.max(wanted, 1) / audio.sampleRate + 0.01), '-f', 'f32le', 'pipe:3',
  ];
  const audioTarget = new Uint8Array(samples.buffer, leading * 4, wanted * 4);
  const result = await runProcess(options.ffmpeg ?? 'ffmpeg', args, {
    signal: options.signal,
    timeoutMs: options.timeoutMs ?? 60_000,
    stdoutInto: pixels,
    extraOutputs: [audioTarget],
  });
  if (result.timedOut) throw new DecodeError(path, 'decode timed out', `after ${(options.timeoutMs ?? 60_000) / 1000} s`);
  const decodedFrames = Math.min(video.numFrames, Math.floor(result.stdoutBytes / frameBytes));
  const decodedSamples = wanted > 0 ? Math.min(wanted, Math.floor(result.extraBytes[0] / 4)) : 0;
  if (decodedFrames === 0 || (result.exitCode !== 0 && decodedSamples === 0 && wanted > 0)) {
    const said = lastErrorLine(result.stderr);
    if (/specifier ':v:0'.*matches no streams/.test(result.stderr)) throw new DecodeError(path, 'no video stream');
    if (/specifier ':a:0'.*matches no streams/.test(result.stderr)) throw new DecodeError(path, 'no audio stream');
    if (result.exitCode === 0) throw new DecodeError(path, 'no frames', `nothing to decode from ${video.startSec.toFixed(2)} s`);
    throw new DecodeError(path, 'unreadable', said || `ffmpeg exited with ${result.exitCode ?? result.signal}`);
  }
  const last = pixels.subarray((decodedFrames - 1) * frameBytes, decodedFrames * frameBytes);
  for (let f = decodedFrames; f < video.numFrames; f++) pixels.set(last, f * frameBytes);
  return {
    video: { pixels, numFrames: video.numFrames, width: video.outWidth, height: video.outHeight, decodedFrames, paddedFrames: video.numFrames - decodedFrames },
    audio: { samples, sampleRate: audio.sampleRate, paddedSamples: totalSamples - decodedSamples },
  };
}
