// Where training runs: which devices this build can use, moving a run's state (model, optimizer slots,
// memory banks) onto the device in place, and copying each batch there. On CUDA a batch is copied from
// pinned (page-locked) host memory with non_blocking=true, so the host goes on queueing the step's kernels
// while the copy runs; on the CPU every function here is a no-op.
//
// Index tensors (instance indices, mined positives, per-step random draws) stay on the CPU: they drive
// CPU-side random draws that are identical on every device and rank, and the memory banks move the few rows'
// indices they need to their own device.
import { Tensor, tidy, type Device } from '../tensor/index.js';
import { native } from '../tensor/native.js';
import { Module } from '../nn/index.js';
import type { Optimizer } from '../optim/index.js';
import type { Objective } from '../ssl/objective.js';
import type { TrainBatch } from './batch-source.js';

/** What the addon was built against and what it can see. */
export interface DeviceInfo {
  /** Built against a CUDA libtorch (LIBTORCH=... with libtorch_cuda.so). */
  cudaBuild: boolean;
  /** libtorch sees a usable CUDA device. */
  cudaAvailable: boolean;
  cudaDevices: number;
  /** The libtorch library the addon is linked to. */
  libtorch: string;
}

export function deviceInfo(): DeviceInfo {
  return native.deviceInfo() as DeviceInfo;
}

/**
 * Validates a device name ('cpu', 'cuda', 'cuda:N') against this build and machine, and fails at once with
 * what to do when it cannot be used. 'cuda' alone means `cuda:<localRank>` (one GPU per process under
 * `avid launch`). `what` names where the value came from (a config key or option).
 */
export function resolveDevice(spec: string, options: { localRank?: number; what?: string } = {}): Device {
  const what = options.what ?? 'device';
  const text = spec.trim().toLowerCase();
  if (text === 'cpu') return 'cpu';
  const match = /^cuda(?::(\d+))?$/.exec(text);
  if (!match) throw new Error(`${what}: '${spec}' is not a device (allowed: cpu, cuda, cuda:N)`);
  const info = deviceInfo();
  if (!info.cudaBuild) {
    throw new Error(
      `${what}: this avid build has no CUDA: libtorch at ${info.libtorch} is CPU-only; rebuild with ` +
        'LIBTORCH=/path/to/libtorch (a CUDA build of libtorch, cxx11 ABI) npm run build:native (see docs/cuda.md)',
    );
  }
  if (!info.cudaAvailable || info.cudaDevices === 0) {
    throw new Error(`${what}: this avid build has CUDA (libtorch at ${info.libtorch}) but libtorch sees no GPU: check the driver (nvidia-smi) and CUDA_VISIBLE_DEVICES`);
  }
  const index = match[1] !== undefined ? Number(match[1]) : (options.localRank ?? 0);
  if (index >= info.cudaDevices) {
    throw new Error(`${what}: cuda:${index} does not exist: libtorch sees ${info.cudaDevices} GPU(s) (cuda:0..cuda:${info.cudaDevices - 1})`);
  }
  return `cuda:${index}`;
}

export function isCuda(device: Device): boolean {
  return device !== 'cpu';
}

/**
 * Makes a CUDA device this process's current one (as torch.cuda.set_device), so that NCCL and anything placed
 * on a plain 'cuda' use it; nothing happens for the CPU.
 */
export function makeCurrent(device: Device): void {
  if (!isCuda(device)) return;
  const index = Number(device.split(':')[1] ?? 0);
  if (typeof native.deviceSetCurrent === 'function') native.deviceSetCurrent(index);
}

function isFloating(t: Tensor): boolean {
  return t.dtype === 'float32' || t.dtype === 'float64' || t.dtype === 'float16' || t.dtype === 'bfloat16';
}

/**
 * Moves each tensor's data to `device` in place: the tensor keeps its identity (JavaScript handle, autograd
 * leaf status, requires-grad), so modules and optimizers that hold it go on working. Tensors already there are
 * left alone.
 */
