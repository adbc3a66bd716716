// Per-bin spectrogram statistics given to an evaluation as a file (--audio-stats), for models whose checkpoint
// does not carry them: avid's own JSON (media/spectrogram.ts saveStats, e.g. a run's audio-stats.json), or the
// reference's NumPy archive of training-set statistics (AVID-CMA datasets/assets/audio-spectDB-24k-*-norm-
// stats.npz, arrays `mean` and `std` per bin, computed on AudioSet with its LogSpectrogram), which makes the
// evaluation of an imported reference checkpoint normalise its input exactly as the reference does.
import { readNpz } from '../io/npz.js';
import { loadStats, type SpectrogramConfig, type SpectrogramStats } from '../media/spectrogram.js';
import { spectrogramConfigFor } from '../media/audio-input.js';
import type { PretrainConfig } from '../config/schema.js';
import { clipGeometry, type ClipGeometry } from './clip-geometry.js';

/** Reads `file` (.npz: the reference's; else avid's JSON) as statistics for spectrograms of `config`. */
export function loadAudioStatsFile(file: string, config: SpectrogramConfig): SpectrogramStats {
  if (!file.endsWith('.npz')) return loadStats(file, config);
  if ((config.frontend ?? 'paper') !== 'reference') {
    throw new Error(`${file}: the reference's statistics are of its own log spectrogram; this evaluation uses the '${config.frontend ?? 'paper'}' front end (pass --frontend reference)`);
  }
  const arrays = readNpz(file);
  const perBin = (key: 'mean' | 'std'): number[] => {
    const array = arrays.get(key);
    if (!array) throw new Error(`${file}: no array '${key}' (it has ${[...arrays.keys()].join(', ') || 'none'})`);
    if (array.shape.length !== 1 || array.shape[0] !== config.freqBins) {
      throw new Error(`${file}: '${key}' has shape (${array.shape.join(', ')}), the spectrogram ${config.freqBins} bins (nFft ${config.nFft}; the reference's files: 24k-513 for n_fft 512, 24k-257 for n_fft 256)`);
    }
    const values = Array.from(array.data);
    if (!values.every(Number.isFinite)) throw new Error(`${file}: '${key}' holds non-finite values`);
    return values;
  };
  const mean = perBin('mean');
  const std = perBin('std');
  if (std.some((s) => s < 0)) throw new Error(`${file}: 'std' holds negative values`);
  // The file does not say how many frames and clips it saw: 0 marks them unknown.
  return { config, mean, std, frames: 0, clips: 0 };
}

/**
 * The clip geometry of an evaluation that takes --audio-stats (eval-av, eval-sync, localize): the statistics
 * of `statsFile`, when given, replace the checkpoint's (which then need not match the chosen front end);
 * else the checkpoint's, as clipGeometry takes them.
 */
export function clipGeometryWithStatsFile(config: Pick<PretrainConfig, 'video' | 'audio'>, checkpointStats: SpectrogramStats | null, frontendOverride?: string | null, statsFile?: string): ClipGeometry {
  const geometry = clipGeometry(config, statsFile ? null : checkpointStats, frontendOverride);
  if (statsFile) geometry.audioStats = loadAudioStatsFile(statsFile, spectrogramConfigFor(geometry));
  return geometry;
}
