// Threads, memory accounting and devices.
import { native } from './native.js';

export function setNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`setNumThreads: expected a positive integer, got ${n}`);
  native.setNumThreads(n);
}
export function getNumThreads(): number {
  return native.getNumThreads();
}
/**
 * Intra-op threads for the operations this (the JavaScript) thread runs, without rebuilding libtorch's global
 * thread pools as setNumThreads does (that costs milliseconds of CPU and, on a busy machine, tens of ms of
 * wall time: too much to do around every batch). Falls back to setNumThreads where the OpenMP runtime's own
 * setter is not available. getNumThreads reads the same value back.
 */
export function setCallerThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`setCallerThreads: expected a positive integer, got ${n}`);
  if (!native.setCallerThreads(n)) native.setNumThreads(n);
}
/** Live native tensors (handles not yet disposed or collected) and the bytes of their storages. */
export function memory(): { liveTensors: number; bytes: number } {
  return { liveTensors: native.liveTensors(), bytes: native.liveBytes() };
}
export function cudaIsAvailable(): boolean {
  return native.cudaIsAvailable();
}
/** Deterministic algorithms (and no cuDNN autotuning), for reproducible runs. */
export function setDeterministic(on: boolean): void {
  native.setDeterministic(on);
}
export const torchVersion: string = native.torchVersion;
