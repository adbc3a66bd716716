// Who frees a tensor. Explicit memory management: tensors created inside `tidy(fn)` are disposed when fn
// returns, except the ones it returns (handed to the enclosing scope) and the ones passed to `keep`.
//
// Every tensor has one owner at a time:
// - a tidy scope, which disposes it when the scope ends (unless it is disposed earlier or escapes);
// - the nursery, for tensors created outside any scope: most of them are disposed within microseconds (`a.add(b)`
//   used and freed), so the nursery only holds them until the current job's microtasks run (or until it has
//   NURSERY_LIMIT of them); the ones still alive then are registered with the garbage-collector safety net;
// - nobody (`_owner === null`): kept or escaped tensors, which live until `dispose()` or, if forgotten, until the
//   FinalizationRegistry frees them after the garbage collector finds them unreachable.
// Registering every tensor with the FinalizationRegistry up front would cost about as much as a tiny op; the
// nursery makes that cost fall only on tensors that outlive the job that created them.
import { native } from './native.js';
import type { Tensor } from './tensor.js';

/** A Tensor's private fields that ownership manages (see tensor.ts). */
export interface Owned {
  _handle: number;
  _owner: Scope | null;
  _registered: boolean;
  dispose(): void;
}

export class Scope {
  /** Tensors this scope took; entries whose owner has changed, or that are disposed, are skipped. */
  tensors: Owned[] = [];
  /** Length at which disposed and departed entries are swept out, so a long scope does not grow without bound. */
  compactAt = COMPACT_MIN;
  constructor(readonly parent: Scope | null) {}
}

const COMPACT_MIN = 1024;
const NURSERY_LIMIT = 1024;

const nursery = new Scope(null);
let current: Scope = nursery;
let flushQueued = false;

// The safety net: a tensor that nobody owns and JavaScript forgets is freed after it is collected. The held
// value is its handle; dispose() unregisters it, so a handle is never freed twice.
const registry = new FinalizationRegistry<number>((handle) => {
  native.dispose(handle);
});

function register(t: Owned): void {
  t._owner = null;
  if (t._handle < 0 || t._registered) return;
  t._registered = true;
  registry.register(t, t._handle, t);
}

/** Called by dispose(): the registry must not free this handle again. */
export function unregister(t: Owned): void {
  t._registered = false;
  registry.unregister(t);
}

function flushNursery(): void {
  const list = nursery.tensors;
  for (let i = 0; i < list.length; i++) {
    const t = list[i];
    if (t._owner === nursery) register(t);
  }
  list.length = 0;
}

function flushQueuedNursery(): void {
  flushQueued = false;
  flushNursery();
}

function sweep(scope: Scope): void {
  const list = scope.tensors;
  let kept = 0;
  for (let i = 0; i < list.length; i++) {
    const t = list[i];
    if (t._owner === scope && t._handle >= 0) list[kept++] = t;
  }
  list.length = kept;
  scope.compactAt = Math.max(COMPACT_MIN, 2 * kept);
}

function giveTo(scope: Scope, t: Owned): void {
  t._owner = scope;
  const n = scope.tensors.push(t);
  if (scope === nursery) {
    if (!flushQueued) {
      flushQueued = true;
      queueMicrotask(flushQueuedNursery);
    }
    if (n >= NURSERY_LIMIT) flushNursery();
  } else if (n >= scope.compactAt) {
    sweep(scope);
  }
}

/** A new tensor joins the innermost open `tidy` scope (or the nursery outside any). */
export function adopt(t: Tensor): void {
  giveTo(current, t as unknown as Owned);
}

/** Removes `t` from every open scope: it lives until disposed explicitly. Returns `t`. */
export function keep<T extends Tensor>(t: T): T {
  const owned = t as unknown as Owned;
  if (owned._owner !== null) register(owned);
  return t;
}

function collectTensors(value: unknown, out: Tensor[], isTensor: (v: unknown) => v is Tensor, depth = 0): void {
  if (depth > 4 || value === null || typeof value !== 'object') return;
  if (isTensor(value)) {
    out.push(value);
    return;
  }
  if (Array.isArray(value)) {
    for (const v of value) collectTensors(v, out, isTensor, depth + 1);
    return;
  }
  if (value instanceof Map) {
    for (const v of value.values()) collectTensors(v, out, isTensor, depth + 1);
    return;
  }
  if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collectTensors(v, out, isTensor, depth + 1);
  }
}

let isTensorFn: (v: unknown) => v is Tensor = (_v: unknown): _v is Tensor => false;
export function setTensorPredicate(fn: (v: unknown) => v is Tensor): void {
  isTensorFn = fn;
}

function disposeOwned(scope: Scope): void {
  const list = scope.tensors;
  for (let i = 0; i < list.length; i++) {
    const t = list[i];
    if (t._owner === scope) t.dispose();
  }
}

/**
 * Runs `fn` and disposes every tensor it created, except those in its result (a tensor, or arrays and plain
 * objects of tensors) and those kept. Synchronous only: an async fn would let other work's tensors into
 * the scope.
 */
export function tidy<T>(fn: () => T): T {
  const parent = current;
  const scope = new Scope(parent);
  current = scope;
  let result: T;
  try {
    result = fn();
  } catch (error) {
    current = parent;
    disposeOwned(scope);
    throw error;
  }
  current = parent;
  if (result instanceof Promise) {
    // The function goes on running: its tensors cannot be freed under it, so they go to the enclosing scope.
    for (const t of scope.tensors) if (t._owner === scope) giveTo(parent, t);
    throw new Error('tidy() takes a synchronous function; await outside the scope');
  }
  if (typeof result === 'object' && result !== null) {
    const survivors: Tensor[] = [];
    collectTensors(result, survivors, isTensorFn);
    for (const t of survivors) {
      const owned = t as unknown as Owned;
      if (owned._owner === scope && owned._handle >= 0) giveTo(parent, owned);
    }
  }
  disposeOwned(scope);
  return result;
}
