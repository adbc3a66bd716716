// The safetensors format (https://github.com/huggingface/safetensors), read and written exactly as its spec
// says, so that files move both ways between avid and Python:
//
//   [8 bytes: N, unsigned little-endian] [N bytes: UTF-8 JSON header, padded with spaces] [data buffer]
//
// The header maps each tensor name to { dtype, shape, data_offsets: [begin, end] } (offsets relative to the
// start of the data buffer) and may hold "__metadata__": a string → string map. The tensors must cover the
// data buffer exactly: no gaps, no overlaps, no trailing bytes. All data is little-endian, row-major.
//
// Why not pickle: loading a safetensors file runs no code, and PyTorch reads it with a few lines of Python.
import { openSync, fstatSync, readSync, closeSync, constants } from 'node:fs';
import { endianness } from 'node:os';
import * as T from '../tensor/index.js';
import { writeFileAtomic } from './atomic.js';

/** The dtype names of the safetensors spec that avid reads and writes. */
export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

const toAvidDtype: Record<SafetensorsDtype, T.DType> = {
  F64: 'float64',
  F32: 'float32',
  F16: 'float16',
  BF16: 'bfloat16',
  I64: 'int64',
  I32: 'int32',
  I16: 'int16',
  I8: 'int8',
  U8: 'uint8',
  BOOL: 'bool',
};
const toSafetensorsDtype = Object.fromEntries(Object.entries(toAvidDtype).map(([s, a]) => [a, s])) as Partial<Record<T.DType, SafetensorsDtype>>;
const bytesPer: Record<SafetensorsDtype, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

/** Dtypes of the spec that libtorch 1.13 has no type for; named in the error so the reader knows why. */
const knownButUnsupported = new Set(['U16', 'U32', 'U64', 'F8_E4M3', 'F8_E5M2', 'F8_E8M0', 'F4', 'F6_E2M3', 'F6_E3M2', 'C64']);

/** The spec's cap on the header size (a guard against reading a hostile length). */
const MAX_HEADER_BYTES = 100_000_000;
const METADATA_KEY = '__metadata__';

if (endianness() !== 'LE') {
  // Typed arrays use the platform's byte order and safetensors is little-endian; no supported platform is not.
  throw new Error('avid safetensors support needs a little-endian platform');
}

export type NamedTensors = Record<string, T.Tensor> | Map<string, T.Tensor> | readonly (readonly [string, T.Tensor])[];

/** One tensor's description from a header, validated. */
export interface SafetensorsEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** Byte range inside the data buffer (end exclusive). */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  /** In data-buffer order (the order the writer gave them). */
  entries: SafetensorsEntry[];
  metadata: Record<string, string>;
  /** Where the data buffer starts in the file: 8 + header length. */
  dataStart: number;
}

export interface LoadedSafetensors {
  tensors: Map<string, T.Tensor>;
  metadata: Record<string, string>;
}

// ---- writing ----------------------------------------------------------------------------------------------

/**
 * Writes `tensors` (in the order given) and optional string metadata to `file`, atomically: a temporary file
 * in the same directory, fsync, rename, fsync of the directory.
 */
export function saveSafetensors(file: string, tensors: NamedTensors, metadata?: Record<string, string>): void {
  const chunks = encodeChunks(tensors, metadata, file);
  writeFileAtomic(file, chunks);
}

/** The bytes of a safetensors file holding `tensors` (in the order given) and optional metadata. */
export function encodeSafetensors(tensors: NamedTensors, metadata?: Record<string, string>): Buffer {
  return Buffer.concat(encodeChunks(tensors, metadata, '<buffer>'));
}

function entriesOf(tensors: NamedTensors): (readonly [string, T.Tensor])[] {
  if (tensors instanceof Map) return [...tensors.entries()];
  if (Array.isArray(tensors)) return [...(tensors as readonly (readonly [string, T.Tensor])[])];
  return Object.entries(tensors as Record<string, T.Tensor>);
}

