// A minimal ONNX writer: the protobuf wire encoding of the few messages an inference graph needs (ModelProto,
// GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto), written by hand so that exporting needs
// no protobuf library. Field numbers are onnx.proto3's (onnx/onnx, IR version 8). Only what avid's export
// uses is here: float32 and int64 tensors (weights go in raw_data, little-endian), int/float/ints/floats
// attributes, and value infos of float tensors whose dimensions are numbers or named (dynamic) parameters.

/** TensorProto.DataType values. */
export const ONNX_FLOAT = 1;
export const ONNX_INT64 = 7;

export interface OnnxTensor {
  name: string;
  dims: number[];
  /** Float32Array → FLOAT, BigInt64Array → INT64. */
  data: Float32Array | BigInt64Array;
}

export type OnnxAttribute = number | number[] | { floats: number[] } | { float: number };

export interface OnnxNode {
  opType: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  /** An integer number is INT, an array of integers INTS; use { float } / { floats } for FLOAT / FLOATS. */
  attributes?: Record<string, OnnxAttribute>;
}

/** A graph input or output: a float tensor; a string dimension is dynamic (ONNX's dim_param). */
export interface OnnxValueInfo {
  name: string;
  shape: (number | string)[];
  docString?: string;
}

export interface OnnxModel {
  graphName: string;
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  opset: number;
  irVersion?: number;
  producerName?: string;
  producerVersion?: string;
  docString?: string;
  /** ModelProto.metadata_props: key/value strings any runtime can read back. */
  metadata?: Record<string, string>;
}

/** Bytes of protobuf messages under construction: fields appended in order. */
class ProtoWriter {
  private chunks: Uint8Array[] = [];
  private length = 0;

  private push(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.length += bytes.length;
  }

