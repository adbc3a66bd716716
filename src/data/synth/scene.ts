// A scene: everything needed to render one video, drawn from the class and a seed. The look of the clip
// (objects, background, camera) and its sound come from separate random streams, and neither depends on
// the other signature of the class: two classes that share their look draw their pictures from the same
// distribution, and two that share their sound draw their soundtracks from the same distribution.
import {
  DISTRACTOR_COLOURS, MOTIONS, RHYTHMS, SHAPES,
  type ClassSpec, type MotionPattern, type Shape, type Timbre,
} from './catalogue.js';
import { sampleMotion, type MotionSpec } from './motion.js';
import { deriveSeed, Rng } from './prng.js';
import { eventTimes } from './rhythm.js';

export type Rgb = [number, number, number];

export interface ObjectSpec {
  shape: Shape;
  colourName: string;
  rgb: Rgb;
  /** Radius at scale 1, as a fraction of the frame size. */
  radius: number;
  motion: MotionSpec;
  /** Times (s) of this object's visual events; the sounding object's are the sound onsets. */
  events: number[];
}

export interface BackgroundSpec {
  /** Two dim, nearly grey colours blended by a coarse noise field. */
  colourA: Rgb;
  colourB: Rgb;
  textureSeed: number;
  /** Luminance amplitudes of the coarse and fine value noise and of a grating. */
  coarseAmplitude: number;
  fineAmplitude: number;
  gratingAmplitude: number;
  /** Grating: cycles per frame width, orientation and phase (radians). */
  gratingFrequency: number;
  gratingAngle: number;
  gratingPhase: number;
  /** Per-frame pixel noise (standard deviation, 0..255 scale). */
  noiseSigma: number;
  noiseSeed: number;
  /** Where the camera looks inside the larger background canvas (fractions of the frame). */
  offsetX: number;
  offsetY: number;
}

export interface CameraSpec {
  /** Zoom about the frame centre, then a shift (fractions of the frame), then a gain and tint on the background. */
  zoom: number;
  shiftX: number;
  shiftY: number;
  gain: number;
  tint: Rgb;
}

export interface ShotSpec {
  startSec: number;
  endSec: number;
  camera: CameraSpec;
}

export interface SoundSpec {
  timbre: Timbre;
  /** The clip's pitch (Hz), drawn inside the class's pitch band; each note varies around it. */
  pitchHz: number;
  /** Per-note pitch multipliers, one per event. */
  notePitch: number[];
  /** Per-note loudness multipliers, one per event. */
  noteGain: number[];
  /** Peak amplitude of a note before the per-note multiplier. */
  gain: number;
  /** Decay time constant of a note (s). */
  decaySec: number;
  /** Background noise: RMS level and colour (0 white .. 0.98 rumbling). */
  noiseLevel: number;
  noiseColour: number;
  noiseSeed: number;
}

export interface SceneSpec {
  classId: number;
  fps: number;
  size: number;
  sampleRate: number;
  numFrames: number;
  durationSec: number;
  sounding: ObjectSpec;
  distractor: ObjectSpec;
  background: BackgroundSpec;
  shots: ShotSpec[];
  sound: SoundSpec;
}

export interface SceneOptions {
  durationSec: number;
  fps: number;
  size: number;
  sampleRate: number;
  /** Cut the video into shots of about this many seconds (long videos); 0 for one shot. */
  shotSeconds?: [number, number];
}

const IDENTITY_CAMERA: CameraSpec = { zoom: 1, shiftX: 0, shiftY: 0, gain: 1, tint: [0, 0, 0] };

function jitterColour(rgb: Rgb, amount: number, rng: Rng): Rgb {
  return rgb.map((c) => Math.round(Math.min(255, Math.max(0, c + rng.range(-amount, amount))))) as Rgb;
}

function sampleBackground(rng: Rng): BackgroundSpec {
  const level = rng.range(40, 95);
  const levelB = Math.min(110, Math.max(30, level + rng.range(-20, 20)));
  const tinted = (l: number): Rgb => [l + rng.range(-5, 5), l + rng.range(-5, 5), l + rng.range(-5, 5)];
  return {
    colourA: tinted(level),
    colourB: tinted(levelB),
    textureSeed: rng.nextUint32(),
    coarseAmplitude: rng.range(6, 18),
    fineAmplitude: rng.range(3, 10),
    gratingAmplitude: rng.range(0, 12),
    gratingFrequency: rng.range(3, 10),
    gratingAngle: rng.range(0, Math.PI),
    gratingPhase: rng.range(0, 2 * Math.PI),
    noiseSigma: rng.range(1.5, 7),
    noiseSeed: rng.nextUint32(),
    offsetX: rng.range(-0.12, 0.12),
    offsetY: rng.range(-0.12, 0.12),
  };
}