function encodeChunks(tensors: NamedTensors, metadata: Record<string, string> | undefined, target: string): Uint8Array[] {
  const named = entriesOf(tensors);
  const seen = new Set<string>();
  // The header is assembled by hand, not by JSON.stringify of an object, because objects move integer-like
  // keys ("0", "12") to the front and the spec's order is the order given.
  const headerParts: string[] = [];
  if (metadata !== undefined) headerParts.push(`${JSON.stringify(METADATA_KEY)}:${JSON.stringify(checkMetadata(metadata, target))}`);
  const dataChunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, tensor] of named) {
    if (typeof name !== 'string') throw new Error(`${target}: tensor names must be strings, got ${typeof name}`);
    if (name === METADATA_KEY) throw new Error(`${target}: '${METADATA_KEY}' is reserved and cannot name a tensor`);
    if (seen.has(name)) throw new Error(`${target}: tensor '${name}' is given twice`);
    seen.add(name);
    if (!(tensor instanceof T.Tensor)) throw new Error(`${target}: '${name}' is not a Tensor`);
    if (tensor.isDisposed) throw new Error(`${target}: tensor '${name}' was disposed`);
    const dtype = toSafetensorsDtype[tensor.dtype];
    if (dtype === undefined) {
      throw new Error(`${target}: tensor '${name}' has dtype ${tensor.dtype}, which safetensors cannot hold (convert it first)`);
    }
    const bytes = tensorBytes(tensor, dtype);
    const header = { dtype, shape: tensor.shape, data_offsets: [offset, offset + bytes.byteLength] };
    headerParts.push(`${JSON.stringify(name)}:${JSON.stringify(header)}`);
    dataChunks.push(bytes);
    offset += bytes.byteLength;
  }
  let json = Buffer.from(`{${headerParts.join(',')}}`, 'utf8');
  // Padding with spaces to a multiple of 8 keeps the data buffer 8-byte aligned in the file.
  const padded = Math.ceil(json.byteLength / 8) * 8;
  if (padded !== json.byteLength) json = Buffer.concat([json, Buffer.alloc(padded - json.byteLength, 0x20)]);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.byteLength));
  return [length, json, ...dataChunks];
}

function checkMetadata(metadata: Record<string, string>, target: string): Record<string, string> {
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) {
    throw new Error(`${target}: metadata must be an object of strings`);
  }
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== 'string') throw new Error(`${target}: metadata '${key}' must be a string, got ${typeof value}`);
  }
  return metadata;
}

