// PyTorch's legacy serialisation (torch.save up to 1.5, and later with _use_new_zipfile_serialization=False),
// the format of the AVID-CMA authors' published checkpoints. One file, in this order:
//   pickle: the magic number 0x1950a86a20f9469cfc6c
//   pickle: the protocol version, 1001
//   pickle: system info {'protocol_version', 'little_endian', 'type_sizes'}
//   pickle: the object, whose storages are persistent ids ('storage', storage_type, key, location, numel, None)
//   pickle: the list of storage keys, in the order their data follows
//   for each key: int64 element count (little-endian), then the storage's raw bytes.
// Files saved from GPUs name `torch.cuda.FloatStorage` and location `cuda:0`; the data is the same bytes.
import { unpickle, type PickleValue } from './pickle.js';
import { ELEMENT_BYTES, storageFromPersistentId, type TorchStorage } from './torch-tensor.js';

const MAGIC_NUMBER = 0x1950a86a20f9469cfc6cn;
const PROTOCOL_VERSION = 1001;

export interface RawCheckpoint {
  root: PickleValue;
  storages: Map<string, TorchStorage>;
}

/** PROTO 2 then LONG1 of 10 bytes: how every legacy checkpoint begins (the pickled magic number). */
export function looksLikeLegacy(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x80 && bytes[2] === 0x8a && bytes[3] === 0x0a;
}

export function readLegacyCheckpoint(bytes: Uint8Array, source: string): RawCheckpoint {
  const magic = unpickle(bytes, 0, { source: `${source} (magic number)` });
  if (magic.value !== MAGIC_NUMBER) throw new Error(`${source}: not a PyTorch legacy checkpoint (wrong magic number)`);
  const version = unpickle(bytes, magic.end, { source: `${source} (protocol version)` });
  if (version.value !== PROTOCOL_VERSION) throw new Error(`${source}: legacy protocol version ${String(version.value)} is not supported (expected ${PROTOCOL_VERSION})`);
  const systemInfo = unpickle(bytes, version.end, { source: `${source} (system info)` });
  const info = systemInfo.value;
  if (!(info instanceof Map) || info.get('little_endian') !== true) throw new Error(`${source}: saved on a big-endian machine or with no system info; only little-endian files are read`);

  const storages = new Map<string, TorchStorage>();
  const object = unpickle(bytes, systemInfo.end, {
    source,
    persistentLoad: (pid) => storageFromPersistentId(pid, storages, source),
  });
  const keyList = unpickle(bytes, object.end, { source: `${source} (storage keys)` });
  const keys = keyList.value;
  if (!Array.isArray(keys) || !keys.every((k) => typeof k === 'string')) throw new Error(`${source}: the storage key list is not a list of strings`);

  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = keyList.end;
  for (const key of keys as string[]) {
    const storage = storages.get(key);
    if (!storage) throw new Error(`${source}: data for storage '${key}', which no tensor uses`);
    if (storage.bytes) throw new Error(`${source}: storage '${key}' has its data written twice`);
    if (pos + 8 > bytes.length) throw new Error(`${source}: truncated: the element count of storage '${key}' is missing`);
    const count = view.getBigInt64(pos, true);
    pos += 8;
    if (count !== BigInt(storage.numel)) throw new Error(`${source}: storage '${key}' holds ${count} elements but the object declared ${storage.numel}`);
    const length = storage.numel * ELEMENT_BYTES[storage.dtype];
    if (pos + length > bytes.length) throw new Error(`${source}: truncated: storage '${key}' needs ${length} bytes but ${bytes.length - pos} are left`);
    storage.bytes = bytes.subarray(pos, pos + length);
    pos += length;
  }
  for (const storage of storages.values()) {
    if (!storage.bytes) throw new Error(`${source}: storage '${storage.key}' is used but its data is not in the file`);
  }
  return { root: object.value, storages };
}
