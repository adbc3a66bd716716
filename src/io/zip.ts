// A small reader of zip archives held in memory: the central directory (with the zip64 extensions that large
// archives need) and each entry's bytes, stored or deflated. Enough for PyTorch's zip checkpoints, whose
// entries are stored uncompressed; no dependency. Every offset and size read from the archive is checked
// against the archive's length before it is used, so a hostile archive cannot read out of range, and a
// deflated entry cannot inflate past the size its directory entry declares.
import { inflateRawSync } from 'node:zlib';

export interface ZipEntry {
  name: string;
  /** 0 = stored, 8 = deflated. */
  method: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const MAX_COMMENT = 0xffff;

export class ZipArchive {
  readonly entries = new Map<string, ZipEntry>();
  private readonly view: DataView;

  constructor(
    readonly bytes: Uint8Array,
    readonly source: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.readDirectory();
  }

  /** True when the bytes start like a zip archive (a local file header). */
  static looksLikeZip(bytes: Uint8Array): boolean {
    return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
  }

  private fail(message: string): never {
    throw new Error(`${this.source}: not a readable zip archive: ${message}`);
  }

  private check(offset: number, length: number, what: string): void {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > this.bytes.length) {
      this.fail(`${what} (bytes ${offset}..${offset + length}) lies outside the file (${this.bytes.length} bytes)`);
    }
  }

  private u16(at: number): number {
    this.check(at, 2, 'a field');
    return this.view.getUint16(at, true);
  }

  private u32(at: number): number {
    this.check(at, 4, 'a field');
    return this.view.getUint32(at, true);
  }

  private u64(at: number): number {
    this.check(at, 8, 'a field');
    const v = this.view.getBigUint64(at, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`a 64-bit size or offset (${v}) is out of range`);
    return Number(v);
  }

  private findEndOfCentralDirectory(): number {
    const earliest = Math.max(0, this.bytes.length - 22 - MAX_COMMENT);
    for (let at = this.bytes.length - 22; at >= earliest; at--) if (this.view.getUint32(at, true) === EOCD) return at;
    return this.fail('no end-of-central-directory record');
  }

  private readDirectory(): void {
    if (this.bytes.length < 22) this.fail('too short');
    const eocd = this.findEndOfCentralDirectory();
    let count = this.u16(eocd + 10);
    let directorySize = this.u32(eocd + 12);
    let directoryOffset = this.u32(eocd + 16);
    if (count === 0xffff || directorySize === 0xffffffff || directoryOffset === 0xffffffff) {
      const locator = eocd - 20;
      if (locator < 0 || this.u32(locator) !== ZIP64_LOCATOR) this.fail('a zip64 archive without its zip64 locator');
      const record = this.u64(locator + 8);
      if (this.u32(record) !== ZIP64_EOCD) this.fail('the zip64 end-of-central-directory record is missing');
      count = this.u64(record + 32);
      directorySize = this.u64(record + 40);
      directoryOffset = this.u64(record + 48);
    }
    this.check(directoryOffset, directorySize, 'the central directory');
    // Each central entry takes at least 46 bytes: a count beyond that is a lie.
    if (count * 46 > directorySize) this.fail(`the directory claims ${count} entries in ${directorySize} bytes`);
    let at = directoryOffset;
    for (let i = 0; i < count; i++) {
      if (this.u32(at) !== CENTRAL) this.fail(`central directory entry ${i} has a bad signature`);
      const method = this.u16(at + 10);
      let compressedSize = this.u32(at + 20);
      let size = this.u32(at + 24);
      const nameLength = this.u16(at + 28);
      const extraLength = this.u16(at + 30);
      const commentLength = this.u16(at + 32);
      let localHeaderOffset = this.u32(at + 42);
      this.check(at + 46, nameLength + extraLength + commentLength, `entry ${i}'s name and extra fields`);
      const name = new TextDecoder('utf-8').decode(this.bytes.subarray(at + 46, at + 46 + nameLength));
      // Zip64 extended information: the 64-bit values of the fields that hold 0xFFFFFFFF, in this order.
      let extra = at + 46 + nameLength;
      const extraEnd = extra + extraLength;
      while (extra + 4 <= extraEnd) {
        const id = this.u16(extra);
        const length = this.u16(extra + 2);
        if (extra + 4 + length > extraEnd) this.fail(`entry '${name}' has a malformed extra field`);
        if (id === 0x0001) {
          let field = extra + 4;
          const next = (): number => {
            if (field + 8 > extra + 4 + length) this.fail(`entry '${name}' has a short zip64 extra field`);
            const v = this.u64(field);
            field += 8;
            return v;
          };
          if (size === 0xffffffff) size = next();
          if (compressedSize === 0xffffffff) compressedSize = next();
          if (localHeaderOffset === 0xffffffff) localHeaderOffset = next();
        }
        extra += 4 + length;
      }
      if (this.entries.has(name)) this.fail(`entry '${name}' appears twice`);
      this.entries.set(name, { name, method, compressedSize, size, localHeaderOffset });
      at = extraEnd + commentLength;
    }
  }

  /** The bytes of entry `name` (a view into the archive when stored). */
  read(name: string): Uint8Array {
    const entry = this.entries.get(name);
    if (!entry) throw new Error(`${this.source}: the archive has no entry '${name}'`);
    const at = entry.localHeaderOffset;
    if (this.u32(at) !== LOCAL) this.fail(`entry '${name}' has a bad local header`);
    const start = at + 30 + this.u16(at + 26) + this.u16(at + 28);
    this.check(start, entry.compressedSize, `entry '${name}'`);
    const raw = this.bytes.subarray(start, start + entry.compressedSize);
    if (entry.method === 0) {
      if (entry.compressedSize !== entry.size) this.fail(`stored entry '${name}' has different stored and declared sizes`);
      return raw;
    }
    if (entry.method === 8) {
      let out: Buffer;
      try {
        out = inflateRawSync(raw, { maxOutputLength: Math.max(1, entry.size) });
      } catch (error) {
        return this.fail(`entry '${name}' does not inflate to its declared ${entry.size} bytes (${(error as Error).message})`);
      }
      if (out.length !== entry.size) this.fail(`entry '${name}' inflates to ${out.length} bytes, not the declared ${entry.size}`);
      return out;
    }
    return this.fail(`entry '${name}' uses compression method ${entry.method} (only stored and deflated entries are read)`);
  }
}
