// The seeded random streams of everything outside libtorch: data-side randomness (clip timing, crops, jitter,
// shuffles) and the pure-TypeScript evaluation solvers. (libtorch's own generator is tensor/random.ts; the
// synthetic world keeps its own splitmix32 streams in data/synth/prng.ts, see there.)
//
// Why not the libtorch generator: data randomness must be addressable — the choice for sample i of epoch e
// must not depend on how many samples were drawn before it (workers finish in any order, a resumed run
// starts mid-epoch). So each (seed, epoch, sampleIndex) gets its own stream: a 32-bit hash of the key seeds
// a mulberry32 generator. Both are plain 32-bit integer arithmetic, identical on every machine.

/** Mixes one 32-bit value into a running hash (murmur3's block step). */
function mixInto(hash: number, value: number): number {
  let k = Math.imul(value | 0, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  hash ^= k;
  hash = (hash << 13) | (hash >>> 19);
  return (Math.imul(hash, 5) + 0xe6546b64) | 0;
}

/** murmur3's finaliser: every input bit affects every output bit. */
function finalize(hash: number, length: number): number {
  hash ^= length;
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/** Splits a number into 32-bit words so that seeds above 2^32 (and negative or fractional ones) still hash. */
function words(value: number): number[] {
  if (!Number.isFinite(value)) throw new Error(`hash32: expected finite numbers, got ${value}`);
  if (Number.isInteger(value) && value >= -0x80000000 && value <= 0xffffffff) return [value | 0];
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value);
  return [view.getInt32(0), view.getInt32(4)];
}

/** A 32-bit unsigned hash of a list of numbers and strings; the key of a random stream. */
export function hash32(...values: (number | string)[]): number {
  let hash = 0x9747b28c;
  let length = 0;
  for (const v of values) {
    if (typeof v === 'string') {
      for (let i = 0; i < v.length; i++) {
        hash = mixInto(hash, v.charCodeAt(i));
        length++;
      }
      hash = mixInto(hash, 0x5f3759df); // terminator: ('ab','c') and ('a','bc') differ
      length++;
    } else {
      for (const w of words(v)) {
        hash = mixInto(hash, w);
        length++;
      }
    }
  }
  return finalize(hash, length);
}

/** mulberry32: a 32-bit state generator returning uint32 values. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** A deterministic random stream with the usual draws. */
export class Rng {
  private readonly nextUint32: () => number;
  constructor(seed: number) {
    this.nextUint32 = mulberry32(hash32(seed));
  }
  /** A uint32. */
  uint32(): number {
    return this.nextUint32();
  }
  /** Uniform in [0, 1) with 53 bits of resolution. */
  float(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }
  /** Uniform in [low, high). */
  uniform(low: number, high: number): number {
    return low + (high - low) * this.float();
  }
  /** Integer uniform in [low, high) (high exclusive), without modulo bias. */
  int(low: number, high: number): number {
    const span = high - low;
    if (!Number.isInteger(low) || !Number.isInteger(high) || span <= 0) {
      throw new Error(`Rng.int: expected integers low < high, got [${low}, ${high})`);
    }
    return low + Math.floor(this.float() * span);
  }
  /** true with probability p. */
  bernoulli(p: number): boolean {
    return this.float() < p;
  }
  /** Standard normal (Box–Muller). */
  normal(): number {
    const u = 1 - this.float(); // (0, 1]
    const v = this.float();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  /** Shuffles `array` in place (Fisher–Yates) and returns it. */
  shuffle<T>(array: T[]): T[] {
    shuffleInPlace(array, () => this.float());
    return array;
  }
  /** A random permutation of 0..n-1. */
  permutation(n: number): number[] {
    return this.shuffle(Array.from({ length: n }, (_, i) => i));
  }
}

/**
 * The random stream of one (seed, epoch, sampleIndex) — plus an optional purpose label, so that e.g. the
 * crop and the clip start of one sample are independent streams and adding a new draw to one does not shift
 * the other.
 */
export function rngFor(seed: number, epoch: number, sampleIndex: number, purpose = ''): Rng {
  return new Rng(hash32(seed, epoch, sampleIndex, purpose));
}

/**
 * A plain function of floats in [0, 1) from mulberry32, for the pure-TypeScript solvers of evaluation (the
 * SVM's coordinate order, group shuffles of inner splits): results never depend on Math.random. The seed is
 * mixed with the golden ratio as those solvers always did, so their choices (and results) are unchanged.
 */
export function seededRandom(seed: number): () => number {
  const next = mulberry32((Math.floor(seed) ^ 0x9e3779b9) >>> 0);
  return () => next() / 4294967296;
}

/** Shuffles `array` in place (Fisher–Yates) over its first `length` items. */
export function shuffleInPlace<T>(array: { [i: number]: T; length: number }, random: () => number, length = array.length): void {
  for (let i = length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = array[i];
    array[i] = array[j];
    array[j] = t;
  }
}
