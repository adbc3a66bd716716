// The training clip both loader benchmarks measure (PAPERS.md's setting at 112²), as their JSON lines record it.
export const TRAINING_CLIP = {
  frames: 8,
  fps: 16,
  size: 112,
  audioSeconds: 2,
  sampleRate: 24000,
  spectrogram: '100x129',
  augment: 'papers (crop, flip, colour jitter, audio offset/duration/volume)',
} as const;