  private varint(value: bigint): void {
    // Negative int64 values are encoded as their 64-bit two's complement (10 bytes), as protobuf does.
    let v = BigInt.asUintN(64, value);
    const out: number[] = [];
    while (v >= 0x80n) {
      out.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    out.push(Number(v));
    this.push(Uint8Array.from(out));
  }

  private key(field: number, wireType: 0 | 1 | 2 | 5): void {
    this.varint(BigInt((field << 3) | wireType));
  }

  int(field: number, value: number | bigint): void {
    if (typeof value === 'number' && !Number.isSafeInteger(value)) throw new Error(`onnx writer: field ${field}: ${value} is not an integer`);
    this.key(field, 0);
    this.varint(BigInt(value));
  }

  float(field: number, value: number): void {
    this.key(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.push(b);
  }

  bytes(field: number, value: Uint8Array): void {
    this.key(field, 2);
    this.varint(BigInt(value.length));
    this.push(value);
  }

  string(field: number, value: string): void {
    this.bytes(field, new TextEncoder().encode(value));
  }

  message(field: number, build: (w: ProtoWriter) => void): void {
    const inner = new ProtoWriter();
    build(inner);
    this.bytes(field, inner.finish());
  }

  /** A packed repeated int64 field. */
  packedInts(field: number, values: number[]): void {
    const inner = new ProtoWriter();
    for (const v of values) inner.varint(BigInt(v));
    this.bytes(field, inner.finish());
  }

  /** A packed repeated float field. */
  packedFloats(field: number, values: number[]): void {
    const b = new Uint8Array(4 * values.length);
    const view = new DataView(b.buffer);
    values.forEach((v, i) => view.setFloat32(4 * i, v, true));
    this.bytes(field, b);
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let offset = 0;
    for (const c of this.chunks) {
      out.set(c, offset);
      offset += c.length;
    }
    return out;
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function littleEndianBytes(data: Float32Array | BigInt64Array): Uint8Array {
  // ONNX's raw_data is little-endian: the array's own bytes on such a machine, converted on any other.
  if (LITTLE_ENDIAN) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.byteLength);
  const view = new DataView(out.buffer);
  if (data instanceof Float32Array) data.forEach((v, i) => view.setFloat32(4 * i, v, true));
  else data.forEach((v, i) => view.setBigInt64(8 * i, v, true));
  return out;
}

function writeTensor(w: ProtoWriter, t: OnnxTensor): void {
  const count = t.dims.reduce((a, b) => a * b, 1);
  if (count !== t.data.length) throw new Error(`onnx writer: tensor '${t.name}' has dims [${t.dims.join(', ')}] (${count} values) but ${t.data.length} values`);
  // TensorProto: dims 1, data_type 2, name 8, raw_data 9.
  w.packedInts(1, t.dims);
  w.int(2, t.data instanceof Float32Array ? ONNX_FLOAT : ONNX_INT64);
  w.string(8, t.name);
  w.bytes(9, littleEndianBytes(t.data));
}

function writeAttribute(w: ProtoWriter, name: string, value: OnnxAttribute, node: string): void {
  // AttributeProto: name 1, f 2, i 3, floats 7, ints 8, type 20 (FLOAT 1, INT 2, FLOATS 6, INTS 7).
  w.string(1, name);
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error(`onnx writer: node ${node}: attribute ${name} = ${value} is not an integer (use { float })`);
    w.int(3, value);
    w.int(20, 2);
  } else if (Array.isArray(value)) {
    if (!value.every(Number.isInteger)) throw new Error(`onnx writer: node ${node}: attribute ${name} = [${value.join(', ')}] holds non-integers (use { floats })`);
    w.packedInts(8, value);
    w.int(20, 7);
  } else if ('float' in value) {
    w.float(2, value.float);
    w.int(20, 1);
  } else {
    w.packedFloats(7, value.floats);
    w.int(20, 6);
  }
}

function writeNode(w: ProtoWriter, n: OnnxNode): void {
  // NodeProto: input 1, output 2, name 3, op_type 4, attribute 5.
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  if (n.name) w.string(3, n.name);
  w.string(4, n.opType);
  for (const [key, value] of Object.entries(n.attributes ?? {})) w.message(5, (a) => writeAttribute(a, key, value, n.name ?? n.opType));
}

function writeValueInfo(w: ProtoWriter, v: OnnxValueInfo): void {
  // ValueInfoProto: name 1, type 2, doc_string 3. TypeProto: tensor_type 1. TypeProto.Tensor: elem_type 1,
  // shape 2. TensorShapeProto: dim 1. Dimension: dim_value 1, dim_param 2.
  w.string(1, v.name);
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, ONNX_FLOAT);
      tensor.message(2, (shape) => {
        for (const d of v.shape) shape.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.string(2, d)));
      });
    }),
  );
  if (v.docString) w.string(3, v.docString);
}

/** The model's bytes, as an .onnx file holds them. */
export function encodeOnnxModel(m: OnnxModel): Uint8Array {
  const w = new ProtoWriter();
  // ModelProto: ir_version 1, producer_name 2, producer_version 3, doc_string 6, graph 7, opset_import 8,
  // metadata_props 14.
  w.int(1, m.irVersion ?? 8);
  if (m.producerName) w.string(2, m.producerName);
  if (m.producerVersion) w.string(3, m.producerVersion);
  if (m.docString) w.string(6, m.docString);
  // GraphProto: node 1, name 2, initializer 5, input 11, output 12.
  w.message(7, (g) => {
    for (const n of m.nodes) g.message(1, (x) => writeNode(x, n));
    g.string(2, m.graphName);
    for (const t of m.initializers) g.message(5, (x) => writeTensor(x, t));
    for (const i of m.inputs) g.message(11, (x) => writeValueInfo(x, i));
    for (const o of m.outputs) g.message(12, (x) => writeValueInfo(x, o));
  });
  // OperatorSetIdProto: domain 1 (empty: the default ai.onnx domain), version 2.
  w.message(8, (o) => {
    o.string(1, '');
    o.int(2, m.opset);
  });
  for (const [key, value] of Object.entries(m.metadata ?? {})) {
    w.message(14, (e) => {
      e.string(1, key);
      e.string(2, value);
    });
  }
  return w.finish();
}
