// Mixed precision: the model's forward pass runs under libtorch's autocast, which runs convolutions and
// matrix products in a 16-bit type (float16 or bfloat16) and keeps precision-sensitive ops in float32; the
// parameters, their gradients and the optimizer stay float32. Backward runs outside the region, as in
// PyTorch (the casts are part of the graph). float16 needs dynamic loss scaling (grad-scaler.ts) because its
// small range underflows gradients; bfloat16 has float32's range and trains without it.
import type { Device } from '../tensor/index.js';
import { native } from '../tensor/native.js';

export type Precision = 'fp32' | 'fp16' | 'bf16';
export const PRECISIONS: readonly Precision[] = ['fp32', 'fp16', 'bf16'];

const AUTOCAST_DTYPE = { fp16: 'float16', bf16: 'bfloat16' } as const;

/**
 * Checks that `precision` can run on `device`: libtorch 1.13's CPU autocast only knows bfloat16, so fp16 needs
 * CUDA. `what` names where the value came from.
 */
export function checkPrecision(precision: string, device: Device, what = 'precision'): Precision {
  if (!PRECISIONS.includes(precision as Precision)) throw new Error(`${what}: '${precision}' is not a precision (allowed: ${PRECISIONS.join(', ')})`);
  if (precision === 'fp16' && device === 'cpu') {
    throw new Error(`${what}: fp16 autocast needs a CUDA device (libtorch's CPU autocast supports bfloat16 only): use bf16 on the CPU, or --device cuda`);
  }
  return precision as Precision;
}

/** Runs `fn` with autocast enabled for `device` at `precision` (fp32: no autocast); regions nest. */
export function withAutocast<R>(device: Device, precision: Precision, fn: () => R): R {
  if (precision === 'fp32') return fn();
  const deviceType = device === 'cpu' ? 'cpu' : 'cuda';
  const [wasEnabled, previousDtype] = native.autocastEnter(deviceType, AUTOCAST_DTYPE[precision]) as [boolean, string];
  try {
    return fn();
  } finally {
    native.autocastExit(deviceType, wasEnabled, previousDtype);
  }
}

/** Whether an autocast region is open for this device type (tests). */
export function autocastEnabled(deviceType: 'cpu' | 'cuda'): boolean {
  return native.autocastIsEnabled(deviceType);
}

/** Loss scaling is needed for float16 only. */
export function needsGradScaling(precision: Precision): boolean {
  return precision === 'fp16';
}
