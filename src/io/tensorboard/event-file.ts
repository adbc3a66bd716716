// TensorBoard event files written by hand: TFRecord framing around protocol-buffer Event messages, following
// tensorflow/core/util/event.proto and tensorflow/core/framework/summary.proto:
//   Event   { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
//   Summary { repeated Value value = 1; }   Value { string tag = 1; float simple_value = 2; }
//   record  = uint64 length (LE) · uint32 masked_crc32c(length) · data · uint32 masked_crc32c(data)
// The first event of a file carries file_version "brain.Event:2". Records are appended synchronously, like
// metrics.jsonl, so a crash loses at most the record being written (TensorBoard skips a torn tail).
import { appendFileSync, mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { maskedCrc32c } from './crc32c.js';
import { ProtoWriter } from './protobuf-writer.js';

export const EVENT_FILE_VERSION = 'brain.Event:2';

/** One TFRecord: the framing TensorBoard's reader checks, CRCs included. */
export function tfRecord(data: Uint8Array): Buffer {
  const header = Buffer.alloc(12);
  header.writeBigUInt64LE(BigInt(data.length), 0);
  header.writeUInt32LE(maskedCrc32c(header.subarray(0, 8)), 8);
  const footer = Buffer.alloc(4);
  footer.writeUInt32LE(maskedCrc32c(data), 0);
  return Buffer.concat([header, data, footer]);
}

/** An Event holding scalar summaries (tag → value) at `step`. */
export function scalarEvent(wallTime: number, step: number, scalars: Record<string, number>): Uint8Array {
  const summary = new ProtoWriter();
  for (const [tag, value] of Object.entries(scalars)) summary.message(1, new ProtoWriter().string(1, tag).float(2, value));
  return new ProtoWriter().double(1, wallTime).varint(2, step).message(5, summary).finish();
}

export function fileVersionEvent(wallTime: number): Uint8Array {
  return new ProtoWriter().double(1, wallTime).string(3, EVENT_FILE_VERSION).finish();
}

/** Appends scalar events to one new events.out.tfevents.<seconds>.<host> file in `logDir`. */
export class EventFileWriter {
  readonly path: string;

  /** `suffix` ends the file name (default: the process id), so that a writer can find its own files again. */
  constructor(logDir: string, wallTime: number = Date.now() / 1000, suffix: string = String(process.pid)) {
    mkdirSync(logDir, { recursive: true });
    // TensorBoard finds files by the "tfevents" in their name; host and suffix keep two writers' files apart.
    this.path = path.join(logDir, `events.out.tfevents.${Math.floor(wallTime)}.${hostname().replace(/[^A-Za-z0-9._-]/g, '_')}.${suffix}`);
    appendFileSync(this.path, tfRecord(fileVersionEvent(wallTime)));
  }

  /** Writes the finite numbers of `scalars` as one event; non-finite ones are left out (TensorBoard cannot plot them). */
  scalars(step: number, scalars: Record<string, number>, wallTime: number = Date.now() / 1000): void {
    const finite = Object.fromEntries(Object.entries(scalars).filter(([, v]) => Number.isFinite(v)));
    if (Object.keys(finite).length === 0) return;
    appendFileSync(this.path, tfRecord(scalarEvent(wallTime, step, finite)));
  }
}
