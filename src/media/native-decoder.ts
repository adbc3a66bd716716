// The native decoder's calling convention (native/media_binding.cc), typed: buffers allocated here are
// filled by a native thread; an Int32Array shared with it carries the cancellation.
import { native } from '../tensor/native.js';
import { AbortError } from './child-processes.js';

export interface NativeClip {
  video?: {
    startSec: number;
    numFrames: number;
    fps: number;
    outWidth: number;
    outHeight: number;
    crop?: { x: number; y: number; width: number; height: number };
    flip: boolean;
    pixels: Uint8Array;
  };
  audio?: { startSec: number; durationSec: number; sampleRate: number; samples: Float32Array };
}

export interface NativeClipResult {
  decodedFrames: number;
  decodedSamples: number;
  /** Set when the clip failed: a short stable reason, and what FFmpeg said. */
  reason?: string;
  detail?: string;
}

const defaultTimeoutMs = 60_000;
let inFlight = 0;

/** Decodes running on native threads now (tests use it to show that closing a loader stops them all). */
export function decodesInFlight(): number {
  return inFlight;
}

/** Decodes `clips` of one file on a native thread; resolves with one result per clip (failures as values). */
export async function decodeNative(path: string, clips: NativeClip[], options: { signal?: AbortSignal; timeoutMs?: number; join?: 'nearby' | 'same-seek' } = {}): Promise<NativeClipResult[]> {
  const { signal } = options;
  if (signal?.aborted) throw new AbortError();
  const cancel = new Int32Array(new SharedArrayBuffer(4));
  const onAbort = () => Atomics.store(cancel, 0, 1);
  signal?.addEventListener('abort', onAbort, { once: true });
  inFlight++;
  try {
    const results: NativeClipResult[] = await native.mediaDecode(path, clips, options.timeoutMs ?? defaultTimeoutMs, cancel, options.join ?? 'same-seek');
    if (signal?.aborted || results.some((r) => r.reason === 'aborted')) throw new AbortError();
    return results;
  } finally {
    inFlight--;
    signal?.removeEventListener('abort', onAbort);
  }
}

/** Open files the decoder keeps for reuse (idle ones; each holds one file descriptor). */
export function cachedContainerCount(): number {
  return native.mediaCachedContainers();
}

/** Closes the files the decoder keeps open. */
export function clearDecoderCache(): void {
  native.mediaClearCache();
}
