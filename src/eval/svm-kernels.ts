// The two row operations the SVM's dual coordinate descent spends its time in — x̃ᵢ·w and w += s·xᵢ, two
// passes over a row per coordinate step — as WebAssembly SIMD (float64x2 lanes, the float32 features widened
// on load, four partial sums), with plain TypeScript loops as the fallback.
//
// Why: measured against LIBLINEAR (bench/svm.ts), the solver in plain TypeScript was 3× slower per CPU-second:
// V8's scalar loops do about a third of a multiply-add per cycle. The module is assembled here from its bytes
// (a few hundred), so nothing is downloaded or built at install; where WebAssembly SIMD is missing, or the
// features are float64 (kept exact), or too large for a 32-bit memory, the TypeScript kernels run instead.
// w stays float64 in both, as in LIBLINEAR.

export interface RowKernels {
  /** The weights (d): a view that the next `reset` zeroes; copy it out to keep it. */
  readonly w: Float64Array;
  /** Zeroes w. */
  reset(): void;
  /** x̃ᵢ·w without the bias feature. */
  dot(row: number): number;
  /** w += step · xᵢ. */
  addScaled(row: number, step: number): void;
  readonly kind: 'wasm-simd' | 'typescript';
}

/** x·w over one row, in four independent partial sums (a single sum is a chain of dependent additions). */
function dotRow(w: Float64Array, data: Float32Array | Float64Array, off: number, d: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let k = 0;
  for (; k + 3 < d; k += 4) {
    s0 += w[k] * data[off + k];
    s1 += w[k + 1] * data[off + k + 1];
    s2 += w[k + 2] * data[off + k + 2];
    s3 += w[k + 3] * data[off + k + 3];
  }
  for (; k < d; k++) s0 += w[k] * data[off + k];
  return s0 + s1 + (s2 + s3);
}

function addScaledRow(w: Float64Array, step: number, data: Float32Array | Float64Array, off: number, d: number): void {
  let k = 0;
  for (; k + 3 < d; k += 4) {
    w[k] += step * data[off + k];
    w[k + 1] += step * data[off + k + 1];
    w[k + 2] += step * data[off + k + 2];
    w[k + 3] += step * data[off + k + 3];
  }
  for (; k < d; k++) w[k] += step * data[off + k];
}

export function typescriptKernels(data: Float32Array | Float64Array, cols: number): RowKernels {
  const w = new Float64Array(cols);
  return {
    w,
    kind: 'typescript',
    reset: () => w.fill(0),
    dot: (row) => dotRow(w, data, row * cols, cols),
    addScaled: (row, step) => addScaledRow(w, step, data, row * cols, cols),
  };
}

// ---- the WebAssembly module, assembled from its instructions --------------------------------------------

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}
function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) return [...out, byte];
    out.push(byte | 0x80);
  }
}
const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];
const vector = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const name = (s: string) => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];

const I32 = 0x7f;
const F64 = 0x7c;
const V128 = 0x7b;
const op = {
  get: (i: number) => [0x20, ...uleb(i)],
  set: (i: number) => [0x21, ...uleb(i)],
  i32: (v: number) => [0x41, ...sleb(v)],
  add32: [0x6a],
  sub32: [0x6b],
  and32: [0x71],
  shrU32: [0x76],
  eqz32: [0x45],
  f64add: [0xa0],
  f64mul: [0xa2],
  f64load: (offset: number) => [0x2b, 3, ...uleb(offset)],
  f64store: (offset: number) => [0x39, 3, ...uleb(offset)],
  f32load: (offset: number) => [0x2a, 2, ...uleb(offset)],
  promote: [0xbb],
  blockLoop: [0x02, 0x40, 0x03, 0x40],
  endEnd: [0x0b, 0x0b],
  brIf1: [0x0d, 1],
  br0: [0x0c, 0],
  // SIMD (prefix 0xfd)
  vload: (offset: number) => [0xfd, ...uleb(0x00), 4, ...uleb(offset)],
  vstore: (offset: number) => [0xfd, ...uleb(0x0b), 4, ...uleb(offset)],
  splat: [0xfd, ...uleb(0x14)],
  lane: (k: number) => [0xfd, ...uleb(0x21), k],
  vadd: [0xfd, ...uleb(0xf0)],
  vmul: [0xfd, ...uleb(0xf2)],
  promoteLow: [0xfd, ...uleb(0x5f)],
  // the upper two float32 lanes moved down, so that promoteLow widens them
  highToLow: [0xfd, ...uleb(0x0d), 8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15],
};

