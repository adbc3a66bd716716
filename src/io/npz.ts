// NumPy's .npz archives of numeric arrays (np.savez), read without Python: a zip (io/zip.ts) of .npy files,
// each a magic string, a version, a header that is a Python dict literal ({'descr': '<f4', 'fortran_order':
// False, 'shape': (257,), }) and the raw little-endian data. Only plain numeric dtypes are read: object arrays
// hold pickles, which are refused (as np.load does without allow_pickle). Used for the reference's spectrogram
// statistics (datasets/assets/audio-spectDB-24k-*-norm-stats.npz).
import { readFileSync } from 'node:fs';
import { ZipArchive } from './zip.js';

export interface NpyArray {
  /** NumPy's dtype string, e.g. '<f4'. */
  descr: string;
  shape: number[];
  /** The values in C order, widened to float64. */
  data: Float64Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** Bytes per element and a reader, for the little-endian (or byte-order-free) numeric dtypes. */
const DTYPES: Record<string, { size: number; read(view: DataView, at: number): number }> = {
  '<f8': { size: 8, read: (v, at) => v.getFloat64(at, true) },
  '<f4': { size: 4, read: (v, at) => v.getFloat32(at, true) },
  '<i8': { size: 8, read: (v, at) => Number(v.getBigInt64(at, true)) },
  '<i4': { size: 4, read: (v, at) => v.getInt32(at, true) },
  '<i2': { size: 2, read: (v, at) => v.getInt16(at, true) },
  '|i1': { size: 1, read: (v, at) => v.getInt8(at) },
  '|u1': { size: 1, read: (v, at) => v.getUint8(at) },
};

/** Parses one .npy file; `source` names it in errors. */
export function parseNpy(bytes: Uint8Array, source: string): NpyArray {
  const fail = (why: string): never => {
    throw new Error(`${source}: not a readable .npy array: ${why}`);
  };
  if (bytes.length < 10 || !MAGIC.every((b, i) => bytes[i] === b)) fail('no \\x93NUMPY magic');
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLength: number;
  let headerStart: number;
  if (major === 1) [headerLength, headerStart] = [view.getUint16(8, true), 10];
  else if (major === 2 || major === 3) {
    if (bytes.length < 12) fail('truncated header');
    [headerLength, headerStart] = [view.getUint32(8, true), 12];
  } else return fail(`format version ${major} (1 to 3 are known)`);
  if (headerStart + headerLength > bytes.length) fail(`the header (${headerLength} bytes) runs past the file`);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(headerStart, headerStart + headerLength));
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) return fail(`header ${JSON.stringify(header.trim())} lacks descr, fortran_order or shape`);
  const dtype = DTYPES[descr.replace(/^=/, '<')]; // '=' (native order): little-endian on every machine avid runs on
  if (!dtype) return fail(`dtype '${descr}' is not a plain little-endian number${descr.includes('O') ? ' (object arrays hold pickles, which are not read)' : ''}`);
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => (/^\d+$/.test(s) ? Number(s) : fail(`shape entry '${s}'`)));
  const count = shape.reduce((a, b) => a * b, 1);
  const dataStart = headerStart + headerLength;
  if (!Number.isSafeInteger(count) || dataStart + count * dtype.size !== bytes.length) {
    fail(`shape (${shape.join(', ')}) of ${descr} needs ${count * dtype.size} bytes of data, the file has ${bytes.length - dataStart}`);
  }
  if (fortran === 'True' && shape.length > 1) fail('Fortran-ordered arrays of more than one dimension are not read');
  const data = new Float64Array(count);
  for (let i = 0; i < count; i++) data[i] = dtype.read(view, dataStart + i * dtype.size);
  return { descr, shape, data };
}

/** The arrays of an .npz file by name (np.savez's keywords, without the .npy suffix). */
export function readNpz(file: string): Map<string, NpyArray> {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    throw new Error(`cannot read ${file}: ${(error as Error).message}`);
  }
  if (!ZipArchive.looksLikeZip(bytes)) throw new Error(`${file}: not an .npz archive (no zip header)`);
  const archive = new ZipArchive(bytes, file);
  const arrays = new Map<string, NpyArray>();
  for (const name of archive.entries.keys()) {
    if (!name.endsWith('.npy')) continue;
    arrays.set(name.slice(0, -'.npy'.length), parseNpy(archive.read(name), `${file}:${name}`));
  }
  return arrays;
}
