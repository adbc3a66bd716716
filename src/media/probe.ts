// What a media file holds, from ffprobe's JSON: duration, the video stream, the audio stream — or a typed
// reason why the file cannot be used at all.
import { open, stat } from 'node:fs/promises';
import { runProcess, lastErrorLine } from './child-processes.js';

export interface VideoStreamInfo {
  codec: string;
  /** Width and height as displayed, i.e. after the rotation ffmpeg applies while decoding. */
  width: number;
  height: number;
  /** Width and height as coded in the stream (before rotation). */
  codedWidth: number;
  codedHeight: number;
  /** Frames per second (average rate, falling back to the container's base rate). */
  fps: number;
  /** Display rotation in degrees (0, 90, 180, 270); ffmpeg applies it while decoding (autorotate). */
  rotation: number;
  durationSec: number;
}

export interface AudioStreamInfo {
  codec: string;
  sampleRate: number;
  channels: number;
  durationSec: number;
}

export interface MediaInfo {
  path: string;
  /** ffprobe's container name(s), e.g. "mov,mp4,m4a,3gp,3g2,mj2". */
  container: string;
  durationSec: number;
  sizeBytes: number;
  video: VideoStreamInfo | null;
  audio: AudioStreamInfo | null;
}

/** Why a file cannot be used at all, whatever the mode. */
export type ProbeFailureReason = 'zero-length' | 'not a media file' | 'unreadable';

export class MediaProbeError extends Error {
  constructor(
    readonly path: string,
    readonly reason: ProbeFailureReason,
    /** What ffprobe or the file system said, or what was found: for the log and the rejects file. */
    readonly detail: string,
  ) {
    super(`${path}: ${reason}${detail ? ` (${detail})` : ''}`);
    this.name = 'MediaProbeError';
  }
}

export interface ProbeOptions {
  /**
   * Also read the last second of packets, so that a truncated file (a header promising more than the file
   * holds: an interrupted download or copy) is rejected now rather than failing decode after decode during
   * training. Costs one more, demux-only ffprobe run. Default true.
   */
  verifyEnd?: boolean;
  signal?: AbortSignal;
  ffprobe?: string;
  timeoutMs?: number;
}

// Containers that ffprobe opens but that are not audio or video: text shown as "tele-typewriter" video,
// single images, subtitle files.
const STILL_IMAGE_FORMAT = /(^|,)(image2|[a-z0-9]+_pipe|gif|apng|webp)(,|$)/;
const NON_MEDIA_FORMATS = new Set(['tty', 'srt', 'ass', 'webvtt', 'subviewer', 'microdvd', 'jacosub', 'lrc', 'ffmetadata']);

function parseRate(rate: string | undefined): number {
  if (!rate) return 0;
  const [num, den] = rate.split('/').map(Number);
  if (!Number.isFinite(num)) return 0;
  if (den === undefined) return num;
  return den > 0 && Number.isFinite(den) ? num / den : 0;
}

function parseSeconds(value: unknown): number {
  const n = typeof value === 'string' ? Number(value) : typeof value === 'number' ? value : NaN;
  return Number.isFinite(n) && n > 0 ? n : 0;
}

/** Rotation (0/90/180/270) from a stream's display matrix (as ffprobe reports it) or its legacy rotate tag. */
function rotationOf(stream: FfprobeStream): number {
  let degrees = 0;
  const sideRotation = stream.side_data_list?.find((s) => typeof s.rotation === 'number')?.rotation;
  if (typeof sideRotation === 'number') degrees = sideRotation;
  else if (stream.tags?.rotate !== undefined) degrees = Number(stream.tags.rotate) || 0;
  return (((Math.round(degrees / 90) * 90) % 360) + 360) % 360;
}

interface FfprobeStream {
  index: number;
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  sample_rate?: string;
  channels?: number;
  duration?: string;
  disposition?: Record<string, number>;
  tags?: Record<string, string>;
  side_data_list?: { rotation?: number }[];
}
interface FfprobeOutput {
  streams?: FfprobeStream[];
  format?: { format_name?: string; duration?: string; size?: string };
}