export function moveTensors_(tensors: Iterable<Tensor>, device: Device): void {
  for (const t of tensors) {
    if (t.device === device) continue;
    tidy(() => native.setData(t.handle, t.detach().to(null, device).handle));
  }
}

/** The parameters and buffers of a module, moved in place (as PyTorch's module.to(device)). */
export function moveModule_(module: Module, device: Device): void {
  moveTensors_(module.stateDict().values(), device);
}

/**
 * A run's whole training state on `device`: the model's parameters and buffers, the optimizer's slots and the
 * objective's floating-point state (memory banks). Integer state (mined positives) stays on the CPU.
 */
export function moveTrainingState_(device: Device, parts: { model: Module; optimizer?: Optimizer<object>; objective?: Objective }): void {
  moveModule_(parts.model, device);
  if (parts.optimizer) moveTensors_(parts.optimizer.stateDict().tensors.values(), device);
  if (parts.objective) moveTensors_([...parts.objective.state().tensors.values()].filter(isFloating), device);
}

/**
 * A tensor on `device` (the same tensor when already there, else a new one; the caller disposes the original).
 * From the CPU to CUDA it goes through pinned memory with an asynchronous copy.
 */
export function toDevice(t: Tensor, device: Device): Tensor {
  if (t.device === device) return t;
  if (t.device !== 'cpu' || !isCuda(device)) return t.to(null, device);
  return tidy(() => {
    // The caching host allocator records the copy's stream on the pinned block, so freeing the pinned
    // tensor right after queueing the copy is safe: the block is reused only once the copy has finished.
    const pinned = native.isPinned(t.handle) ? t : t.pinMemory();
    return pinned.to(null, device, true);
  });
}

/**
 * The batch with its media (video, audio, negative audio) on `device`; indices and flags stay on the CPU.
 * The input batch's moved tensors are disposed (the caller owns the returned batch as it owned the input).
 */
export function batchToDevice(batch: TrainBatch, device: Device): TrainBatch {
  if (!isCuda(device)) return batch;
  const move = (t: Tensor | undefined): Tensor | undefined => {
    if (!t) return t;
    const moved = toDevice(t, device);
    if (moved !== t) t.dispose();
    return moved;
  };
  return { ...batch, video: move(batch.video)!, audio: move(batch.audio)!, audioNegative: move(batch.audioNegative) };
}

/** Waits for the device's queued work (for timings); a no-op on the CPU. */
export function synchronize(device: Device): void {
  if (isCuda(device)) native.deviceSynchronize();
}

type Outputs = Tensor | Record<string, Tensor>;

/**
 * Evaluation on a device: moves `module` there (in place) and returns it wrapped so that the named forward
 * methods take CPU inputs and give CPU outputs (a tensor or a record of tensors), the work in between
 * running on `device`. On the CPU the module itself is returned.
 */
export function evaluateOnDevice<M extends object>(module: M, device: Device, methods: string[]): M {
  if (!isCuda(device)) return module;
  if (!(module instanceof Module)) throw new Error('evaluateOnDevice: not a module');
  moveModule_(module, device);
  return withDeviceIO(module, device, methods);
}

/** `module` with the named methods' tensor inputs sent to `device` and their outputs brought back to the CPU. */
export function withDeviceIO<M extends object>(module: M, device: Device, methods: string[]): M {
  const wrapped = new Set<string>(methods);
  return new Proxy(module, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (typeof key !== 'string' || !wrapped.has(key) || typeof value !== 'function') return value;
      return (...args: unknown[]) =>
        tidy(() => {
          const inputs = args.map((a) => (a instanceof Tensor ? toDevice(a, device) : a));
          const out = (value as (...a: unknown[]) => Outputs).apply(target, inputs);
          if (out instanceof Tensor) return out.cpu();
          return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, t.cpu()]));
        });
    },
  });
}
