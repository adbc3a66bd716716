// A tensor read from a PyTorch checkpoint: a view (storage offset, shape, strides, in elements) of a storage
// whose raw bytes come from the file. Several tensors may share one storage (views, tied weights); a view's
// elements are gathered in index order when it is not contiguous, so what comes out is what PyTorch's
// `tensor.contiguous()` holds. Views are checked against their storage before any byte is read: a hostile
// file cannot make a tensor reach past its storage or expand a small storage into a huge tensor.
import * as T from '../tensor/index.js';
import { float16BitsToFloat32, bfloat16BitsToFloat32 } from './safetensors.js';
import { StorageType, type TorchDtype } from './pickle.js';

export const ELEMENT_BYTES: Record<TorchDtype, number> = {
  float64: 8,
  float32: 4,
  float16: 2,
  bfloat16: 2,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

/** A storage as a checkpoint declares it; `bytes` is filled once the file's data for it has been found. */
export interface TorchStorage {
  key: string;
  dtype: TorchDtype;
  /** The storage class the file names, e.g. `torch.cuda.FloatStorage`. */
  storageType: string;
  /** Where it lived when saved, e.g. `cpu` or `cuda:0` (everything is read onto the CPU). */
  location: string;
  /** Element count. */
  numel: number;
  bytes: Uint8Array | null;
}

export class TorchTensor {
  readonly numel: number;

  constructor(
    readonly storage: TorchStorage,
    readonly storageOffset: number,
    readonly shape: number[],
    readonly stride: number[],
    source: string,
  ) {
    let numel = 1;
    let lastIndex = storageOffset;
    for (let d = 0; d < shape.length; d++) {
      numel *= shape[d];
      lastIndex += (shape[d] - 1) * stride[d];
      if (!Number.isSafeInteger(numel)) throw new Error(`${source}: a tensor of shape [${shape}] is too large`);
    }
    this.numel = numel;
    if (numel > 0) {
      if (!Number.isSafeInteger(lastIndex) || lastIndex >= storage.numel) {
        throw new Error(`${source}: a tensor of shape [${shape}], strides [${stride}], offset ${storageOffset} reaches element ${lastIndex} of storage '${storage.key}', which has ${storage.numel}`);
      }
      if (numel > storage.numel) {
        throw new Error(`${source}: a tensor of shape [${shape}] has more elements (${numel}) than its storage '${storage.key}' (${storage.numel}); expanded (stride-0) views are not read`);
      }
    }
  }

  get dtype(): TorchDtype {
    return this.storage.dtype;
  }

  /** Row-major with no gaps, so its bytes are one slice of the storage. */
  get isContiguous(): boolean {
    let expected = 1;
    for (let d = this.shape.length - 1; d >= 0; d--) {
      if (this.shape[d] !== 1 && this.stride[d] !== expected) return false;
      expected *= this.shape[d];
    }
    return true;
  }

  /** The elements in row-major order, little-endian (a view of the file when contiguous, else a copy). */
  contiguousBytes(): Uint8Array {
    const bytes = this.storage.bytes;
    if (!bytes) throw new Error(`storage '${this.storage.key}' has no data (the file never wrote it)`);
    const e = ELEMENT_BYTES[this.dtype];
    if (this.isContiguous) return bytes.subarray(this.storageOffset * e, (this.storageOffset + this.numel) * e);
    const out = new Uint8Array(this.numel * e);
    const rank = this.shape.length;
    const index = new Array<number>(rank).fill(0);
    let source = this.storageOffset;
    for (let i = 0; i < this.numel; i++) {
      out.set(bytes.subarray(source * e, source * e + e), i * e);
      // Odometer: advance the last dimension, carrying into earlier ones.
      for (let d = rank - 1; d >= 0; d--) {
        index[d]++;
        source += this.stride[d];
        if (index[d] < this.shape[d]) break;
        source -= this.stride[d] * this.shape[d];
        index[d] = 0;
      }
    }
    return out;
  }

  /** A contiguous avid tensor on the CPU with the same dtype and values; the caller owns it. */
  toTensor(): T.Tensor {
    const raw = this.contiguousBytes();
    const e = ELEMENT_BYTES[this.dtype];
    // Typed arrays need aligned offsets; a slice of a legacy file often is not, so copy it then (a fresh
    // Uint8Array: on a Node Buffer, slice() is a view, not a copy).
    const aligned = raw.byteOffset % e === 0 ? raw : new Uint8Array(raw);
    const { buffer, byteOffset } = aligned;
    const n = this.numel;
    switch (this.dtype) {
      case 'float64':
        return T.tensor(new Float64Array(buffer, byteOffset, n), this.shape);
      case 'float32':
        return T.tensor(new Float32Array(buffer, byteOffset, n), this.shape);
      case 'int64':
        return T.tensor(new BigInt64Array(buffer, byteOffset, n), this.shape);
      case 'int32':
        return T.tensor(new Int32Array(buffer, byteOffset, n), this.shape);
      case 'int16':
        return T.tensor(new Int16Array(buffer, byteOffset, n), this.shape);
      case 'int8':
        return T.tensor(new Int8Array(buffer, byteOffset, n), this.shape);
      case 'uint8':
        return T.tensor(new Uint8Array(buffer, byteOffset, n), this.shape);
      case 'bool':
        return T.tensor(new Uint8Array(buffer, byteOffset, n), this.shape, 'bool');
      case 'float16':
        return T.tensor(float16BitsToFloat32(new Uint16Array(buffer, byteOffset, n)), this.shape, 'float16');
      case 'bfloat16':
        return T.tensor(bfloat16BitsToFloat32(new Uint16Array(buffer, byteOffset, n)), this.shape, 'bfloat16');
    }
  }

  /** The single value of a one-element tensor, as a number (e.g. the NCE constant). */
  item(): number {
    if (this.numel !== 1) throw new Error(`item() of a tensor with ${this.numel} elements`);
    const raw = new Uint8Array(this.contiguousBytes());
    const view = new DataView(raw.buffer);
    switch (this.dtype) {
      case 'float64':
        return view.getFloat64(0, true);
      case 'float32':
        return view.getFloat32(0, true);
      case 'int64':
        return Number(view.getBigInt64(0, true));
      case 'int32':
        return view.getInt32(0, true);
      case 'int16':
        return view.getInt16(0, true);
      case 'int8':
        return view.getInt8(0);
      case 'uint8':
      case 'bool':
        return view.getUint8(0);
      case 'float16':
        return float16BitsToFloat32(new Uint16Array(raw.buffer))[0];
      case 'bfloat16':
        return bfloat16BitsToFloat32(new Uint16Array(raw.buffer))[0];
    }
  }
}

/**
 * The storage a persistent id names: `('storage', storage_type, key, location, numel[, view_metadata])`, as
 * both of PyTorch's serialisations write it. `storages` keeps one object per key, so views share it.
 */
export function storageFromPersistentId(pid: unknown, storages: Map<string, TorchStorage>, source: string): TorchStorage {
  if (!Array.isArray(pid) || pid.length < 5 || pid[0] !== 'storage') throw new Error(`${source}: a persistent id that is not a storage: ${describePid(pid)}`);
  const [, type, key, location, numel, viewMetadata] = pid as unknown[];
  if (!(type instanceof StorageType)) throw new Error(`${source}: storage persistent id without a storage class`);
  if (typeof key !== 'string' || typeof location !== 'string') throw new Error(`${source}: storage persistent id with a malformed key or location`);
  if (typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0) throw new Error(`${source}: storage '${key}' has a bad element count ${String(numel)}`);
  if (viewMetadata !== undefined && viewMetadata !== null) throw new Error(`${source}: storage '${key}' is a storage view (written by PyTorch before 0.4), which is not read`);
  const existing = storages.get(key);
  if (existing) {
    if (existing.dtype !== type.dtype || existing.numel !== numel) throw new Error(`${source}: storage '${key}' is declared twice with different types or sizes`);
    return existing;
  }
  const storage: TorchStorage = { key, dtype: type.dtype, storageType: `${type.module}.${type.name}`, location, numel, bytes: null };
  storages.set(key, storage);
  return storage;
}

function describePid(pid: unknown): string {
  return Array.isArray(pid) ? `(${pid.map((p) => (typeof p === 'string' ? `'${p}'` : typeof p)).join(', ')})` : typeof pid;
}