/** True when the first bytes look like text (no NUL bytes, almost all printable): a mislabelled document. */
function looksLikeText(bytes: Uint8Array): boolean {
  if (bytes.length === 0) return false;
  let printable = 0;
  for (const b of bytes) {
    if (b === 0) return false;
    if (b === 9 || b === 10 || b === 13 || (b >= 32 && b !== 127)) printable++;
  }
  return printable / bytes.length > 0.95;
}

/** True when the file starts like a container ffmpeg knows, so a failure to open it means damage. */
function hasMediaSignature(b: Uint8Array): boolean {
  const ascii = (from: number, to: number) => String.fromCharCode(...b.subarray(from, to));
  return (
    ascii(4, 8) === 'ftyp' || ascii(4, 8) === 'moov' || ascii(4, 8) === 'mdat' || ascii(4, 8) === 'free' ||
    ascii(0, 4) === 'RIFF' || ascii(0, 4) === 'OggS' || ascii(0, 4) === 'fLaC' || ascii(0, 3) === 'ID3' ||
    (b[0] === 0x1a && b[1] === 0x45 && b[2] === 0xdf && b[3] === 0xa3) || // Matroska / WebM
    (b[0] === 0xff && (b[1] & 0xe0) === 0xe0) || // MPEG audio frame sync
    (b[0] === 0x47 && b.length > 188 && b[188] === 0x47) || // MPEG-TS
    (b[0] === 0 && b[1] === 0 && b[2] === 1 && (b[3] === 0xba || b[3] === 0xb3)) // MPEG-PS / ES
  );
}

function fileSystemMessage(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  const known: Record<string, string> = { ENOENT: 'no such file', EACCES: 'permission denied', EISDIR: 'a directory', ELOOP: 'too many symbolic links' };
  return (code && known[code]) ?? (error instanceof Error ? error.message : String(error));
}

