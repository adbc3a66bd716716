// Options of `generateWorld` / `avid synth`, their defaults, and their validation.
import { availableParallelism } from 'node:os';
import { MAX_CLASSES, MIN_CLASSES } from './catalogue.js';

export interface WorldOptions {
  /** Output directory; created if missing. A non-empty directory must hold an earlier world (world.json). */
  out: string;
  /** Number of short clips. */
  videos: number;
  /** Length of a short clip (s). */
  seconds: number;
  classes: number;
  /** Number of long videos (several shots of one scene each, for the long-form sampler). */
  longVideos: number;
  /** Length of a long video (s). */
  longSeconds: number;
  /** Range of shot lengths within a long video (s). */
  shotSeconds: [number, number];
  seed: number;
  /** Frame width and height (pixels, even). */
  size: number;
  fps: number;
  /** Audio sample rate (Hz). */
  sampleRate: number;
  /** Number of videos encoded at once (each by one single-threaded ffmpeg). */
  concurrency: number;
  /** Called after each video is written. */
  onProgress?: (done: number, total: number, file: string) => void;
}

/** The default demo world: 240 clips of 3 s and 4 one-minute videos, 8 classes, 128x128 at 16 fps, 24 kHz. */
export const WORLD_DEFAULTS: Readonly<Omit<WorldOptions, 'out' | 'onProgress'>> = Object.freeze({
  videos: 240,
  seconds: 3,
  classes: 8,
  longVideos: 4,
  longSeconds: 60,
  shotSeconds: [6, 14] as [number, number],
  seed: 0,
  size: 128,
  fps: 16,
  sampleRate: 24000,
  concurrency: Math.max(2, availableParallelism() + 1),
});

export const NUM_FOLDS = 5;
export const SAMPLE_RATES = [16000, 22050, 24000, 32000, 44100, 48000] as const;

function check(ok: boolean, message: string): void {
  if (!ok) throw new Error(message);
}

/** Fills in defaults and checks every option, naming the option and the allowed values on error. */
export function resolveWorldOptions(options: Partial<WorldOptions> & { out: string }): WorldOptions {
  const o: WorldOptions = { ...WORLD_DEFAULTS, ...stripUndefined(options) } as WorldOptions;
  check(typeof o.out === 'string' && o.out.length > 0, 'out: an output directory is required');
  const int = (key: keyof WorldOptions, lo: number, hi: number): void => {
    const v = o[key] as unknown;
    check(typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi, `${key}: must be an integer in [${lo}, ${hi}], got ${String(v)}`);
  };
  const num = (key: keyof WorldOptions, lo: number, hi: number): void => {
    const v = o[key] as unknown;
    check(typeof v === 'number' && Number.isFinite(v) && v >= lo && v <= hi, `${key}: must be a number in [${lo}, ${hi}], got ${String(v)}`);
  };
  int('videos', 0, 1_000_000);
  num('seconds', 0.5, 600);
  int('classes', MIN_CLASSES, MAX_CLASSES);
  int('longVideos', 0, 10_000);
  num('longSeconds', 1, 7200);
  int('seed', 0, 2 ** 32 - 1);
  int('size', 32, 1024);
  check(o.size % 2 === 0, `size: must be even (H.264 with 4:2:0 chroma), got ${o.size}`);
  int('fps', 4, 60);
  check((SAMPLE_RATES as readonly number[]).includes(o.sampleRate), `sampleRate: must be one of ${SAMPLE_RATES.join(', ')}, got ${o.sampleRate}`);
  int('concurrency', 1, 64);
  const [lo, hi] = o.shotSeconds ?? [];
  check(Array.isArray(o.shotSeconds) && o.shotSeconds.length === 2 && lo >= 1 && hi >= lo,
    `shotSeconds: must be [shortest, longest] with 1 <= shortest <= longest, got ${JSON.stringify(o.shotSeconds)}`);
  check(o.videos + o.longVideos > 0, 'videos + longVideos: nothing to generate (both are 0)');
  return o;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
