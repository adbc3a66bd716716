// A small seeded PRNG for the pure-TypeScript parts of evaluation (coordinate order in the SVM solver,
// group shuffles for inner splits). Results must not depend on Math.random: every choice derives from a seed.

/** mulberry32: a fast 32-bit generator; returns a function giving floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = (Math.floor(seed) ^ 0x9e3779b9) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
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
