// Decoding clips in process with FFmpeg's libraries (native/media_*.cc): the file stays open between clips
// (a bounded cache of demuxers and decoders), each clip seeks to the keyframe before it and decodes forward,
// and frames and samples are written by a native thread straight into the arrays allocated here. The frames
// and samples equal those of the ffmpeg program with the filter chain that avid used before
// (`-ss S -i F -vf setpts=PTS-STARTPTS,fps=…,crop,scale=W:H:flags=bilinear[,hflip],format=rgb24`, and
// `-ac 1 -ar R` for audio): test/media/native-decode.test.ts checks it against the program.
import { decodeNative, type NativeClip } from './native-decoder.js';

/** A crop box in displayed source pixels (after the rotation ffmpeg applies). */
export interface CropBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface VideoClipRequest {
  startSec: number;
  numFrames: number;
  /** Output frame rate: frames are picked at startSec + k / fps (ffmpeg's fps filter, nearest frame). */
  fps: number;
  outWidth: number;
  outHeight: number;
  crop?: CropBox;
  flip?: boolean;
}

export interface AudioRequest {
  /** May be negative: the part before the file's start is silence. */
  startSec: number;
  durationSec: number;
  sampleRate: number;
}

export interface DecodeOptions {
  /** Aborting rejects with AbortError; the native decoder stops at its next packet. */
  signal?: AbortSignal;
  /** Give up on a clip after this long (default 60 s): a hung or pathological decode must not stall a run. */
  timeoutMs?: number;
  /**
   * Which clips of one call share a forward pass. 'same-seek' (default): only clips whose own seek lands on
   * the same packet (the same keyframe), so that every clip is byte-identical to decoding it alone — training
   * and evaluation both rely on that. 'nearby': clips that start within a second of the previous one's end —
   * the least decoding, but a clip's samples can then differ from decoding it alone (AAC's noise substitution
   * draws from a generator that runs from the decoder's first frame; AVI frame times are guessed from what
   * the decoder saw before).
   */
  join?: 'nearby' | 'same-seek';
}

export interface DecodedVideoClip {
  /** numFrames × outHeight × outWidth × 3, uint8 RGB, row-major. */
  pixels: Uint8Array;
  numFrames: number;
  width: number;
  height: number;
  /** Frames the file delivered; the rest (paddedFrames) repeat the last one because the file ended early. */
  decodedFrames: number;
  paddedFrames: number;
}

export interface DecodedAudio {
  /** Mono float32 at the requested rate, exactly round(durationSec × sampleRate) samples. */
  samples: Float32Array;
  sampleRate: number;
  /** Samples of silence added because the window started before or ended after the file. */
  paddedSamples: number;
}

/**
 * Why a decode failed; `reason` is short and stable (for counts: "no video stream", "no audio stream",
 * "unreadable", "no frames", "decode timed out"), `detail` says what FFmpeg said.
 */
export class DecodeError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
    readonly detail = '',
  ) {
    super(`${path}: ${reason}${detail ? ` (${detail})` : ''}`);
    this.name = 'DecodeError';
  }
}

export interface DecodedAudioVisualClip {
  video: DecodedVideoClip;
  audio: DecodedAudio;
}

/** One clip of a batch: its video, its audio, or both (decodeAudioVisualClip's pair). */
export interface ClipRequest {
  video?: VideoClipRequest;
  audio?: AudioRequest;
}

export interface DecodedClip {
  video?: DecodedVideoClip;
  audio?: DecodedAudio;
}