/** f64 dot(w: ptr f64, x: ptr f32, d: i32): eight features per iteration, then the rest one by one. */
function dotBody(): number[] {
  const [w, x, d, n, acc0, xv, s] = [0, 1, 2, 3, 4, 8, 9];
  const widened = (half: 'low' | 'high') => (half === 'low' ? [...op.get(xv), ...op.promoteLow] : [...op.get(xv), ...op.get(xv), ...op.highToLow, ...op.promoteLow]);
  const accumulate = (acc: number, wOffset: number, half: 'low' | 'high') => [...op.get(acc), ...op.get(w), ...op.vload(wOffset), ...widened(half), ...op.vmul, ...op.vadd, ...op.set(acc)];
  const code = [
    ...op.get(d), ...op.i32(3), ...op.shrU32, ...op.set(n),
    ...op.blockLoop,
    ...op.get(n), ...op.eqz32, ...op.brIf1,
    ...op.get(x), ...op.vload(0), ...op.set(xv),
    ...accumulate(acc0, 0, 'low'), ...accumulate(acc0 + 1, 16, 'high'),
    ...op.get(x), ...op.vload(16), ...op.set(xv),
    ...accumulate(acc0 + 2, 32, 'low'), ...accumulate(acc0 + 3, 48, 'high'),
    ...op.get(w), ...op.i32(64), ...op.add32, ...op.set(w),
    ...op.get(x), ...op.i32(32), ...op.add32, ...op.set(x),
    ...op.get(n), ...op.i32(1), ...op.sub32, ...op.set(n),
    ...op.br0,
    ...op.endEnd,
    ...op.get(d), ...op.i32(7), ...op.and32, ...op.set(n),
    ...op.blockLoop,
    ...op.get(n), ...op.eqz32, ...op.brIf1,
    ...op.get(s), ...op.get(w), ...op.f64load(0), ...op.get(x), ...op.f32load(0), ...op.promote, ...op.f64mul, ...op.f64add, ...op.set(s),
    ...op.get(w), ...op.i32(8), ...op.add32, ...op.set(w),
    ...op.get(x), ...op.i32(4), ...op.add32, ...op.set(x),
    ...op.get(n), ...op.i32(1), ...op.sub32, ...op.set(n),
    ...op.br0,
    ...op.endEnd,
    ...op.get(acc0), ...op.get(acc0 + 1), ...op.vadd, ...op.get(acc0 + 2), ...op.get(acc0 + 3), ...op.vadd, ...op.vadd, ...op.set(xv),
    ...op.get(xv), ...op.lane(0), ...op.get(xv), ...op.lane(1), ...op.f64add, ...op.get(s), ...op.f64add,
    0x0b,
  ];
  const locals = vector([[1, I32], [5, V128], [1, F64]]);
  return [...locals, ...code];
}

