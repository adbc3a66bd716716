// Flag parsing shared by every command: node's parseArgs with "did you mean" for unknown flags, and the
// readers of the values commands share (numbers, lists, seeds, the checkpoint and its random architecture,
// the output). Every error names the flag and what it allows.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { RandomArchitecture } from '../train/run-artifact.js';
import { closest } from '../config/suggest.js';
import type { AudioFrontendName } from '../media/spectrogram.js';
import { evaluationFrontend } from '../eval/audio-frontend.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * node's parseArgs with errors that help: an unknown flag is reported as `unknown flag --widht (did you mean
 * --width?)`. Takes parseArgs' own config, so every command parses through here.
 */
export function parseCommandLine<C extends ParseArgsConfig>(config: C): ReturnType<typeof parseArgs<C>> {
  try {
    return parseArgs(config);
  } catch (error) {
    const e = error as Error & { code?: string };
    const unknown = /Unknown option '(-{1,2}[^']+)'/.exec(e.message);
    if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && unknown) {
      const flag = unknown[1];
      const guess = closest(flag.replace(/^-+/, '').split('=')[0], Object.keys(config.options ?? {}));
      throw new Error(`unknown flag ${flag}${guess ? ` (did you mean --${guess}?)` : ''}; --help lists the flags`);
    }
    if (e.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') throw new Error(`${e.message.replace(/\. .*$/, '')}: this command takes flags only`);
    throw new Error(e.message);
  }
}

/** parseCommandLine over `argv` with these options (strict; positionals only when asked for). */
// The return type is spelled out so declaration emit (the published dist/*.d.ts) can name it.
type FlagsConfig<O extends Options> = { args: string[]; options: O; allowPositionals: boolean; strict: true };
export function parseFlags<O extends Options>(argv: string[], options: O, o: { positionals?: boolean } = {}): ReturnType<typeof parseArgs<FlagsConfig<O>>> {
  return parseCommandLine({ args: argv, options, allowPositionals: o.positionals ?? false, strict: true });
}

function numberOf(text: string, flag: string, what: string, ok: (v: number) => boolean): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || !ok(v)) throw new Error(`${flag} must be ${what}; got '${text}'`);
  return v;
}

export const positiveInt = (text: string, flag: string) => numberOf(text, flag, 'a positive integer', (v) => Number.isInteger(v) && v >= 1);
export const nonNegativeInt = (text: string, flag: string) => numberOf(text, flag, 'an integer ≥ 0', (v) => Number.isInteger(v) && v >= 0);
export const positiveNumber = (text: string, flag: string) => numberOf(text, flag, 'a positive number', (v) => v > 0);
export const nonNegativeNumber = (text: string, flag: string) => numberOf(text, flag, 'a number ≥ 0', (v) => v >= 0);
export const fraction = (text: string, flag: string) => numberOf(text, flag, 'a number in [0, 1)', (v) => v >= 0 && v < 1);
export const seed = (text: string, flag = '--seed') => nonNegativeInt(text, flag);

/** 'a,b,c' → numbers. */
export function numberList(text: string, flag: string): number[] {
  const parts = text.split(',').map((s) => s.trim());
  const values = parts.map(Number);
  if (parts.some((p) => p === '') || values.some((v) => !Number.isFinite(v))) throw new Error(`${flag} must be a comma-separated list of numbers; got '${text}'`);
  return values;
}

/** 'a,b' → names, each one of `allowed`. */
export function nameList<N extends string>(text: string, flag: string, allowed: readonly N[]): N[] {
  const names = text.split(',').map((s) => s.trim());
  for (const name of names) {
    if (!(allowed as readonly string[]).includes(name)) {
      const guess = closest(name, allowed);
      throw new Error(`${flag}: unknown '${name}'${guess ? ` (did you mean '${guess}'?)` : ''}; allowed: ${allowed.join(', ')}`);
    }
  }
  return names as N[];
}

