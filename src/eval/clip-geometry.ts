// The clips an evaluation decodes: the frames, frame rate and size, audio window and spectrogram a network
// was trained with. Always taken from a run's config (the reader fills in the schema's defaults where a
// plain state dict or a random network has none), so there are no defaults to repeat here.
import type { PretrainConfig } from '../config/schema.js';
import type { AudioFrontendName, SpectrogramStats } from '../media/spectrogram.js';
import { audioInput } from '../media/audio-input.js';
import { evaluationFrontend, assertStatsMatchFrontend } from './audio-frontend.js';
import type * as T from '../tensor/index.js';

export interface ClipGeometry {
  frames: number;
  fps: number;
  size: number;
  audioSeconds: number;
  sampleRate: number;
  hopSeconds: number;
  windowSeconds: number;
  freqBins: number;
  /** The log spectrogram (media/audio-input.ts): the run's audio.frontend, or --frontend; absent: 'paper'. */
  frontend?: AudioFrontendName;
  /** The run's per-bin spectrogram statistics; without them the log spectrogram is used as is. */
  audioStats?: SpectrogramStats | null;
}

/**
 * The clip geometry of a run's config (a RunArtifact's `config`), with the run's statistics when it has them.
 * The front end is the config's (imported reference checkpoints: 'reference') unless `frontendOverride`
 * (--frontend) names another; statistics computed with a different front end are an error.
 */
export function clipGeometry(config: Pick<PretrainConfig, 'video' | 'audio'>, audioStats: SpectrogramStats | null = null, frontendOverride?: string | null): ClipGeometry {
  const { video, audio } = config;
  const frontend = evaluationFrontend(config, frontendOverride);
  assertStatsMatchFrontend(audioStats, frontend);
  return {
    frontend,
    frames: video.frames,
    fps: video.fps,
    size: video.size,
    audioSeconds: audio.seconds,
    sampleRate: audio.sampleRate,
    hopSeconds: audio.hopSeconds,
    windowSeconds: audio.windowSeconds,
    freqBins: audio.freqBins,
    audioStats,
  };
}

/** The audio network's input for (B, L) waveforms with this geometry. */
export function audioInputFor(g: ClipGeometry, waveforms: T.Tensor): T.Tensor {
  return audioInput(waveforms, { sampleRate: g.sampleRate, windowSeconds: g.windowSeconds, hopSeconds: g.hopSeconds, freqBins: g.freqBins, frontend: g.frontend }, g.audioStats);
}