/** The tensor's little-endian, row-major bytes as the spec stores `dtype`. */
function tensorBytes(tensor: T.Tensor, dtype: SafetensorsDtype): Uint8Array {
  if (dtype === 'F16' || dtype === 'BF16') {
    // Half types cannot be read back directly; float32 holds every half value exactly, so converting there
    // and back to the 16-bit pattern here loses nothing.
    const wide = tensor.toFloat32Array();
    const bits = dtype === 'F16' ? float32ToFloat16Bits(wide) : float32ToBfloat16Bits(wide);
    return new Uint8Array(bits.buffer, bits.byteOffset, bits.byteLength);
  }
  const data = tensor.data();
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

// ---- reading ----------------------------------------------------------------------------------------------

/**
 * Reads a safetensors file. The tensors are new CPU tensors owned by the caller (or the enclosing tidy).
 * The file is read piecewise (header, then each tensor into its own buffer), so files over 2 GiB load and
 * the whole file is never held twice.
 */
export function loadSafetensors(file: string): LoadedSafetensors {
  const reader = openSafetensors(file);
  try {
    const tensors = new Map<string, T.Tensor>();
    try {
      for (const entry of reader.header.entries) tensors.set(entry.name, reader.read(entry.name));
    } catch (error) {
      for (const t of tensors.values()) t.dispose();
      throw error;
    }
    return { tensors, metadata: reader.header.metadata };
  } finally {
    reader.close();
  }
}

/** An open safetensors file: its validated header, and tensors read one at a time by positioned reads. */
export interface SafetensorsReader {
  readonly file: string;
  readonly header: SafetensorsHeader;
  /** Reads one tensor (a new CPU tensor owned by the caller). */
  read(name: string): T.Tensor;
  close(): void;
}

/** Largest single read: fs.readSync takes at most 2 GiB - 1 bytes per call. */
const READ_CHUNK_BYTES = 1 << 30;

/**
 * Opens a safetensors file and validates its header without reading the tensors. Only regular files are
 * accepted: a FIFO would block forever and a device such as /dev/zero never ends.
 */
export function openSafetensors(file: string): SafetensorsReader {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO with no writer would otherwise hang before fstat could refuse it.
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw new Error(`cannot read safetensors file ${file}: ${(error as Error).message}`, { cause: error });
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) {
      const kind = stat.isFIFO() ? 'a FIFO' : stat.isCharacterDevice() ? 'a character device' : stat.isBlockDevice() ? 'a block device' : stat.isSocket() ? 'a socket' : stat.isDirectory() ? 'a directory' : 'not a file';
      throw new Error(`cannot read safetensors file ${file}: it is ${kind}, not a regular file`);
    }
    const size = stat.size;
    const prefix = readAt(fd, 0, Math.min(size, 8), file);
    let headerBytes = prefix;
    if (size >= 8) {
      const declared = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
      // Bounds are checked by the parser; only read what a valid header could span.
      if (declared <= BigInt(Math.min(size - 8, MAX_HEADER_BYTES))) headerBytes = readAt(fd, 0, 8 + Number(declared), file);
    }
    const header = parseSafetensorsHeader(headerBytes, file, size);
    const byName = new Map(header.entries.map((e) => [e.name, e]));
    let open = true;
    return {
      file,
      header,
      read(name: string): T.Tensor {
        if (!open) throw new Error(`${file}: reader is closed`);
        const entry = byName.get(name);
        if (!entry) throw new Error(`${file}: no tensor named '${name}'`);
        const bytes = readAt(fd, header.dataStart + entry.begin, entry.end - entry.begin, file);
        try {
          return tensorFromBytes(bytes, 0, entry);
        } catch (error) {
          throw new Error(`${file}: tensor '${name}' could not be created: ${(error as Error).message}`, { cause: error });
        }
      },
      close(): void {
        if (open) closeSync(fd);
        open = false;
      },
    };
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

/** `length` bytes from `position`, in chunks; a short file is an error naming it. */
function readAt(fd: number, position: number, length: number, file: string): Uint8Array {
  // 8-byte aligned storage so that typed-array views of any dtype fit without a copy.
  const bytes = new Uint8Array(new ArrayBuffer(Math.ceil(length / 8) * 8), 0, length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, bytes, done, Math.min(READ_CHUNK_BYTES, length - done), position + done);
    if (n === 0) throw new Error(`${file}: file ended at byte ${position + done} while ${length - done} more bytes were expected (truncated while reading?)`);
    done += n;
  }
  return bytes;
}

/** Decodes the bytes of a safetensors file; `source` names it in errors. */
export function decodeSafetensors(bytes: Uint8Array, source = '<buffer>'): LoadedSafetensors {
  const header = parseSafetensorsHeader(bytes, source);
  const tensors = new Map<string, T.Tensor>();
  try {
    for (const entry of header.entries) {
      const begin = header.dataStart + entry.begin;
      tensors.set(entry.name, tensorFromBytes(bytes, begin, entry));
    }
  } catch (error) {
    for (const t of tensors.values()) t.dispose();
    throw new Error(`${source}: tensor could not be created: ${(error as Error).message}`, { cause: error });
  }
  return { tensors, metadata: header.metadata };
}

/**
 * Parses and validates the header of a safetensors file (no tensors are made): the header length lies within
 * the file, the JSON parses, every dtype is known, shapes and offsets are well formed, each tensor's byte length
 * is its element count times its dtype size, and the tensors tile the data buffer with no gap or overlap.
 */