async function readHead(path: string, bytes: number): Promise<Uint8Array> {
  const handle = await open(path, 'r');
  try {
    const buffer = new Uint8Array(bytes);
    const { bytesRead } = await handle.read(buffer, 0, bytes, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/**
 * Probes `path` with ffprobe. Resolves with what the file holds (either stream may be null: whether that is
 * acceptable depends on the use, see data/manifest.ts). Rejects with a MediaProbeError when the file cannot
 * be used at all: empty, not a media file, or unreadable (missing, no permission, damaged, truncated).
 */
export async function probeMedia(path: string, options: ProbeOptions = {}): Promise<MediaInfo> {
  const ffprobe = options.ffprobe ?? 'ffprobe';
  let sizeBytes: number;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new MediaProbeError(path, 'not a media file', 'not a regular file');
    sizeBytes = st.size;
  } catch (error) {
    if (error instanceof MediaProbeError) throw error;
    throw new MediaProbeError(path, 'unreadable', fileSystemMessage(error));
  }
  if (sizeBytes === 0) throw new MediaProbeError(path, 'zero-length', '0 bytes');

  let head: Uint8Array;
  try {
    head = await readHead(path, 4096);
  } catch (error) {
    throw new MediaProbeError(path, 'unreadable', fileSystemMessage(error));
  }

  // "file:" keeps a name such as "-" or "pipe:0" from meaning anything but a file.
  const result = await runProcess(
    ffprobe,
    ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', `file:${path}`],
    { signal: options.signal, timeoutMs: options.timeoutMs ?? 30_000 },
  );
  if (result.timedOut) throw new MediaProbeError(path, 'unreadable', 'ffprobe timed out');
  if (result.exitCode !== 0) {
    const message = lastErrorLine(result.stderr).replace(`file:${path}: `, '') || `ffprobe exited with ${result.exitCode}`;
    if (looksLikeText(head)) throw new MediaProbeError(path, 'not a media file', `a text file; ffprobe: ${message}`);
    if (!hasMediaSignature(head)) throw new MediaProbeError(path, 'not a media file', `ffprobe: ${message}`);
    throw new MediaProbeError(path, 'unreadable', `ffprobe: ${message}`);
  }

  let parsed: FfprobeOutput;
  try {
    parsed = JSON.parse(Buffer.from(result.stdout).toString('utf8')) as FfprobeOutput;
  } catch {
    throw new MediaProbeError(path, 'unreadable', 'ffprobe printed invalid JSON');
  }
  const container = parsed.format?.format_name ?? '';
  if (NON_MEDIA_FORMATS.has(container) || (container === '' && looksLikeText(head))) {
    throw new MediaProbeError(path, 'not a media file', container === 'tty' ? 'a text file' : `format '${container}'`);
  }
  if (STILL_IMAGE_FORMAT.test(container)) {
    throw new MediaProbeError(path, 'not a media file', `a still image (${container})`);
  }

  const streams = parsed.streams ?? [];
  const formatDuration = parseSeconds(parsed.format?.duration);
  // Cover art in audio files is a "video" stream of one picture: not video.
  const videoStream = streams.find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic);
  const audioStream = streams.find((s) => s.codec_type === 'audio');
  if (!videoStream && !audioStream) {
    throw new MediaProbeError(path, 'not a media file', `no audio or video stream (format '${container}')`);
  }

  let video: VideoStreamInfo | null = null;
  if (videoStream) {
    const rotation = rotationOf(videoStream);
    const codedWidth = videoStream.width ?? 0;
    const codedHeight = videoStream.height ?? 0;
    const quarterTurn = rotation === 90 || rotation === 270;
    video = {
      codec: videoStream.codec_name ?? 'unknown',
      width: quarterTurn ? codedHeight : codedWidth,
      height: quarterTurn ? codedWidth : codedHeight,
      codedWidth,
      codedHeight,
      fps: parseRate(videoStream.avg_frame_rate) || parseRate(videoStream.r_frame_rate),
      rotation,
      durationSec: parseSeconds(videoStream.duration) || formatDuration,
    };
    if (codedWidth <= 0 || codedHeight <= 0) {
      throw new MediaProbeError(path, 'unreadable', `video stream ${videoStream.index} has no frame size (${video.codec})`);
    }
  }
  const audio: AudioStreamInfo | null = audioStream
    ? {
        codec: audioStream.codec_name ?? 'unknown',
        sampleRate: Number(audioStream.sample_rate) || 0,
        channels: audioStream.channels ?? 0,
        durationSec: parseSeconds(audioStream.duration) || formatDuration,
      }
    : null;
  const durationSec = formatDuration || Math.max(video?.durationSec ?? 0, audio?.durationSec ?? 0);
  const info: MediaInfo = { path, container, durationSec, sizeBytes, video, audio };

  if (options.verifyEnd ?? true) await verifyEnd(info, ffprobe, options);
  return info;
}

/**
 * Reads the packets of the last second. A file whose header promises more than it holds yields none there
 * (or ffprobe reports "partial file"); then find where the data really ends, for a useful message.
 */
async function verifyEnd(info: MediaInfo, ffprobe: string, options: ProbeOptions): Promise<void> {
  const { path, durationSec } = info;
  if (durationSec <= 0) return; // nothing promised; the manifest rejects it as zero-length
  const packetsFrom = async (startSec: number | null) => {
    const args = ['-v', 'error', '-of', 'csv=p=0', '-show_entries', 'packet=pts_time,duration_time'];
    if (startSec !== null) args.push('-read_intervals', `${startSec.toFixed(3)}%`);
    args.push(`file:${path}`);
    const r = await runProcess(ffprobe, args, { signal: options.signal, timeoutMs: options.timeoutMs ?? 30_000, maxStdoutBytes: 32 * 1024 * 1024 });
    let end = 0;
    for (const line of Buffer.from(r.stdout).toString('utf8').split('\n')) {
      const [pts, dur] = line.split(',').map(Number);
      if (Number.isFinite(pts)) end = Math.max(end, pts + (Number.isFinite(dur) ? dur : 0));
    }
    const partial = /partial file|truncat|end of file/i.test(r.stderr);
    return { end, partial, ok: r.exitCode === 0 };
  };
  const tail = await packetsFrom(Math.max(0, durationSec - 1));
  if (tail.end > 0 && !tail.partial) return;
  const whole = await packetsFrom(null);
  const endsAt = whole.end;
  if (!whole.partial && endsAt >= durationSec - 1) return; // the tail seek misfired, but the data is all there
  throw new MediaProbeError(path, 'unreadable', `truncated: media data ends at ${endsAt.toFixed(2)} s of ${durationSec.toFixed(2)} s`);
}
