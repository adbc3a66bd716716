import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as T from '../../src/tensor/index.js';
import {
  saveSafetensors,
  loadSafetensors,
  encodeSafetensors,
  decodeSafetensors,
  parseSafetensorsHeader,
  float32ToFloat16Bits,
  float16BitsToFloat32,
  float32ToBfloat16Bits,
  bfloat16BitsToFloat32,
} from '../../src/io/safetensors.js';
import { runPythonJson, pythonTorchSkipReason } from '../helpers/python.js';

const pythonSkip = pythonTorchSkipReason();

/** Values as comparable strings: exact for int64 (BigInt), distinguishes -0 and NaN. */
function valueStrings(t: T.Tensor): string[] {
  const numbers = t.dtype === 'float16' || t.dtype === 'bfloat16' ? t.toFloat32Array() : t.data();
  return Array.from(numbers as ArrayLike<number | bigint>, normalise);
}
function normalise(v: number | bigint): string {
  if (typeof v === 'bigint') return v.toString();
  if (Number.isNaN(v)) return 'nan';
  if (Object.is(v, -0)) return '-0';
  return String(v);
}
/** Python's repr of a float or str of an int, as `normalise` writes it. */
function fromPython(s: string): string {
  if (s === 'inf') return 'Infinity';
  if (s === '-inf') return '-Infinity';
  if (s === 'nan') return 'nan';
  if (/^-?\d+$/.test(s)) return BigInt(s).toString();
  return normalise(Number(s));
}

/** One tensor of every dtype, with awkward values, a scalar, empty tensors and awkward names. */
function sampleTensors(): [string, T.Tensor][] {
  return [
    ['f64', T.tensor(new Float64Array([0, -1.5, 1e300, -Infinity, NaN, 5e-324, Math.PI]), [7])],
    ['f32', T.tensor(new Float32Array([1.25, -3.5, 3.4e38, 1e-45, Infinity, -0]), [2, 3])],
    ['f16', T.tensor(new Float32Array([1, -2.5, 65504, 6e-8, 0.1, Infinity, NaN, -0]), [2, 2, 2], 'float16')],
    ['bf16', T.tensor(new Float32Array([1, -2.5, 3e38, 0.1, 1e-40]), [5], 'bfloat16')],
    ['i64', T.tensor(new BigInt64Array([0n, -1n, 2n ** 62n, -(2n ** 63n), 2n ** 63n - 1n]), [5])],
    ['i32', T.tensor(new Int32Array([-2147483648, 2147483647, 0, 7]), [2, 2])],
    ['i16', T.tensor(new Int16Array([-32768, 32767, 1]), [3])],
    ['i8', T.tensor(new Int8Array([-128, 127, 0]), [3, 1])],
    ['u8', T.tensor(new Uint8Array([0, 255, 17]), [3])],
    ['mask', T.tensor(new Uint8Array([1, 0, 1, 1]), [4], 'bool')],
    ['bn.num_batches_tracked', T.tensor(new BigInt64Array([42n]), [])],
    ['scalar_f32', T.tensor(new Float32Array([-7.5]), [])],
    ['empty_f32', T.zeros([0, 3])],
    ['empty_i64', T.zeros([2, 0], { dtype: 'int64' })],
    ['0', T.arange(6, undefined, 1, { dtype: 'float32' }).reshape([2, 3]).transpose(0, 1)],
    ['ünïcødé.weight', T.tensor(new Float32Array([3]), [1])],
  ];
}

function assertSameTensors(actual: Map<string, T.Tensor>, expected: [string, T.Tensor][]): void {
  assert.deepEqual([...actual.keys()], expected.map(([n]) => n), 'names in the order written');
  for (const [name, want] of expected) {
    const got = actual.get(name)!;
    assert.equal(got.dtype, want.dtype, `${name} dtype`);
    assert.deepEqual(got.shape, want.shape, `${name} shape`);
    assert.deepEqual(valueStrings(got), valueStrings(want), `${name} values`);
  }
}

