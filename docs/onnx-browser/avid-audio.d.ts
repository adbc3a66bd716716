// Types of avid-audio.js (plain JavaScript, so that a browser loads it as it is), for the TypeScript tests.

export interface SpectrogramSettings {
  frontend?: 'paper' | 'reference';
  sampleRate: number;
  windowSec: number;
  hopSec: number;
  nFft: number;
  freqBins: number;
  eps?: number;
}

/** frames × bins, row-major. */
export interface Spectrogram {
  data: Float32Array;
  frames: number;
  bins: number;
}

export interface Normalisation {
  mean: number[];
  std: number[];
  stdFloor: number;
}

/** export.json's `audio` section (src/cli/commands/export.ts ExportManifest). */
export interface ExportedAudio {
  input: { name: string; shape: (number | string)[] };
  sampleRate: number;
  seconds: number;
  samples: number;
  spectrogram: SpectrogramSettings;
  normalisation: Normalisation | null;
}

export function logSpectrogram(samples: Float32Array, config: SpectrogramSettings): Spectrogram;
export function normaliseSpectrogram(spectrogram: Spectrogram, normalisation: Normalisation | null): Spectrogram;
export function monoSamples(buffer: { numberOfChannels: number; getChannelData(channel: number): Float32Array }): Float32Array;
export function audioInput(samples: Float32Array, audio: ExportedAudio, startSeconds?: number): Spectrogram;
export function embedAudio(ort: unknown, session: unknown, samples: Float32Array, manifest: { audio?: ExportedAudio }, startSeconds?: number): Promise<Record<string, number[]>>;
