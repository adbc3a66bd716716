// Functions that make new tensors.
import { native, type Handle } from './native.js';
import { Tensor } from './tensor.js';
import type { DType, Device, AnyTypedArray } from './dtype.js';
import type { Generator } from './random.js';

export interface CreateOptions {
  dtype?: DType;
  device?: Device;
}

/**
 * Dimensions are non-negative integers. Checked here because the addon's conversion truncates: NaN became 0
 * and 1.7 became 1, so a mistaken size silently made a different tensor.
 */
function checkShape(shape: readonly number[], op: string): number[] {
  if (!Array.isArray(shape)) throw new TypeError(`${op}: shape must be an array of dimensions, got ${typeof shape}`);
  shape.forEach((d, i) => {
    if (!Number.isSafeInteger(d) || d < 0) throw new RangeError(`${op}: shape[${i}] is ${d}; dimensions must be non-negative integers (shape [${shape.join(', ')}])`);
  });
  return shape as number[];
}

export function zeros(shape: number[], o: CreateOptions = {}): Tensor {
  return new Tensor(native.zeros(checkShape(shape, 'zeros'), o.dtype, o.device));
}
export function ones(shape: number[], o: CreateOptions = {}): Tensor {
  return new Tensor(native.ones(checkShape(shape, 'ones'), o.dtype, o.device));
}
export function empty(shape: number[], o: CreateOptions = {}): Tensor {
  return new Tensor(native.empty(checkShape(shape, 'empty'), o.dtype, o.device));
}
export function full(shape: number[], value: number, o: CreateOptions = {}): Tensor {
  return new Tensor(native.full(checkShape(shape, 'full'), value, o.dtype, o.device));
}
/** Values start, start+step, ... below end; int64 unless a dtype is given. */
export function arange(start: number, end?: number, step = 1, o: CreateOptions = {}): Tensor {
  if (end === undefined) [start, end] = [0, start];
  return new Tensor(native.arange(start, end, step, o.dtype, o.device));
}
export function linspace(start: number, end: number, steps: number, o: CreateOptions = {}): Tensor {
  return new Tensor(native.linspace(start, end, steps, o.dtype, o.device));
}
export function eye(n: number, o: CreateOptions = {}): Tensor {
  return new Tensor(native.eye(n, o.dtype, o.device));
}
export interface RandomOptions extends CreateOptions {
  generator?: Generator;
}
export function rand(shape: number[], o: RandomOptions = {}): Tensor {
  return new Tensor(native.rand(checkShape(shape, 'rand'), o.generator?.handle, o.dtype, o.device));
}
export function randn(shape: number[], o: RandomOptions = {}): Tensor {
  return new Tensor(native.randn(checkShape(shape, 'randn'), o.generator?.handle, o.dtype, o.device));
}
/** Integers in [low, high). */
export function randint(low: number, high: number, shape: number[], o: RandomOptions = {}): Tensor {
  return new Tensor(native.randint(low, high, checkShape(shape, 'randint'), o.generator?.handle, o.dtype, o.device));
}
export function randperm(n: number, o: RandomOptions = {}): Tensor {
  return new Tensor(native.randperm(n, o.generator?.handle, o.dtype, o.device));
}
export function bernoulli(probabilities: Tensor, generator?: Generator): Tensor {
  return new Tensor(native.bernoulli(probabilities.handle, generator?.handle));
}
export function multinomial(probabilities: Tensor, samples: number, replacement: boolean, generator?: Generator): Tensor {
  return new Tensor(native.multinomial(probabilities.handle, samples, replacement, generator?.handle));
}

/**
 * A tensor holding a copy of `data` with `shape` (default: 1-D). The dtype follows the typed array
 * (Float32Array → float32, Int32Array → int32, BigInt64Array → int64, Uint8Array → uint8 ...) unless given.
 * A plain number array becomes float32.
 */
export function tensor(data: AnyTypedArray | number[], shape?: number[], dtype?: DType): Tensor {
  const array = Array.isArray(data) ? Float32Array.from(data) : data;
  return new Tensor(native.fromTypedArray(array, shape === undefined ? [array.length] : checkShape(shape, 'tensor'), dtype));
}
export function scalar(value: number, o: CreateOptions = {}): Tensor {
  return full([], value, o);
}

export function zerosLike(t: Tensor): Tensor {
  return new Tensor(native.zerosLike(t.handle));
}
export function onesLike(t: Tensor): Tensor {
  return new Tensor(native.onesLike(t.handle));
}
export function fullLike(t: Tensor, value: number): Tensor {
  return new Tensor(native.fullLike(t.handle, value));
}
export function randLike(t: Tensor, generator?: Generator): Tensor {
  return new Tensor(native.randLike(t.handle, generator?.handle));
}
export function randnLike(t: Tensor, generator?: Generator): Tensor {
  return new Tensor(native.randnLike(t.handle, generator?.handle));
}
export function hannWindow(length: number, periodic = true, o: CreateOptions = {}): Tensor {
  return new Tensor(native.hannWindow(length, periodic, o.dtype, o.device));
}

export function cat(tensors: Tensor[], dim = 0): Tensor {
  return new Tensor(native.cat(tensors.map((t) => t.handle), dim));
}
export function stack(tensors: Tensor[], dim = 0): Tensor {
  return new Tensor(native.stack(tensors.map((t) => t.handle), dim));
}
export function where(condition: Tensor, a: Tensor | number, b: Tensor | number): Tensor {
  const c = condition.handle;
  if (a instanceof Tensor) return new Tensor(b instanceof Tensor ? native.where(c, a.handle, b.handle) : native.whereScalarB(c, a.handle, b));
  return new Tensor(b instanceof Tensor ? native.whereScalarA(c, a, b.handle) : native.whereScalars(c, a, b));
}
export function einsum(equation: string, tensors: Tensor[]): Tensor {
  return new Tensor(native.einsum(equation, tensors.map((t) => t.handle)));
}
export function outer(a: Tensor, b: Tensor): Tensor {
  return new Tensor(native.outer(a.handle, b.handle));
}
export function addmm(input: Tensor, a: Tensor, b: Tensor, beta = 1, alpha = 1): Tensor {
  return new Tensor(native.addmm(input.handle, a.handle, b.handle, beta, alpha));
}
export function wrapHandles(handles: Handle[]): Tensor[] {
  return handles.map(Tensor.wrap);
}
