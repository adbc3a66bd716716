// Explicit memory management: tensors created inside `tidy(fn)` are disposed when fn returns, except the
// ones it returns (handed to the enclosing scope) and the ones passed to `keep`.
import type { Tensor } from './tensor.js';

const scopes: Set<Tensor>[] = [];

export function trackInScope(t: Tensor): void {
  if (scopes.length > 0) scopes[scopes.length - 1].add(t);
}

export function untrack(t: Tensor): void {
  for (const scope of scopes) scope.delete(t);
}

/** Removes `t` from every open scope: it lives until disposed explicitly. Returns `t`. */
export function keep<T extends Tensor>(t: T): T {
  untrack(t);
  return t;
}

function collectTensors(value: unknown, out: Set<Tensor>, isTensor: (v: unknown) => v is Tensor, depth = 0): void {
  if (depth > 4 || value === null || typeof value !== 'object') return;
  if (isTensor(value)) {
    out.add(value);
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

/**
 * Runs `fn` and disposes every tensor it created, except those in its result (a tensor, or arrays and plain
 * objects of tensors) and those kept. Synchronous only: an async fn would let other work's tensors into
 * the scope.
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Tensor>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (error) {
    scopes.pop();
    for (const t of scope) t.dispose();
    throw error;
  }
  scopes.pop();
  if (result instanceof Promise) {
    throw new Error('tidy() takes a synchronous function; await outside the scope');
  }
  const survivors = new Set<Tensor>();
  collectTensors(result, survivors, isTensorFn);
  for (const t of scope) {
    if (survivors.has(t)) trackInScope(t);
    else t.dispose();
  }
  return result;
}
