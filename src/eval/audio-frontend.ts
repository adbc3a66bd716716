// The audio network's input for evaluation: the media layer's log spectrogram of the model's front end (the
// same one training used: the paper's, or the reference code's for imported reference checkpoints),
// (B, L) → (B, 1, frames, bins). A checkpoint's spectrogram statistics, when it carries them, Z-normalise
// each frequency bin exactly as in pre-training. Without them (a randomly initialised network, or an imported
// reference checkpoint: the reference keeps its statistics in its repository, not in the checkpoint), each
// spectrogram is standardised on its own — one mean and deviation per clip, over all bins and frames —
// which removes the recording gain, keeps the spectral envelope, and uses no information from other
// samples, so it cannot leak across folds.
import * as T from '../tensor/index.js';
import { normalizeSpectrogram, AUDIO_FRONTENDS, type AudioFrontendName, type SpectrogramConfig, type SpectrogramStats } from '../media/spectrogram.js';
import { audioSpectrogram, spectrogramConfigFor } from '../media/audio-input.js';

export interface AudioFrontendOptions {
  /** Which log spectrogram (default 'paper'); with `stats`, it must be the one they were computed with. */
  frontend?: AudioFrontendName;
  sampleRate?: number;
  windowSec?: number;
  hopSec?: number;
  /** Frequency bins (129: 512-point FFT, 257: 1024-point; default 129). */
  freqBins?: number;
  /** Per-bin statistics of pre-training; their spectrogram config then overrides the settings above. */
  stats?: SpectrogramStats | null;
  /** Where the statistics come from, when not from the checkpoint (a file given to the evaluation). */
  statsFile?: string;
}

/** An evaluation's audio choices, shared by every runner (svm/probe/knn, retrieval, finetune). */
export interface EvaluationAudioOptions {
  /** --frontend: the log spectrogram; default the checkpoint's audio.frontend. */
  frontend?: AudioFrontendName;
  /** --audio-stats: per-bin statistics (avid's JSON or the reference's .npz) over the checkpoint's. */
  audioStatsFile?: string;
}

/** Where the statistics that normalise an evaluation's input come from (null: none), for its results. */
export function statisticsSource(stats: SpectrogramStats | null | undefined, statsFile?: string): 'checkpoint statistics' | `statistics of ${string}` | null {
  return !stats ? null : statsFile ? `statistics of ${statsFile}` : 'checkpoint statistics';
}

export interface AudioFrontend {
  readonly options: { spectrogram: SpectrogramConfig; normalisation: 'checkpoint statistics' | 'per clip' | `statistics of ${string}` };
  /** (B, L) float32 waveforms → (B, 1, frames, freqBins) float32. */
  toInput(waveforms: T.Tensor): T.Tensor;
}

/**
 * The front end an evaluation uses: `override` (--frontend) when given, else the checkpoint config's
 * `audio.frontend`, else 'paper' (checkpoints written before the field existed, and random weights).
 */
export function evaluationFrontend(config: unknown, override?: string | null): AudioFrontendName {
  if (override !== undefined && override !== null) {
    if (!(AUDIO_FRONTENDS as readonly string[]).includes(override)) throw new Error(`--frontend must be ${AUDIO_FRONTENDS.join(' or ')}; got '${override}'`);
    return override as AudioFrontendName;
  }
  const recorded = (config as { audio?: { frontend?: unknown } } | null | undefined)?.audio?.frontend;
  if (recorded === undefined) return 'paper';
  if (typeof recorded !== 'string' || !(AUDIO_FRONTENDS as readonly string[]).includes(recorded)) {
    throw new Error(`the checkpoint's config has audio.frontend '${String(recorded)}'; allowed: ${AUDIO_FRONTENDS.join(', ')}`);
  }
  return recorded as AudioFrontendName;
}

/** Statistics are only valid for the front end they were computed with: a mismatch is an error, not a guess. */
export function assertStatsMatchFrontend(stats: SpectrogramStats | null | undefined, frontend: AudioFrontendName): void {
  const computedWith = stats?.config.frontend ?? 'paper';
  if (stats && computedWith !== frontend) {
    throw new Error(`the checkpoint's spectrogram statistics were computed with the '${computedWith}' front end; they cannot normalise the '${frontend}' one (drop --frontend ${frontend})`);
  }
}

export function createAudioFrontend(o: AudioFrontendOptions = {}): AudioFrontend {
  const frontend = o.frontend ?? o.stats?.config.frontend ?? 'paper';
  assertStatsMatchFrontend(o.stats, frontend);
  const spectrogram = o.stats
    ? o.stats.config
    : spectrogramConfigFor({ frontend, sampleRate: o.sampleRate ?? 24000, windowSeconds: o.windowSec ?? 0.02, hopSeconds: o.hopSec ?? 0.02, freqBins: o.freqBins ?? 129 });
  const stats = o.stats ?? null;
  return {
    options: { spectrogram, normalisation: statisticsSource(stats, o.statsFile) ?? 'per clip' },
    toInput(waveforms: T.Tensor): T.Tensor {
      return T.tidy(() => {
        const log = audioSpectrogram(waveforms, spectrogram);
        if (stats) return normalizeSpectrogram(log, stats);
        const mean = log.mean([1, 2, 3], true);
        const std = log.std([1, 2, 3], false, true).add(1e-5);
        return log.sub(mean).div(std);
      });
    },
  };
}
