// Where an object is at time t, and how it reacts to its events. Positions are normalised to the frame
// (0..1, y down) so that one scene renders alike at any size. Each pattern turns an event into a visual
// event: bounce hits the floor, zigzag hits a side wall, orbit and pulse swell; every object also flashes.
import type { MotionPattern } from './catalogue.js';
import type { Rng } from './prng.js';

export interface MotionSpec {
  pattern: MotionPattern;
  /** Centre of the motion. */
  cx: number;
  cy: number;
  /** bounce: sway and bounce height; orbit: radii; zigzag: half-width between walls and sway; pulse: drift. */
  ax: number;
  ay: number;
  /** Frequencies (Hz) and phases (radians) of the continuous parts of the motion. */
  fx: number;
  fy: number;
  px: number;
  py: number;
  /** zigzag: the wall (0 left, 1 right) hit at the first event. */
  firstWall: number;
}

export interface ObjectState {
  x: number;
  y: number;
  /** Multiplies the object's radius. */
  scale: number;
  /** 1 on the frame of an event, decaying after it. */
  flash: number;
}

const FLASH_DECAY_SEC = 0.06;
const PULSE_GAIN = 0.55;
const PULSE_DECAY_SEC = 0.12;
const POP_GAIN = 0.3;
const POP_DECAY_SEC = 0.1;
/** A bounce between events further apart than this reaches the full height; closer ones are lower hops. */
const FULL_BOUNCE_GAP_SEC = 0.6;

/** The largest `scale` a pattern produces, to keep objects inside the frame. */
export function maxScale(pattern: MotionPattern): number {
  return pattern === 'pulse' ? 1 + PULSE_GAIN : pattern === 'orbit' ? 1 + POP_GAIN : 1;
}

/**
 * Draws a motion whose whole path, for an object of `radius` at its largest, stays inside the frame.
 * `speed` (around 1) scales how fast the continuous parts of the motion go.
 */
export function sampleMotion(pattern: MotionPattern, radius: number, speed: number, rng: Rng): MotionSpec {
  const margin = radius * maxScale(pattern) + 0.01;
  const room = 0.5 - margin; // the most an amplitude may take about the frame centre
  const centre = (amplitude: number): number => rng.range(margin + amplitude, 1 - margin - amplitude);
  const base = { px: rng.range(0, 2 * Math.PI), py: rng.range(0, 2 * Math.PI), firstWall: rng.int(2) };
  switch (pattern) {
    case 'bounce': {
      const ax = Math.min(rng.range(0.04, 0.2), room);
      const ay = Math.min(rng.range(0.25, 0.45), 2 * room);
      return { pattern, ...base, ax, ay, cx: centre(ax), cy: centre(ay / 2), fx: rng.range(0.15, 0.45) * speed, fy: 0 };
    }
    case 'orbit': {
      const ax = Math.min(rng.range(0.12, 0.28), room);
      const ay = Math.min(rng.range(0.12, 0.28), room);
      return { pattern, ...base, ax, ay, cx: centre(ax), cy: centre(ay), fx: rng.sign() * rng.range(0.2, 0.55) * speed, fy: 0 };
    }
    case 'zigzag': {
      const ax = Math.min(rng.range(0.14, 0.3), room);
      const ay = Math.min(rng.range(0.03, 0.18), room);
      return { pattern, ...base, ax, ay, cx: centre(ax), cy: centre(ay), fx: 0, fy: rng.range(0.1, 0.35) * speed };
    }
    case 'pulse': {
      const ax = Math.min(rng.range(0.02, 0.12), room);
      const ay = Math.min(rng.range(0.02, 0.12), room);
      return {
        pattern, ...base, ax, ay, cx: centre(ax), cy: centre(ay),
        fx: rng.range(0.08, 0.3) * speed, fy: rng.range(0.08, 0.3) * speed,
      };
    }
  }
}

/** Index of the last event at or before t (-1 if none); events are sorted. */
function lastEventAtOrBefore(events: readonly number[], t: number): number {
  let lo = 0;
  let hi = events.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (events[mid] <= t + 1e-9) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

function typicalGap(events: readonly number[]): number {
  if (events.length < 2) return 0.5;
  return (events[events.length - 1] - events[0]) / (events.length - 1);
}

/** The object's state at time t, given its sorted event times. */
export function objectState(motion: MotionSpec, events: readonly number[], t: number): ObjectState {
  const n = events.length;
  const i = lastEventAtOrBefore(events, t);
  const gap = typicalGap(events);
  // Before the first and after the last event, the motion runs on as if events came every typical gap.
  // `k` counts events (real or virtual) so that zigzag knows which wall it last hit.
  let prev: number;
  let k: number;
  if (n === 0) {
    k = Math.floor(t / gap);
    prev = k * gap;
  } else if (i < 0) {
    k = -Math.ceil((events[0] - t) / gap);
    prev = events[0] + k * gap;
  } else if (i === n - 1) {
    const extra = Math.floor((t - events[i]) / gap);
    k = i + extra;
    prev = events[i] + extra * gap;
  } else {
    k = i;
    prev = events[i];
  }
  const next = i >= 0 && i + 1 < n && prev === events[i] ? events[i + 1] : prev + gap;
  const sinceEvent = i >= 0 ? t - events[i] : Number.POSITIVE_INFINITY;
  const flash = Math.exp(-sinceEvent / FLASH_DECAY_SEC);
  const span = Math.max(next - prev, 1e-6);
  const s = Math.min(Math.max((t - prev) / span, 0), 1);
  switch (motion.pattern) {
    case 'bounce': {
      const height = motion.ay * Math.min(1, span / FULL_BOUNCE_GAP_SEC);
      return {
        x: motion.cx + motion.ax * Math.sin(2 * Math.PI * motion.fx * t + motion.px),
        y: motion.cy + motion.ay / 2 - height * 4 * s * (1 - s),
        scale: 1,
        flash,
      };
    }
    case 'orbit': {
      const angle = 2 * Math.PI * motion.fx * t + motion.px;
      return {
        x: motion.cx + motion.ax * Math.cos(angle),
        y: motion.cy + motion.ay * Math.sin(angle),
        scale: 1 + POP_GAIN * Math.exp(-sinceEvent / POP_DECAY_SEC),
        flash,
      };
    }
    case 'zigzag': {
      // Event k hits wall (firstWall + k) % 2; virtual events before the first keep alternating.
      const from = (((motion.firstWall + k) % 2) + 2) % 2 === 0 ? -1 : 1;
      return {
        x: motion.cx + motion.ax * (from + (-2 * from) * s),
        y: motion.cy + motion.ay * Math.sin(2 * Math.PI * motion.fy * t + motion.py),
        scale: 1,
        flash,
      };
    }
    case 'pulse':
      return {
        x: motion.cx + motion.ax * Math.sin(2 * Math.PI * motion.fx * t + motion.px),
        y: motion.cy + motion.ay * Math.sin(2 * Math.PI * motion.fy * t + motion.py),
        scale: 1 + PULSE_GAIN * Math.exp(-sinceEvent / PULSE_DECAY_SEC),
        flash,
      };
  }
}