function sampleShots(durationSec: number, fps: number, shotSeconds: [number, number] | undefined, rng: Rng): ShotSpec[] {
  if (!shotSeconds) return [{ startSec: 0, endSec: durationSec, camera: IDENTITY_CAMERA }];
  const numFrames = Math.round(durationSec * fps);
  const [shortest, longest] = shotSeconds;
  const shots: ShotSpec[] = [];
  let start = 0;
  let previousZoom = 1;
  while (start < numFrames) {
    let end = start + Math.round(rng.range(shortest, longest) * fps);
    if (numFrames - end < Math.round(shortest * fps * 0.5)) end = numFrames; // no sliver at the end
    // Every cut visibly moves the camera: the zoom jumps by at least 0.1 (in or out).
    const jump = rng.range(0.1, 0.2);
    const zoom = previousZoom + jump <= 1.2 && (previousZoom - jump < 0.85 || rng.next() < 0.5) ? previousZoom + jump : previousZoom - jump;
    previousZoom = zoom;
    shots.push({
      startSec: start / fps,
      endSec: Math.min(end, numFrames) / fps,
      camera: {
        zoom,
        shiftX: rng.range(-0.07, 0.07),
        shiftY: rng.range(-0.07, 0.07),
        gain: rng.range(0.8, 1.2),
        tint: [rng.range(-8, 8), rng.range(-8, 8), rng.range(-8, 8)],
      },
    });
    start = end;
  }
  return shots;
}

function sampleDistractor(durationSec: number, fps: number, rng: Rng): ObjectSpec {
  const pattern: MotionPattern = rng.pick(MOTIONS);
  const radius = rng.range(0.07, 0.12);
  const colour = rng.pick(DISTRACTOR_COLOURS);
  // Its own, unrelated rhythm: it moves and flashes like a sounding object, but makes no sound.
  const events = eventTimes(rng.pick(RHYTHMS), rng.range(0.8, 1.25), durationSec, fps, rng);
  return {
    shape: rng.pick(SHAPES),
    colourName: colour.name,
    rgb: jitterColour(colour.rgb, 8, rng),
    radius,
    motion: sampleMotion(pattern, radius, rng.range(0.7, 1.4), rng),
    events,
  };
}

/** Draws the scene of one video of class `cls` from `seed`. */
export function sampleScene(cls: ClassSpec, seed: number, options: SceneOptions): SceneSpec {
  const { fps, size, sampleRate } = options;
  const numFrames = Math.round(options.durationSec * fps);
  const durationSec = numFrames / fps;
  // The rhythm stream sets the event times, which both the look and the sound follow.
  const rhythmRng = new Rng(deriveSeed(seed, 'rhythm'));
  const events = eventTimes(cls.audio.rhythm, rhythmRng.range(0.8, 1.25), durationSec, fps, rhythmRng);

  const lookRng = new Rng(deriveSeed(seed, 'look'));
  const radius = lookRng.range(0.09, 0.14);
  const sounding: ObjectSpec = {
    shape: cls.visual.shape,
    colourName: cls.visual.colour.name,
    rgb: jitterColour(cls.visual.colour.rgb, 8, lookRng),
    radius,
    motion: sampleMotion(cls.visual.motion, radius, lookRng.range(0.7, 1.4), lookRng),
    events,
  };
  const distractor = sampleDistractor(durationSec, fps, new Rng(deriveSeed(seed, 'distractor')));
  const background = sampleBackground(new Rng(deriveSeed(seed, 'background')));
  const shots = sampleShots(durationSec, fps, options.shotSeconds, new Rng(deriveSeed(seed, 'shots')));

  const soundRng = new Rng(deriveSeed(seed, 'sound'));
  const band = cls.audio.pitchBand;
  const sound: SoundSpec = {
    timbre: cls.audio.timbre,
    pitchHz: soundRng.logRange(band.lowHz, band.highHz),
    notePitch: events.map(() => Math.pow(2, soundRng.range(-0.1, 0.1))),
    noteGain: events.map(() => soundRng.range(0.8, 1)),
    gain: soundRng.logRange(0.2, 0.7),
    decaySec: soundRng.range(0.045, 0.08),
    noiseLevel: soundRng.logRange(0.002, 0.012),
    noiseColour: soundRng.range(0, 0.95),
    noiseSeed: soundRng.nextUint32(),
  };
  return { classId: cls.id, fps, size, sampleRate, numFrames, durationSec, sounding, distractor, background, shots, sound };
}