function positiveInt(name: string, value: number): void {
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got ${value}`);
}

function checkVideo(request: VideoClipRequest): void {
  positiveInt('numFrames', request.numFrames);
  positiveInt('outWidth', request.outWidth);
  positiveInt('outHeight', request.outHeight);
  if (!(request.fps > 0)) throw new Error(`fps must be > 0, got ${request.fps}`);
  if (!Number.isFinite(request.startSec)) throw new Error(`startSec must be a finite number, got ${request.startSec}`);
  const c = request.crop;
  if (c && !(c.width >= 1 && c.height >= 1 && c.x >= 0 && c.y >= 0)) {
    throw new Error(`invalid crop box ${JSON.stringify(c)}: width and height must be ≥ 1 and x, y ≥ 0`);
  }
}

function checkAudio(request: AudioRequest): void {
  positiveInt('sampleRate', request.sampleRate);
  if (!(request.durationSec > 0)) throw new Error(`durationSec must be > 0, got ${request.durationSec}`);
  if (!Number.isFinite(request.startSec)) throw new Error(`startSec must be a finite number, got ${request.startSec}`);
}

function nativeVideo(request: VideoClipRequest): NativeClip['video'] {
  const c = request.crop;
  return {
    startSec: request.startSec,
    numFrames: request.numFrames,
    fps: request.fps,
    outWidth: request.outWidth,
    outHeight: request.outHeight,
    // Rounded as the ffmpeg crop filter's arguments were.
    crop: c ? { x: Math.round(c.x), y: Math.round(c.y), width: Math.round(c.width), height: Math.round(c.height) } : undefined,
    flip: request.flip ?? false,
    pixels: new Uint8Array(request.numFrames * request.outWidth * request.outHeight * 3),
  };
}

function nativeAudio(request: AudioRequest): NativeClip['audio'] {
  return {
    startSec: request.startSec,
    durationSec: request.durationSec,
    sampleRate: request.sampleRate,
    samples: new Float32Array(Math.round(request.durationSec * request.sampleRate)),
  };
}

/**
 * Decodes several clips of one video in one call: clips close in time share one forward pass, the others
 * seek. The results come back in the order of `requests`. Rejects with the DecodeError of the first clip
 * (in request order) that failed, with AbortError when `options.signal` fires.
 */
export async function decodeClips(path: string, requests: readonly ClipRequest[], options: DecodeOptions = {}): Promise<DecodedClip[]> {
  return (await decodeClipsSettled(path, requests, options)).map((clip) => {
    if (clip instanceof DecodeError) throw clip;
    return clip;
  });
}

/**
 * decodeClips with each clip's failure as a value: a DecodeError in that clip's place, the other clips
 * decoded (a batch skips only the clips that failed). Rejects with AbortError when `options.signal` fires.
 */
export async function decodeClipsSettled(path: string, requests: readonly ClipRequest[], options: DecodeOptions = {}): Promise<(DecodedClip | DecodeError)[]> {
  const clips: NativeClip[] = requests.map((r) => {
    if (!r.video && !r.audio) throw new Error('a clip request needs video, audio or both');
    if (r.video) checkVideo(r.video);
    if (r.audio) checkAudio(r.audio);
    return { video: r.video && nativeVideo(r.video), audio: r.audio && nativeAudio(r.audio) };
  });
  const results = await decodeNative(path, clips, options);
  return results.map((result, i): DecodedClip | DecodeError => {
    if (result.reason) return new DecodeError(path, result.reason, result.detail);
    const clip = clips[i];
    const decoded: DecodedClip = {};
    if (clip.video) {
      const v = clip.video;
      decoded.video = { pixels: v.pixels, numFrames: v.numFrames, width: v.outWidth, height: v.outHeight, decodedFrames: result.decodedFrames, paddedFrames: v.numFrames - result.decodedFrames };
    }
    if (clip.audio) {
      decoded.audio = { samples: clip.audio.samples, sampleRate: clip.audio.sampleRate, paddedSamples: clip.audio.samples.length - result.decodedSamples };
    }
    return decoded;
  });
}

/**
 * Decodes `numFrames` frames at `fps` from `startSec`, cropped, resized and optionally flipped. If the file
 * ends before the clip does, the last frame is repeated and `paddedFrames` says how many; if no frame at all
 * can be decoded, rejects with a DecodeError.
 */
export async function decodeVideoClip(path: string, request: VideoClipRequest, options: DecodeOptions = {}): Promise<DecodedVideoClip> {
  const [clip] = await decodeClips(path, [{ video: request }], options);
  return clip.video!;
}

/**
 * Decodes `durationSec` of audio from `startSec`, downmixed to mono and resampled to `sampleRate`, as
 * float32. The result has exactly round(durationSec × sampleRate) samples: silence fills whatever lies
 * outside the file. Rejects with a DecodeError when the file has no audio or it cannot be read.
 */
export async function decodeAudio(path: string, request: AudioRequest, options: DecodeOptions = {}): Promise<DecodedAudio> {
  const [clip] = await decodeClips(path, [{ audio: request }], options);
  return clip.audio!;
}

/**
 * The video clip and the audio window of one training or evaluation sample in one pass over the file (one
 * seek, to the earlier of the two starts). Same results as decodeVideoClip + decodeAudio.
 */
export async function decodeAudioVisualClip(path: string, video: VideoClipRequest, audio: AudioRequest, options: DecodeOptions = {}): Promise<DecodedAudioVisualClip> {
  const [clip] = await decodeClips(path, [{ video, audio }], options);
  return { video: clip.video!, audio: clip.audio! };
}