/** addScaled(w: ptr f64, step: f64, x: ptr f32, d: i32): w += step·x, eight features per iteration. */
function addScaledBody(): number[] {
  const [w, step, x, d, n, sv, xv] = [0, 1, 2, 3, 4, 5, 6];
  const widened = (half: 'low' | 'high') => (half === 'low' ? [...op.get(xv), ...op.promoteLow] : [...op.get(xv), ...op.get(xv), ...op.highToLow, ...op.promoteLow]);
  const update = (wOffset: number, half: 'low' | 'high') => [...op.get(w), ...op.get(w), ...op.vload(wOffset), ...op.get(sv), ...widened(half), ...op.vmul, ...op.vadd, ...op.vstore(wOffset)];
  const code = [
    ...op.get(step), ...op.splat, ...op.set(sv),
    ...op.get(d), ...op.i32(3), ...op.shrU32, ...op.set(n),
    ...op.blockLoop,
    ...op.get(n), ...op.eqz32, ...op.brIf1,
    ...op.get(x), ...op.vload(0), ...op.set(xv),
    ...update(0, 'low'), ...update(16, 'high'),
    ...op.get(x), ...op.vload(16), ...op.set(xv),
    ...update(32, 'low'), ...update(48, 'high'),
    ...op.get(w), ...op.i32(64), ...op.add32, ...op.set(w),
    ...op.get(x), ...op.i32(32), ...op.add32, ...op.set(x),
    ...op.get(n), ...op.i32(1), ...op.sub32, ...op.set(n),
    ...op.br0,
    ...op.endEnd,
    ...op.get(d), ...op.i32(7), ...op.and32, ...op.set(n),
    ...op.blockLoop,
    ...op.get(n), ...op.eqz32, ...op.brIf1,
    ...op.get(w), ...op.get(w), ...op.f64load(0), ...op.get(step), ...op.get(x), ...op.f32load(0), ...op.promote, ...op.f64mul, ...op.f64add, ...op.f64store(0),
    ...op.get(w), ...op.i32(8), ...op.add32, ...op.set(w),
    ...op.get(x), ...op.i32(4), ...op.add32, ...op.set(x),
    ...op.get(n), ...op.i32(1), ...op.sub32, ...op.set(n),
    ...op.br0,
    ...op.endEnd,
    0x0b,
  ];
  const locals = vector([[1, I32], [2, V128]]);
  return [...locals, ...code];
}

function assembleModule(): Uint8Array<ArrayBuffer> {
  const types = section(1, vector([
    [0x60, ...vector([[I32], [I32], [I32]]), ...vector([[F64]])],
    [0x60, ...vector([[I32], [F64], [I32], [I32]]), ...vector([])],
  ]));
  const imports = section(2, vector([[...name('env'), ...name('memory'), 0x02, 0x00, ...uleb(1)]]));
  const functions = section(3, vector([[0], [1]]));
  const exports = section(7, vector([[...name('dot'), 0x00, 0], [...name('addScaled'), 0x00, 1]]));
  const bodies = [dotBody(), addScaledBody()];
  const code = section(10, vector(bodies.map((b) => [...uleb(b.length), ...b])));
  return new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...types, ...imports, ...functions, ...exports, ...code]);
}

let compiled: WebAssembly.Module | null | undefined;
function simdModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    try {
      compiled = new WebAssembly.Module(assembleModule());
    } catch {
      compiled = null; // no WebAssembly SIMD here: the TypeScript kernels run
    }
  }
  return compiled;
}

const PAGE = 65536;
/** The largest feature matrix copied into a WebAssembly memory (a 32-bit address space, with room to spare). */
const MAX_WASM_BYTES = 2 ** 31;

/**
 * Kernels for the rows of `data` (rows × cols, row-major). Float32 features run in WebAssembly SIMD when it
 * is available (the matrix is copied into its memory once); float64 features, or no SIMD, in TypeScript.
 * `prefer` forces the TypeScript kernels (tests compare the two).
 */
export function rowKernels(data: Float32Array | Float64Array, rows: number, cols: number, prefer: 'auto' | 'typescript' = 'auto'): RowKernels {
  const module = prefer === 'auto' && data instanceof Float32Array ? simdModule() : null;
  const dataBytes = rows * cols * 4;
  const wOffset = Math.ceil(dataBytes / 16) * 16;
  const total = wOffset + cols * 8;
  if (!module || total > MAX_WASM_BYTES) return typescriptKernels(data, cols);
  const memory = new WebAssembly.Memory({ initial: Math.ceil(total / PAGE) });
  new Float32Array(memory.buffer, 0, rows * cols).set(data as Float32Array);
  const exports = new WebAssembly.Instance(module, { env: { memory } }).exports as {
    dot: (w: number, x: number, d: number) => number;
    addScaled: (w: number, step: number, x: number, d: number) => void;
  };
  const w = new Float64Array(memory.buffer, wOffset, cols);
  const rowBytes = cols * 4;
  const { dot, addScaled } = exports;
  return {
    w,
    kind: 'wasm-simd',
    reset: () => w.fill(0),
    dot: (row) => dot(wOffset, row * rowBytes, cols),
    addScaled: (row, step) => addScaled(wOffset, step, row * rowBytes, cols),
  };
}
