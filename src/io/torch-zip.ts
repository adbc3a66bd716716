// PyTorch's zip serialisation (torch.save from 1.6 on): a zip archive whose entries sit under one directory
// named after the file, `<dir>/data.pkl` (the object, whose storages are persistent ids
// ('storage', storage_type, key, location, numel)) and `<dir>/data/<key>` (each storage's raw bytes,
// little-endian, stored uncompressed), plus `<dir>/version` and, from PyTorch 2.1, `<dir>/byteorder`.
import { unpickle } from './pickle.js';
import { ZipArchive } from './zip.js';
import { ELEMENT_BYTES, storageFromPersistentId, type TorchStorage } from './torch-tensor.js';
import type { RawCheckpoint } from './torch-legacy.js';

export function readZipCheckpoint(bytes: Uint8Array, source: string): RawCheckpoint {
  const archive = new ZipArchive(bytes, source);
  const pickles = [...archive.entries.keys()].filter((name) => /^[^/]+\/data\.pkl$/.test(name));
  if (pickles.length !== 1) throw new Error(`${source}: a zip file but not a PyTorch checkpoint (expected one <dir>/data.pkl, found ${pickles.length})`);
  const prefix = pickles[0].slice(0, -'data.pkl'.length);
  const byteorder = archive.entries.has(`${prefix}byteorder`) ? new TextDecoder().decode(archive.read(`${prefix}byteorder`)).trim() : 'little';
  if (byteorder !== 'little') throw new Error(`${source}: saved with byte order '${byteorder}'; only little-endian files are read`);

  const storages = new Map<string, TorchStorage>();
  const pickle = archive.read(pickles[0]);
  const { value, end } = unpickle(pickle, 0, {
    source: `${source} (${pickles[0]})`,
    persistentLoad: (pid) => storageFromPersistentId(pid, storages, source),
  });
  if (end !== pickle.length) throw new Error(`${source}: ${pickles[0]} has ${pickle.length - end} bytes after its end`);
  for (const storage of storages.values()) {
    const entry = `${prefix}data/${storage.key}`;
    if (!archive.entries.has(entry)) throw new Error(`${source}: storage '${storage.key}' has no entry ${entry}`);
    const expected = storage.numel * ELEMENT_BYTES[storage.dtype];
    const declared = archive.entries.get(entry)!.size;
    // Checked before reading, so a deflated entry is never inflated beyond what its storage needs.
    if (declared !== expected) throw new Error(`${source}: ${entry} holds ${declared} bytes but storage '${storage.key}' needs ${expected}`);
    storage.bytes = archive.read(entry);
  }
  return { root: value, storages };
}
