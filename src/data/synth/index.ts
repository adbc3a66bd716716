// The synthetic audio-visual world: `generateWorld` writes videos with known ground truth; the rest lets
// tools and tests re-render any video in memory and read its ground truth.
export { generateWorld, planWorld, sceneOf, labelsCsv, type WorldSummary, type PlannedVideo } from './world.js';
export { WORLD_DEFAULTS, NUM_FOLDS, SAMPLE_RATES, resolveWorldOptions, type WorldOptions } from './options.js';
export {
  buildClassCatalogue, SHAPES, MOTIONS, TIMBRES, RHYTHMS, CLASS_COLOURS, DISTRACTOR_COLOURS, PITCH_BANDS,
  MIN_CLASSES, MAX_CLASSES,
  type ClassCatalogue, type ClassSpec, type ConfusablePair, type VisualSignature, type AudioSignature,
} from './catalogue.js';
export { sampleScene, type SceneSpec, type SceneOptions, type ObjectSpec, type ShotSpec, type SoundSpec } from './scene.js';
export { FrameRenderer, soundingBoxes, type Box } from './render-video.js';
export { renderSoundtrack } from './render-audio.js';
export { groundTruthPath, type VideoGroundTruth } from './ground-truth.js';
export { encodeMp4, encodeMp4s, ffmpegEncodeArgs, type EncodeOptions, type EncodeItem, type VideoFormat } from './encode.js';
export { deriveSeed, Rng } from './prng.js';