/** One of `allowed`. */
export function oneOf<N extends string>(text: string, flag: string, allowed: readonly N[]): N {
  return nameList(text, flag, allowed)[0];
}

/** '0-7' or '0,3,5'. */
export function seedList(text: string, flag = '--seeds'): number[] {
  const range = /^(\d+)-(\d+)$/.exec(text);
  const seeds = range ? Array.from({ length: Number(range[2]) - Number(range[1]) + 1 }, (_, i) => Number(range[1]) + i) : text.split(',').map(Number);
  if (!seeds.length || !seeds.every((x) => Number.isInteger(x) && x >= 0)) throw new Error(`${flag}: expected '0-7' or '0,3,5', got '${text}'`);
  return seeds;
}

/** The flags that give a `random` checkpoint its architecture. */
export const ARCHITECTURE_FLAGS = {
  model: { type: 'string' },
  width: { type: 'string' },
  frames: { type: 'string' },
  size: { type: 'string' },
} as const;

export const CHECKPOINT_HELP = `  --checkpoint RUN|FILE|random|random:<RUN|FILE|CONFIG>
                             a run directory, a checkpoint (one in a run's checkpoints/ counts as the run),
                             a plain state dict, or a seeded random network: 'random' takes its architecture
                             from --model/--width/--frames/--size, 'random:<...>' from that run, file or config`;

/**
 * `--checkpoint` and, for `random` only, its architecture flags. Any other input brings its own architecture
 * and clip geometry, so giving those flags with it is an error rather than silently ignored.
 */
export function checkpointFlag(
  values: { checkpoint?: string; model?: string; width?: string; frames?: string; size?: string },
  o: { defaultModel?: string; required?: boolean } = {},
): { input: string; random: RandomArchitecture } {
  const input = values.checkpoint;
  if (!input) throw new Error(`--checkpoint is required: a run directory, a checkpoint file, 'random' or 'random:<run|file>'`);
  const given = {
    model: values.model,
    width: values.width === undefined ? undefined : positiveNumber(values.width, '--width'),
    frames: values.frames === undefined ? undefined : positiveInt(values.frames, '--frames'),
    size: values.size === undefined ? undefined : positiveInt(values.size, '--size'),
  };
  if (input !== 'random') {
    const set = Object.entries(given).filter(([, v]) => v !== undefined).map(([k]) => `--${k}`);
    if (set.length) throw new Error(`${set.join(', ')}: only for --checkpoint random; ${input} brings its own architecture and clip geometry`);
    return { input, random: {} };
  }
  return { input, random: { ...given, model: given.model ?? o.defaultModel } };
}

/** `--frontend`: the log spectrogram an evaluation feeds the audio network (eval, eval-av, eval-sync, localize). */
export const FRONTEND_FLAGS = {
  frontend: { type: 'string' },
} as const;

export const FRONTEND_HELP = `  --frontend paper|reference the log spectrogram (default: the checkpoint's audio.frontend, 'paper' when it has
                             none; imported reference checkpoints: 'reference' with the spectrogram settings
                             of the checkpoint's config, see docs/published-checkpoints.md)`;

/** The --frontend value, checked before any work starts; undefined: the checkpoint's own. */
export function frontendFlag(values: { frontend?: string }): AudioFrontendName | undefined {
  return values.frontend === undefined ? undefined : evaluationFrontend(null, values.frontend);
}

/** `--audio-stats`: per-bin statistics over the checkpoint's, for the commands that read clip geometry (eval-av, eval-sync, localize). */
export const AUDIO_STATS_FLAGS = {
  'audio-stats': { type: 'string' },
} as const;

export const AUDIO_STATS_HELP = `  --audio-stats FILE         per-bin spectrogram statistics to Z-normalise with, over the checkpoint's: avid's
                             JSON, or the reference's datasets/assets/*-norm-stats.npz (its training-set
                             statistics, for imported reference checkpoints)`;
