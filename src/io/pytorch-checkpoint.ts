// Reads a PyTorch checkpoint (`torch.save`), in either of its serialisations, without Python and without
// running anything the file names: the zip format of PyTorch ≥ 1.6 (torch-zip.ts) or the legacy format of
// PyTorch ≤ 1.5 (torch-legacy.ts), told apart by their first bytes, both through the restricted unpickler
// (pickle.ts). Returns the object tree (dicts as Maps, tensors as TorchTensor views of the file's bytes) and
// every tensor under a dotted name of its path (e.g. `model.module.video_model.conv1.0.weight`).
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { constants } from 'node:buffer';
import { PickledTensor, type PickleValue } from './pickle.js';
import { TorchTensor, type TorchStorage } from './torch-tensor.js';
import { looksLikeLegacy, readLegacyCheckpoint, type RawCheckpoint } from './torch-legacy.js';
import { readZipCheckpoint } from './torch-zip.js';
import { ZipArchive } from './zip.js';

export type CheckpointTree = null | boolean | number | bigint | string | Uint8Array | TorchTensor | CheckpointTree[] | Map<unknown, CheckpointTree>;

export interface PyTorchCheckpoint {
  format: 'pytorch-zip' | 'pytorch-legacy';
  root: CheckpointTree;
  /** Every tensor by the dotted path of dict keys and list indices that leads to it. */
  tensors: Map<string, TorchTensor>;
}

/** File names that mean a PyTorch checkpoint: `.pth`, `.pt`, `.pth.tar` (the reference's). */
export function isPyTorchCheckpointPath(file: string): boolean {
  return /\.(pth|pt|tar)$/i.test(file);
}

export function readPyTorchCheckpoint(file: string): PyTorchCheckpoint {
  return decodePyTorchCheckpoint(readWholeFile(file), file);
}

export function decodePyTorchCheckpoint(bytes: Uint8Array, source: string): PyTorchCheckpoint {
  let raw: RawCheckpoint;
  let format: PyTorchCheckpoint['format'];
  if (ZipArchive.looksLikeZip(bytes)) {
    raw = readZipCheckpoint(bytes, source);
    format = 'pytorch-zip';
  } else if (looksLikeLegacy(bytes)) {
    raw = readLegacyCheckpoint(bytes, source);
    format = 'pytorch-legacy';
  } else if (bytes.length > 262 && new TextDecoder().decode(bytes.subarray(257, 262)) === 'ustar') {
    throw new Error(`${source}: a tar archive (PyTorch before 0.4 saved checkpoints so); re-save it with a newer PyTorch`);
  } else {
    throw new Error(`${source}: not a PyTorch checkpoint (neither a zip archive nor a legacy pickle checkpoint)`);
  }
  const tensors = new Map<string, TorchTensor>();
  const root = resolve(raw.root, [], tensors, new Map(), source);
  return { format, root, tensors };
}

const MAX_DEPTH = 256;

/** Replaces pickled tensors by TorchTensors (once per pickled object, so shared tensors stay shared). */
function resolve(value: PickleValue, path: string[], tensors: Map<string, TorchTensor>, seen: Map<unknown, CheckpointTree>, source: string): CheckpointTree {
  if (value instanceof PickledTensor) {
    let tensor = seen.get(value) as TorchTensor | undefined;
    if (!tensor) {
      const storage = value.storage as TorchStorage;
      if (!storage || typeof storage !== 'object' || !('numel' in storage)) throw new Error(`${source}: tensor '${path.join('.')}' is not backed by a storage`);
      tensor = new TorchTensor(storage, value.storageOffset, value.shape, value.stride, `${source}: tensor '${path.join('.')}'`);
      seen.set(value, tensor);
    }
    tensors.set(path.join('.'), tensor);
    return tensor;
  }
  if (value instanceof Map || Array.isArray(value)) {
    // A hostile pickle can nest lists a million deep; no checkpoint nests more than a few levels.
    if (path.length > MAX_DEPTH) throw new Error(`${source}: containers nested more than ${MAX_DEPTH} deep`);
    // A container reached twice (the pickle memo) is resolved once; a cycle stops here.
    if (seen.has(value)) return seen.get(value)!;
    if (value instanceof Map) {
      const out = new Map<unknown, CheckpointTree>();
      seen.set(value, out);
      for (const [k, v] of value) out.set(k, resolve(v as PickleValue, [...path, String(k)], tensors, seen, source));
      return out;
    }
    const out: CheckpointTree[] = [];
    seen.set(value, out);
    (value as PickleValue[]).forEach((v, i) => out.push(resolve(v, [...path, String(i)], tensors, seen, source)));
    return out;
  }
  if (value === null || ['boolean', 'number', 'bigint', 'string'].includes(typeof value) || value instanceof Uint8Array) return value as CheckpointTree;
  throw new Error(`${source}: '${path.join('.')}' holds an object of a kind a checkpoint should not contain`);
}

/** The whole file in one buffer, read in chunks: fs.readFileSync stops at 2 GiB, published files come close. */
function readWholeFile(file: string): Uint8Array {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    throw new Error(`${file}: cannot open (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  try {
    const size = fstatSync(fd).size;
    if (size > constants.MAX_LENGTH) throw new Error(`${file}: ${size} bytes is more than this Node.js can hold in one buffer (${constants.MAX_LENGTH})`);
    const bytes = Buffer.allocUnsafe(size);
    const chunk = 1 << 30;
    for (let done = 0; done < size; ) {
      const n = readSync(fd, bytes, done, Math.min(chunk, size - done), done);
      if (n === 0) throw new Error(`${file}: the file shrank while being read`);
      done += n;
    }
    return bytes;
  } finally {
    closeSync(fd);
  }
}
