// The ground truth written beside each video, and where to find it.
import type { ClassSpec } from './catalogue.js';
import { soundingBoxes, type Box } from './render-video.js';
import type { SceneSpec, ShotSpec } from './scene.js';

export interface VideoGroundTruth {
  /** Path of the video relative to the world's root. */
  file: string;
  class: number;
  className: string;
  fps: number;
  width: number;
  height: number;
  durationSec: number;
  numFrames: number;
  sampleRate: number;
  /** Sound onsets (s); each is the time of a frame on which the sounding object has its visual event. */
  events: number[];
  /** The sounding object's box per frame k (time k / fps): [x, y, w, h] in pixels, top-left origin. */
  boxes: Box[];
  /** The silent distractor's box per frame, and the times of its own (silent) visual events. */
  distractorBoxes: Box[];
  distractorEvents: number[];
  /** Long videos only: the shots and their cameras; a cut happens at each startSec > 0. */
  shots?: ShotSpec[];
  /** Long videos only: the long-video id (also the `group` in labels.csv). */
  longVideo?: string;
  /** The seed this video was rendered from, and the full scene, so that it can be re-rendered alone. */
  seed: number;
  scene: SceneSpec;
}

/** The ground-truth JSON of a video: same folder and stem, `.json` (clips/clip-0007.mp4 → clips/clip-0007.json). */
export function groundTruthPath(videoPath: string): string {
  return videoPath.replace(/\.[^./\\]+$/, '') + '.json';
}

/** Boxes of the distractor, the same way as the sounding object's. */
function distractorBoxes(scene: SceneSpec): Box[] {
  return soundingBoxes({ ...scene, sounding: scene.distractor });
}

export function groundTruthOf(file: string, cls: ClassSpec, scene: SceneSpec, seed: number, longVideo?: string): VideoGroundTruth {
  return {
    file,
    class: cls.id,
    className: cls.name,
    fps: scene.fps,
    width: scene.size,
    height: scene.size,
    durationSec: scene.durationSec,
    numFrames: scene.numFrames,
    sampleRate: scene.sampleRate,
    events: scene.sounding.events,
    boxes: soundingBoxes(scene),
    distractorBoxes: distractorBoxes(scene),
    distractorEvents: scene.distractor.events,
    ...(longVideo !== undefined ? { shots: scene.shots, longVideo } : {}),
    seed,
    scene,
  };
}
