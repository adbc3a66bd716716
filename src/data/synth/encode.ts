// Writes .mp4 files (H.264 + AAC) by piping raw rgb24 frames and float samples into ffmpeg through extra
// file descriptors (fd 3, 4, ...), so that nothing touches the disk but the results. One ffmpeg process can
// write several files: starting ffmpeg costs about 0.1 s of CPU (it loads ~100 shared libraries), more
// than encoding a short clip, so short clips are encoded in batches. A file appears under its final name
// only once ffmpeg has succeeded.
import { spawn } from 'node:child_process';
import { rename, rm } from 'node:fs/promises';
import type { Writable } from 'node:stream';

export interface VideoFormat {
  width: number;
  height: number;
  fps: number;
  sampleRate: number;
  /** x264 constant rate factor (lower = better); 18 keeps the colours of small objects. */
  crf?: number;
  ffmpegPath?: string;
}

export interface EncodeItem {
  path: string;
  /** Chunks of whole frames, rgb24 (height x width x 3 bytes each), produced lazily so long videos stream. */
  frames: Iterable<Uint8Array>;
  /** Mono float samples. */
  audio: Float32Array;
}

export type EncodeOptions = VideoFormat & EncodeItem;

/** ffmpeg's arguments to write `outPaths[b]` from the pipes on fd 3 + 2b (video) and 4 + 2b (audio). */
export function ffmpegEncodeArgs(format: VideoFormat, outPaths: string[]): string[] {
  const args = ['-hide_banner', '-loglevel', 'error', '-nostdin'];
  outPaths.forEach((_, b) => {
    args.push('-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${format.width}x${format.height}`, '-framerate', String(format.fps), '-i', `pipe:${3 + 2 * b}`);
    args.push('-f', 'f32le', '-ar', String(format.sampleRate), '-ac', '1', '-i', `pipe:${4 + 2 * b}`);
  });
  outPaths.forEach((outPath, b) => {
    args.push(
      '-map', `${2 * b}:v:0`, '-map', `${2 * b + 1}:a:0`,
      // One encoder thread: the frames are tiny, and several encodes run side by side instead.
      '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', String(format.crf ?? 18), '-pix_fmt', 'yuv420p',
      '-g', String(format.fps), '-threads', '1',
      // The 'fast' coder: the default (twoloop) costs up to 5x more CPU on pure tones, for no audible gain here.
      '-c:a', 'aac', '-aac_coder', 'fast', '-b:a', '64k',
      '-movflags', '+faststart', '-f', 'mp4', '-y', outPath,
    );
  });
  return args;
}

/**
 * Writes `chunk`, waiting for the pipe to drain when it is full. A broken pipe is not reported here:
 * `aborted` rejects when ffmpeg goes away, with the reason ffmpeg gave rather than a bare EPIPE.
 */
async function writeAll(stream: Writable, chunk: Uint8Array, aborted: Promise<never>): Promise<void> {
  if (!stream.write(chunk)) await Promise.race([new Promise<void>((resolve) => stream.once('drain', resolve)), aborted]);
}

/** Encodes several videos of one format with one ffmpeg process. */
export async function encodeMp4s(format: VideoFormat, items: EncodeItem[]): Promise<void> {
  if (items.length === 0) return;
  const partPaths = items.map((item) => `${item.path}.part`);
  const child = spawn(format.ffmpegPath ?? 'ffmpeg', ffmpegEncodeArgs(format, partPaths), {
    stdio: ['ignore', 'ignore', 'pipe', ...items.flatMap(() => ['pipe', 'pipe'] as const)],
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (s: string) => {
    stderr = (stderr + s).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  });
  const aborted = exited.then(
    (code) => Promise.reject(new Error(`ffmpeg exited (code ${code}) before all frames of ${items.map((i) => i.path).join(', ')} were written: ${stderr.trim()}`)),
    (error: Error) => Promise.reject(new Error(`cannot run ffmpeg (${error.message}); is it installed and on PATH?`)),
  );
  aborted.catch(() => undefined);
  const removeParts = (): Promise<unknown> => Promise.all(partPaths.map((p) => rm(p, { force: true })));

  const frameBytes = format.width * format.height * 3;
  const feed = async (item: EncodeItem, b: number): Promise<void> => {
    const video = child.stdio[3 + 2 * b] as Writable;
    const audioPipe = child.stdio[4 + 2 * b] as Writable;
    // A broken pipe surfaces as a stream 'error'; the exit code and stderr then tell the real story.
    video.on('error', () => undefined);
    audioPipe.on('error', () => undefined);
    // The soundtrack is small: queue all of it; ffmpeg reads it as it needs it, interleaved with the video.
    audioPipe.end(Buffer.from(item.audio.buffer, item.audio.byteOffset, item.audio.byteLength));
    let count = 0;
    for (const chunk of item.frames) {
      if (chunk.byteLength % frameBytes !== 0) {
        throw new Error(`${item.path}: a chunk after frame ${count} has ${chunk.byteLength} bytes, not a multiple of the ${frameBytes} of a frame`);
      }
      await writeAll(video, chunk, aborted);
      count += chunk.byteLength / frameBytes;
    }
    video.end();
  };
  try {
    await Promise.all(items.map(feed));
  } catch (error) {
    child.kill('SIGKILL');
    await exited.catch(() => undefined);
    await removeParts();
    throw error;
  }
  let code: number | null;
  try {
    code = await exited;
  } catch (error) {
    throw new Error(`cannot run ffmpeg (${(error as Error).message}); is it installed and on PATH?`);
  }
  if (code !== 0) {
    await removeParts();
    const names = items.map((i) => i.path).join(', ');
    throw new Error(`ffmpeg failed writing ${names} (exit ${code}): ${stderr.trim() || 'no message'}`);
  }
  await Promise.all(items.map((item, b) => rename(partPaths[b], item.path)));
}

/** Encodes one video. */
export async function encodeMp4(options: EncodeOptions): Promise<void> {
  const { path, frames, audio, ...format } = options;
  await encodeMp4s(format, [{ path, frames, audio }]);
}