test('encode/decode round trip of every dtype, scalars, empty tensors and metadata', () => {
  const before = T.memory().liveTensors;
  T.tidy(() => {
    const tensors = sampleTensors();
    const bytes = encodeSafetensors(tensors, { format: 'pt', note: 'ünï' });
    const headerLength = Number(bytes.readBigUInt64LE(0));
    assert.equal(headerLength % 8, 0, 'header padded to a multiple of 8');
    assert.equal(bytes[8], '{'.charCodeAt(0));
    const { tensors: loaded, metadata } = decodeSafetensors(bytes);
    assert.deepEqual(metadata, { format: 'pt', note: 'ünï' });
    assertSameTensors(loaded, tensors);
    // int64 scalars (num_batches_tracked) stay int64 scalars
    assert.equal(loaded.get('bn.num_batches_tracked')!.item(), 42);
  });
  assert.equal(T.memory().liveTensors, before, 'no tensor leaked');
});

test('the record, Map and array forms write the same bytes; no metadata means no __metadata__ key', () => {
  T.tidy(() => {
    const a = T.ones([2]);
    const b = T.zeros([3], { dtype: 'int32' });
    const fromRecord = encodeSafetensors({ a, b });
    assert.deepEqual(encodeSafetensors(new Map([['a', a], ['b', b]])), fromRecord);
    assert.deepEqual(encodeSafetensors([['a', a], ['b', b]]), fromRecord);
    const header = JSON.parse(fromRecord.subarray(8, 8 + Number(fromRecord.readBigUInt64LE(0))).toString());
    assert.deepEqual(header, {
      a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
      b: { dtype: 'I32', shape: [3], data_offsets: [8, 20] },
    });
    assert.equal(decodeSafetensors(fromRecord).metadata.format, undefined);
  });
});

test('writer rejects what safetensors cannot hold', () => {
  T.tidy(() => {
    const x = T.ones([2]);
    assert.throws(() => encodeSafetensors([['x', x], ['x', x]]), /'x' is given twice/);
    assert.throws(() => encodeSafetensors({ __metadata__: x }), /reserved/);
    assert.throws(() => encodeSafetensors({ x }, { n: 3 as unknown as string }), /metadata 'n' must be a string/);
    const complex = T.functional.stft(T.ones([64]), { nFft: 16 });
    assert.throws(() => encodeSafetensors({ spectrum: complex }), /'spectrum' has dtype complex64/);
    const gone = T.ones([1]);
    gone.dispose();
    assert.throws(() => encodeSafetensors({ gone }), /'gone' was disposed/);
  });
});

test('16-bit float conversions are exact on every bit pattern that is a number', () => {
  const all = new Uint16Array(65536).map((_, i) => i);
  for (const [toWide, toBits, name] of [
    [float16BitsToFloat32, float32ToFloat16Bits, 'float16'],
    [bfloat16BitsToFloat32, float32ToBfloat16Bits, 'bfloat16'],
  ] as const) {
    const wide = toWide(all);
    const back = toBits(wide);
    for (let i = 0; i < 65536; i++) {
      if (Number.isNaN(wide[i])) assert.ok(Number.isNaN(toWide(back.subarray(i, i + 1))[0]), `${name} NaN stays NaN`);
      else assert.equal(back[i], i, `${name} bits 0x${i.toString(16)}`);
    }
  }
  // and rounding of values between two halves goes to the nearest, ties to even (as libtorch does)
  const probe = new Float32Array([1 + 2 ** -11, 1 + 3 * 2 ** -11, 1 + 2 ** -11 + 2 ** -20, 65520, 2 ** -25, 2 ** -25 * 1.5]);
  const ours = float16BitsToFloat32(float32ToFloat16Bits(probe));
  const theirs = T.tidy(() => T.tensor(probe, [probe.length], 'float16').toFloat32Array());
  assert.deepEqual(Array.from(ours), Array.from(theirs));
  const ours16 = bfloat16BitsToFloat32(float32ToBfloat16Bits(probe));
  const theirs16 = T.tidy(() => T.tensor(probe, [probe.length], 'bfloat16').toFloat32Array());
  assert.deepEqual(Array.from(ours16), Array.from(theirs16));
});

