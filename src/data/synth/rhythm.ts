// When the sounding object makes its sound. Event times are drawn in seconds from the class's rhythm, then
// snapped to frame times, so that each sound onset falls exactly on the frame that shows its visual event.
import type { Rhythm } from './catalogue.js';
import type { Rng } from './prng.js';

/** The shortest gap between two events: room for a visible bounce and a sound that has mostly decayed. */
export const MIN_EVENT_GAP_SEC = 0.16;

/** Inter-onset intervals (seconds) of one bar of a rhythm at tempo 1; the bar repeats. */
function bar(rhythm: Rhythm, tempo: number, rng: Rng): number[] {
  const jitter = (): number => rng.range(0.96, 1.04);
  switch (rhythm) {
    case 'regular':
      return [(0.48 / tempo) * jitter()];
    case 'double':
      return [0.2 * jitter(), (0.75 / tempo) * jitter()];
    case 'triplet':
      return [0.19 * jitter(), 0.19 * jitter(), (0.7 / tempo) * jitter()];
    case 'irregular':
      return [rng.range(0.22, 0.85) / tempo];
  }
}

/**
 * Event times in seconds, each a multiple of 1/fps, strictly inside [0, durationSec), at least
 * MIN_EVENT_GAP_SEC (and 2 frames) apart. `tempo` > 1 plays faster.
 */
export function eventTimes(rhythm: Rhythm, tempo: number, durationSec: number, fps: number, rng: Rng): number[] {
  const numFrames = Math.round(durationSec * fps);
  const minGapFrames = Math.max(2, Math.ceil(MIN_EVENT_GAP_SEC * fps));
  const frames: number[] = [];
  let t = rng.range(0.06, 0.5 / tempo);
  while (true) {
    for (const interval of bar(rhythm, tempo, rng)) {
      const frame = Math.round(t * fps);
      if (frame >= numFrames) return frames.map((f) => f / fps);
      if (frame >= 1 && (frames.length === 0 || frame - frames[frames.length - 1] >= minGapFrames)) frames.push(frame);
      t += interval;
    }
  }
}