export function parseSafetensorsHeader(bytes: Uint8Array, source = '<buffer>', fileSize = bytes.byteLength): SafetensorsHeader {
  const fail = (message: string): never => {
    throw new Error(`${source}: invalid safetensors file: ${message}`);
  };
  // `bytes` may be the whole file or only its beginning (8 bytes + header) when the file is read piecewise.
  if (fileSize < 8 || bytes.byteLength < 8) fail(`${fileSize} bytes is too short to hold the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const declared = view.getBigUint64(0, true);
  if (declared > BigInt(fileSize - 8)) {
    fail(`header length ${declared} runs past the end of the file (${fileSize} bytes; truncated or not safetensors)`);
  }
  const headerLength = Number(declared);
  if (headerLength > MAX_HEADER_BYTES) fail(`header length ${headerLength} exceeds the spec's limit of ${MAX_HEADER_BYTES} bytes`);
  if (headerLength < 2) fail(`header length ${headerLength} is too small for a JSON object`);
  const dataStart = 8 + headerLength;
  if (bytes.byteLength < dataStart) fail(`only ${bytes.byteLength} bytes given for a header that ends at byte ${dataStart}`);
  const dataLength = fileSize - dataStart;

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, dataStart));
  } catch {
    return fail('header is not valid UTF-8');
  }
  if (!text.startsWith('{')) fail(`header does not start with '{' (starts with ${JSON.stringify(text.slice(0, 16))})`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return fail(`header is not valid JSON: ${(error as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) fail('header is not a JSON object');

  let metadata: Record<string, string> = {};
  const entries: SafetensorsEntry[] = [];
  for (const [name, value] of Object.entries(parsed as Record<string, unknown>)) {
    if (name === METADATA_KEY) {
      metadata = parseMetadata(value, fail);
      continue;
    }
    entries.push(parseEntry(name, value, dataLength, fail));
  }

  // Sorting by (begin, end) puts empty tensors before the tensor that starts where they sit.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  for (const entry of entries) {
    if (entry.begin < covered) fail(`tensor '${entry.name}' (bytes ${entry.begin}..${entry.end}) overlaps the tensor before it (which ends at ${covered})`);
    if (entry.begin > covered) fail(`gap in the data buffer: bytes ${covered}..${entry.begin} belong to no tensor (next is '${entry.name}')`);
    covered = entry.end;
  }
  if (covered !== dataLength) fail(`the data buffer has ${dataLength} bytes but the tensors cover ${covered} (trailing bytes or truncated file)`);
  return { entries, metadata, dataStart };
}

function parseMetadata(value: unknown, fail: (message: string) => never): Record<string, string> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return fail(`'${METADATA_KEY}' must be an object of strings`);
  const metadata: Record<string, string> = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v !== 'string') fail(`'${METADATA_KEY}' entry '${key}' must be a string, got ${JSON.stringify(v)}`);
    metadata[key] = v as string;
  }
  return metadata;
}

function parseEntry(name: string, value: unknown, dataLength: number, fail: (message: string) => never): SafetensorsEntry {
  const where = `tensor '${name}'`;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return fail(`${where}: expected an object with dtype, shape and data_offsets`);
  const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
  if (typeof dtype !== 'string') return fail(`${where}: dtype is missing or not a string`);
  if (!(dtype in bytesPer)) {
    if (knownButUnsupported.has(dtype)) return fail(`${where}: dtype ${dtype} has no libtorch 1.13 equivalent and cannot be loaded`);
    return fail(`${where}: unknown dtype ${JSON.stringify(dtype)} (known: ${Object.keys(bytesPer).join(', ')})`);
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    return fail(`${where}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
    return fail(`${where}: data_offsets must be [begin, end] with non-negative integers, got ${JSON.stringify(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) fail(`${where}: data_offsets [${begin}, ${end}] end before they begin`);
  if (end > dataLength) fail(`${where}: data_offsets [${begin}, ${end}] run past the data buffer (${dataLength} bytes; truncated file?)`);
  const numel = (shape as number[]).reduce((a, b) => a * b, 1);
  const expected = numel * bytesPer[dtype as SafetensorsDtype];
  if (end - begin !== expected) {
    fail(`${where}: shape [${(shape as number[]).join(', ')}] of ${dtype} needs ${expected} bytes but data_offsets [${begin}, ${end}] hold ${end - begin}`);
  }
  return { name, dtype: dtype as SafetensorsDtype, shape: shape as number[], begin, end };
}

function tensorFromBytes(bytes: Uint8Array, start: number, entry: SafetensorsEntry): T.Tensor {
  const length = entry.end - entry.begin;
  const size = bytesPer[entry.dtype];
  const count = length / size;
  // Typed-array views need aligned offsets; writers are free to misalign a tensor, so copy when they do.
  const absolute = bytes.byteOffset + start;
  const aligned = absolute % size === 0;
  // (A fresh Uint8Array, not bytes.slice: on a Node Buffer, slice is a view, not a copy.)
  const buffer = aligned ? bytes.buffer : new Uint8Array(bytes.subarray(start, start + length)).buffer;
  const offset = aligned ? absolute : 0;
  const dtype = toAvidDtype[entry.dtype];
  switch (entry.dtype) {
    case 'F64':
      return T.tensor(new Float64Array(buffer, offset, count), entry.shape);
    case 'F32':
      return T.tensor(new Float32Array(buffer, offset, count), entry.shape);
    case 'I64':
      return T.tensor(new BigInt64Array(buffer, offset, count), entry.shape);
    case 'I32':
      return T.tensor(new Int32Array(buffer, offset, count), entry.shape);
    case 'I16':
      return T.tensor(new Int16Array(buffer, offset, count), entry.shape);
    case 'I8':
      return T.tensor(new Int8Array(buffer, offset, count), entry.shape);
    case 'U8':
      return T.tensor(new Uint8Array(buffer, offset, count), entry.shape);
    case 'BOOL':
      return T.tensor(new Uint8Array(buffer, offset, count), entry.shape, 'bool');
    case 'F16':
      return T.tensor(float16BitsToFloat32(new Uint16Array(buffer, offset, count)), entry.shape, dtype);
    case 'BF16':
      return T.tensor(bfloat16BitsToFloat32(new Uint16Array(buffer, offset, count)), entry.shape, dtype);
  }
}

// ---- 16-bit floats ----------------------------------------------------------------------------------------
// libtorch cannot take or give 16-bit float data through the addon, so the bit patterns are converted here.
// Every float16 and bfloat16 value is exactly a float32, so the round trip through float32 is lossless.

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function float16BitsToFloat32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) {
    const h = bits[i];
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >> 10) & 0x1f;
    const mantissa = h & 0x3ff;
    if (exponent === 0) out[i] = sign * mantissa * 2 ** -24;
    else if (exponent === 0x1f) out[i] = mantissa ? NaN : sign * Infinity;
    else out[i] = sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
  }
  return out;
}

/** Round-to-nearest-even float32 → float16 bit patterns (exact for values that came from float16). */
export function float32ToFloat16Bits(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    f32[0] = values[i];
    const x = u32[0];
    const sign = (x >>> 16) & 0x8000;
    const exponent = (x >>> 23) & 0xff;
    let mantissa = x & 0x7fffff;
    if (exponent === 0xff) {
      out[i] = sign | 0x7c00 | (mantissa ? 0x200 : 0);
      continue;
    }
    const e = exponent - 127 + 15;
    if (e >= 0x1f) {
      out[i] = sign | 0x7c00;
    } else if (e <= 0) {
      if (e < -10) {
        out[i] = sign;
        continue;
      }
      mantissa |= 0x800000;
      const shift = 14 - e;
      let half = mantissa >>> shift;
      const remainder = mantissa & ((1 << shift) - 1);
      const halfway = 1 << (shift - 1);
      if (remainder > halfway || (remainder === halfway && half & 1)) half++;
      out[i] = sign | half;
    } else {
      let half = (e << 10) | (mantissa >>> 13);
      const remainder = mantissa & 0x1fff;
      if (remainder > 0x1000 || (remainder === 0x1000 && half & 1)) half++;
      out[i] = sign | half;
    }
  }
  return out;
}

export function bfloat16BitsToFloat32(bits: Uint16Array): Float32Array {
  const wide = new Uint32Array(bits.length);
  for (let i = 0; i < bits.length; i++) wide[i] = bits[i] << 16;
  return new Float32Array(wide.buffer);
}

/** Round-to-nearest-even float32 → bfloat16 bit patterns (exact for values that came from bfloat16). */
export function float32ToBfloat16Bits(values: Float32Array): Uint16Array {
  const words = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const x = words[i];
    if ((x & 0x7f800000) === 0x7f800000 && x & 0x7fffff) {
      out[i] = (x >>> 16) | 0x40; // keep NaN a NaN
      continue;
    }
    out[i] = (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
  }
  return out;
}
