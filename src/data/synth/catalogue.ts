// The classes of the synthetic world. A class pairs a visual signature (shape, colour, motion) with an
// audio signature (timbre, pitch band, rhythm). Classes come in pairs that are confusable in one modality:
// a look-alike pair shares its whole visual signature (and its rhythm, so that even the timing of the
// visual events is alike) but differs in timbre and pitch; a sound-alike pair shares its whole audio
// signature but differs in shape, colour and motion. With 8 classes: (0,1) look alike, (2,3) sound alike,
// (4,5) look alike, (6,7) sound alike. A single modality can then reach at most 75%; only both reach 100%.

export const SHAPES = ['circle', 'square', 'triangle', 'ring', 'diamond', 'cross', 'hexagon'] as const;
export type Shape = (typeof SHAPES)[number];

export const MOTIONS = ['bounce', 'orbit', 'zigzag', 'pulse'] as const;
export type MotionPattern = (typeof MOTIONS)[number];

export const TIMBRES = ['sine', 'square', 'noise-burst', 'chirp', 'fm-bell'] as const;
export type Timbre = (typeof TIMBRES)[number];

export const RHYTHMS = ['regular', 'double', 'triplet', 'irregular'] as const;
export type Rhythm = (typeof RHYTHMS)[number];

export interface NamedColour {
  name: string;
  rgb: [number, number, number];
}

/** Saturated colours of the sounding objects; every pair is over 90 apart in RGB, and far from any grey. */
export const CLASS_COLOURS: readonly NamedColour[] = [
  { name: 'red', rgb: [225, 40, 40] },
  { name: 'cyan', rgb: [40, 210, 225] },
  { name: 'yellow', rgb: [235, 220, 40] },
  { name: 'blue', rgb: [40, 80, 235] },
  { name: 'green', rgb: [40, 200, 70] },
  { name: 'magenta', rgb: [220, 40, 210] },
  { name: 'orange', rgb: [245, 135, 20] },
  { name: 'pink', rgb: [255, 150, 190] },
];

/**
 * Muted colours of the silent distractors. Kept apart from the class colours on purpose: a distractor that
 * could take the colour of another class would make a look-alike out of every pair of classes, and the
 * only controlled confusions in this world are the declared pairs.
 */
export const DISTRACTOR_COLOURS: readonly NamedColour[] = [
  { name: 'pale-grey', rgb: [200, 200, 195] },
  { name: 'brown', rgb: [140, 95, 60] },
  { name: 'olive', rgb: [130, 135, 60] },
  { name: 'slate', rgb: [90, 110, 140] },
  { name: 'khaki', rgb: [180, 170, 120] },
];

export interface PitchBand {
  name: string;
  /** Fundamental range in Hz; a clip draws its pitch log-uniformly inside. */
  lowHz: number;
  highHz: number;
}

export const PITCH_BANDS: readonly PitchBand[] = [
  { name: 'low', lowHz: 160, highHz: 300 },
  { name: 'mid', lowHz: 420, highHz: 800 },
  { name: 'high', lowHz: 1100, highHz: 2100 },
];

export interface VisualSignature {
  shape: Shape;
  colour: NamedColour;
  motion: MotionPattern;
}

export interface AudioSignature {
  timbre: Timbre;
  pitchBand: PitchBand;
  rhythm: Rhythm;
}

export interface ClassSpec {
  id: number;
  name: string;
  visual: VisualSignature;
  audio: AudioSignature;
}

export interface ConfusablePair {
  classes: [number, number];
  /** 'look': same visual signature, different sound. 'sound': same audio signature, different look. */
  shares: 'look' | 'sound';
  description: string;
}

export interface ClassCatalogue {
  classes: ClassSpec[];
  confusablePairs: ConfusablePair[];
}

export const MIN_CLASSES = 2;
export const MAX_CLASSES = 24;

// Consecutive indices differ in every attribute (3 is coprime with 8 colours, 7 shapes, 4 motions; tones
// cycle 5 timbres against 3 bands), so the two members of a pair always differ in all they do not share.
function visualSignature(index: number): VisualSignature {
  return {
    shape: SHAPES[index % SHAPES.length],
    colour: CLASS_COLOURS[(index * 3) % CLASS_COLOURS.length],
    motion: MOTIONS[index % MOTIONS.length],
  };
}

function tone(index: number): { timbre: Timbre; pitchBand: PitchBand } {
  return { timbre: TIMBRES[index % TIMBRES.length], pitchBand: PITCH_BANDS[index % PITCH_BANDS.length] };
}

function className(visual: VisualSignature, audio: AudioSignature): string {
  return `${visual.colour.name}-${visual.shape}-${visual.motion}/${audio.pitchBand.name}-${audio.timbre}-${audio.rhythm}`;
}

/** The catalogue for `numClasses` classes; the same number always gives the same catalogue. */
export function buildClassCatalogue(numClasses: number): ClassCatalogue {
  if (!Number.isInteger(numClasses) || numClasses < MIN_CLASSES || numClasses > MAX_CLASSES) {
    throw new Error(`classes must be an integer in [${MIN_CLASSES}, ${MAX_CLASSES}], got ${numClasses}`);
  }
  const classes: ClassSpec[] = [];
  const confusablePairs: ConfusablePair[] = [];
  let nextVisual = 0;
  let nextTone = 0;
  let nextRhythm = 0;
  const add = (visual: VisualSignature, audio: AudioSignature): number => {
    const id = classes.length;
    classes.push({ id, name: className(visual, audio), visual, audio });
    return id;
  };
  for (let pair = 0; classes.length < numClasses; pair++) {
    const rhythm = RHYTHMS[nextRhythm++ % RHYTHMS.length];
    if (classes.length + 1 === numClasses) {
      add(visualSignature(nextVisual++), { ...tone(nextTone++), rhythm });
    } else if (pair % 2 === 0) {
      const visual = visualSignature(nextVisual++);
      const a = add(visual, { ...tone(nextTone++), rhythm });
      const b = add(visual, { ...tone(nextTone++), rhythm });
      confusablePairs.push({
        classes: [a, b],
        shares: 'look',
        description: `both look like a ${visual.colour.name} ${visual.shape} (${visual.motion}); ` +
          `${classes[a].audio.pitchBand.name} ${classes[a].audio.timbre} vs ${classes[b].audio.pitchBand.name} ${classes[b].audio.timbre}`,
      });
    } else {
      const audio = { ...tone(nextTone++), rhythm };
      const a = add(visualSignature(nextVisual++), audio);
      const b = add(visualSignature(nextVisual++), audio);
      confusablePairs.push({
        classes: [a, b],
        shares: 'sound',
        description: `both sound like a ${audio.pitchBand.name} ${audio.timbre} (${audio.rhythm}); ` +
          `${classes[a].visual.colour.name} ${classes[a].visual.shape} vs ${classes[b].visual.colour.name} ${classes[b].visual.shape}`,
      });
    }
  }
  assertDistinct(classes);
  return { classes, confusablePairs };
}

function assertDistinct(classes: ClassSpec[]): void {
  const seen = new Map<string, number>();
  for (const c of classes) {
    const key = c.name;
    if (seen.has(key)) throw new Error(`internal: classes ${seen.get(key)} and ${c.id} are identical (${key})`);
    seen.set(key, c.id);
  }
}