test('saveSafetensors writes atomically and loadSafetensors reads it back', () => {
  const directory = mkdtempSync(path.join(tmpdir(), 'avid-st-'));
  try {
    const file = path.join(directory, 'sub', 'model.safetensors');
    T.tidy(() => {
      const tensors = sampleTensors();
      saveSafetensors(file, tensors, { epoch: '3' });
      saveSafetensors(file, tensors, { epoch: '4' }); // replacing an existing file
      const { tensors: loaded, metadata } = loadSafetensors(file);
      assert.deepEqual(metadata, { epoch: '4' });
      assertSameTensors(loaded, tensors);
    });
    assert.deepEqual(readdirSync(path.dirname(file)), ['model.safetensors'], 'no temporary file left behind');
    assert.throws(() => loadSafetensors(path.join(directory, 'missing.safetensors')), /cannot read safetensors file .*missing\.safetensors/);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});

/** A file from a header object and a data buffer, bypassing the writer's checks. */
function handMade(header: unknown, data = new Uint8Array(0), rawHeader?: string): Buffer {
  let json = Buffer.from(rawHeader ?? JSON.stringify(header));
  json = Buffer.concat([json, Buffer.alloc(-json.length & 7, 0x20)]);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([length, json, data]);
}

test('malformed files give errors that name the file, the key and the fault', () => {
  const before = T.memory().liveTensors;
  const good = T.tidy(() => encodeSafetensors({ weight: T.ones([2, 2]), bias: T.zeros([2]) }));
  const cases: [string, Uint8Array, RegExp][] = [
    ['empty file', new Uint8Array(0), /0 bytes is too short/],
    ['truncated inside the header', good.subarray(0, 20), /header length \d+ runs past the end of the file/],
    ['truncated data', good.subarray(0, good.length - 4), /'bias'.*run past the data buffer.*truncated/],
    ['trailing bytes', Buffer.concat([good, Buffer.alloc(4)]), /tensors cover 24 .*trailing bytes/],
    ['not JSON', handMade(null, undefined, '{"weight": [1, 2'), /header is not valid JSON/],
    ['JSON array', handMade(null, undefined, '[1, 2, 3]'), /does not start with '\{'/],
    ['not UTF-8', handMade(null, undefined, '{"ab": 1}').fill(0xff, 10, 11), /not valid UTF-8/],
    ['unknown dtype', handMade({ x: { dtype: 'F99', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4)), /tensor 'x': unknown dtype "F99"/],
    ['dtype libtorch lacks', handMade({ x: { dtype: 'U32', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4)), /tensor 'x': dtype U32 has no libtorch/],
    ['offsets out of range', handMade({ x: { dtype: 'F32', shape: [25], data_offsets: [0, 100] } }, new Uint8Array(8)), /tensor 'x': data_offsets \[0, 100\] run past the data buffer \(8 bytes/],
    ['shape disagrees with bytes', handMade({ x: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8)), /tensor 'x': shape \[3\] of F32 needs 12 bytes but data_offsets \[0, 8\] hold 8/],
    ['end before begin', handMade({ x: { dtype: 'U8', shape: [0], data_offsets: [4, 2] } }, new Uint8Array(4)), /tensor 'x': data_offsets \[4, 2\] end before they begin/],
    ['bad shape', handMade({ x: { dtype: 'U8', shape: [-1], data_offsets: [0, 1] } }, new Uint8Array(1)), /tensor 'x': shape must be an array of non-negative integers/],
    ['missing offsets', handMade({ x: { dtype: 'U8', shape: [1] } }, new Uint8Array(1)), /tensor 'x': data_offsets must be \[begin, end\]/],
    [
      'overlap',
      handMade({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, new Uint8Array(8)),
      /tensor 'b' \(bytes 4..8\) overlaps/,
    ],
    [
      'gap',
      handMade({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } }, new Uint8Array(12)),
      /gap in the data buffer: bytes 4..8 belong to no tensor \(next is 'b'\)/,
    ],
    ['metadata not strings', handMade({ __metadata__: { epoch: 3 } }), /'__metadata__' entry 'epoch' must be a string/],
  ];
  for (const [what, bytes, pattern] of cases) {
    assert.throws(() => decodeSafetensors(bytes, 'bad.safetensors'), (error: Error) => {
      assert.match(error.message, /^bad\.safetensors: invalid safetensors file: /, what);
      assert.match(error.message, pattern, what);
      return true;
    });
  }
  // A hostile header length is refused before anything is allocated.
  const huge = Buffer.alloc(16);
  huge.writeBigUInt64LE(2n ** 63n);
  assert.throws(() => decodeSafetensors(huge, 'huge.safetensors'), /huge\.safetensors: .*header length 9223372036854775808 runs past the end/);

  // loadSafetensors names the file on disk.
  const directory = mkdtempSync(path.join(tmpdir(), 'avid-st-'));
  try {
    const file = path.join(directory, 'broken.safetensors');
    writeFileSync(file, good.subarray(0, good.length - 1));
    assert.throws(() => loadSafetensors(file), new RegExp(`^Error: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: invalid safetensors file: tensor 'bias'`));
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
  assert.equal(T.memory().liveTensors, before, 'failed decodes leak no tensor');
});

test('misaligned tensors (legal in the spec) are read correctly', () => {
  // A U8 tensor of 3 bytes first pushes the F64 tensor to an odd offset.
  const data = new Uint8Array(3 + 16);
  data.set([7, 8, 9]);
  new DataView(data.buffer).setFloat64(3, 1.5, true);
  new DataView(data.buffer).setFloat64(11, -2.25, true);
  const bytes = handMade({ u: { dtype: 'U8', shape: [3], data_offsets: [0, 3] }, d: { dtype: 'F64', shape: [2], data_offsets: [3, 19] } }, data);
  T.tidy(() => {
    const { tensors } = decodeSafetensors(bytes);
    assert.deepEqual(tensors.get('u')!.toArray(), [7, 8, 9]);
    assert.deepEqual(tensors.get('d')!.toArray(), [1.5, -2.25]);
    // the header alone can be inspected without making tensors
    const header = parseSafetensorsHeader(bytes);
    assert.deepEqual(header.entries.map((e) => [e.name, e.dtype, e.begin, e.end]), [['u', 'U8', 0, 3], ['d', 'F64', 3, 19]]);
  });
});

const DESCRIBE_PY = `
def describe(tensors, meta):
    out = {'__order__': list(tensors.keys()), '__metadata__': meta}
    for name, t in tensors.items():
        flat = t.reshape(-1).tolist()
        if t.dtype.is_floating_point:
            values = [repr(float(v)) for v in flat]
        else:
            values = [str(int(v)) for v in flat]
        out[name] = {'dtype': ST_NAMES[t.dtype], 'shape': list(t.shape), 'values': values}
    return out
`;
interface Described {
  __order__: string[];
  __metadata__: Record<string, string>;
  [name: string]: unknown;
}
const safetensorsName: Record<string, string> = {
  float64: 'F64', float32: 'F32', float16: 'F16', bfloat16: 'BF16', int64: 'I64', int32: 'I32', int16: 'I16', int8: 'I8', uint8: 'U8', bool: 'BOOL',
};

test('a file avid writes loads in Python (struct + json + torch.frombuffer) with the same values', { skip: pythonSkip ?? false }, () => {
  const directory = mkdtempSync(path.join(tmpdir(), 'avid-st-'));
  try {
    const file = path.join(directory, 'ours.safetensors');
    T.tidy(() => {
      const tensors = sampleTensors();
      saveSafetensors(file, tensors, { format: 'pt', origin: 'avid' });
      const seen = runPythonJson<Described>(`${DESCRIBE_PY}\nimport sys\nprint(json.dumps(describe(*load_st(sys.argv[1]))))`, { args: [file] });
      assert.deepEqual(seen.__order__, tensors.map(([n]) => n));
      assert.deepEqual(seen.__metadata__, { format: 'pt', origin: 'avid' });
      for (const [name, t] of tensors) {
        const entry = seen[name] as { dtype: string; shape: number[]; values: string[] };
        assert.equal(entry.dtype, safetensorsName[t.dtype], name);
        assert.deepEqual(entry.shape, t.shape, name);
        assert.deepEqual(entry.values.map(fromPython), valueStrings(t), name);
      }
    });
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});

test('a file Python writes loads in avid with the same values', { skip: pythonSkip ?? false }, () => {
  const directory = mkdtempSync(path.join(tmpdir(), 'avid-st-'));
  try {
    const file = path.join(directory, 'theirs.safetensors');
    const seen = runPythonJson<Described>(
      `${DESCRIBE_PY}
import sys
t = {
    'f64': torch.tensor([0.1, -2.0, float('inf'), 1e-310], dtype=torch.float64),
    'f32': torch.linspace(-1, 1, 6).reshape(2, 3),
    'f16': torch.tensor([0.1, -65504, 6e-8, float('nan'), -0.0], dtype=torch.float16),
    'bf16': torch.tensor([0.1, -3e38, 1e-39], dtype=torch.bfloat16),
    'i64': torch.tensor([-(2**63), 2**63 - 1, 5]),
    'i32': torch.tensor([[-5, 6]], dtype=torch.int32),
    'i16': torch.tensor([-300], dtype=torch.int16),
    'i8': torch.tensor([-3, 4], dtype=torch.int8),
    'u8': torch.tensor([200, 1], dtype=torch.uint8),
    'flags': torch.tensor([True, False, True]),
    'layer1.0.bn1.num_batches_tracked': torch.tensor(7),
    'empty': torch.zeros(0, 4),
    'transposed': torch.arange(6.).reshape(2, 3).t(),
}
save_st(sys.argv[1], t, {'format': 'pt'})
print(json.dumps(describe(t, {'format': 'pt'})))`,
      { args: [file] },
    );
    T.tidy(() => {
      const { tensors, metadata } = loadSafetensors(file);
      assert.deepEqual(metadata, { format: 'pt' });
      assert.deepEqual([...tensors.keys()], seen.__order__);
      for (const [name, t] of tensors) {
        const entry = seen[name] as { dtype: string; shape: number[]; values: string[] };
        assert.equal(safetensorsName[t.dtype], entry.dtype, name);
        assert.deepEqual(t.shape, entry.shape, name);
        assert.deepEqual(valueStrings(t), entry.values.map(fromPython), name);
      }
      assert.equal(tensors.get('layer1.0.bn1.num_batches_tracked')!.dtype, 'int64');
      assert.deepEqual(tensors.get('layer1.0.bn1.num_batches_tracked')!.shape, []);
    });
    // The file is byte-for-byte what avid writes for the same tensors.
    const again = T.tidy(() => {
      const { tensors, metadata } = loadSafetensors(file);
      return encodeSafetensors(tensors, metadata);
    });
    const theirs = readFileSync(file);
    const headerOf = (b: Buffer) => JSON.parse(b.subarray(8, 8 + Number(b.readBigUInt64LE(0))).toString());
    assert.deepEqual(headerOf(again), headerOf(theirs));
    assert.deepEqual(again.subarray(8 + Number(again.readBigUInt64LE(0))), theirs.subarray(8 + Number(theirs.readBigUInt64LE(0))));
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});
