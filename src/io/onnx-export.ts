// ONNX graphs of avid's encoders, built by walking the module tree (models/r2plus1d.ts, audio-conv2d.ts,
// heads.ts) and emitting, for each layer, the ONNX operators that compute what its forward() computes in
// evaluation mode:
//   Conv2d/Conv3d → Conv; BatchNorm → BatchNormalization with the running statistics (kept as its own node,
//   not folded into the convolution, so each weight in the file is one of the state dict's, under its
//   name); ReLU → Relu; the residual sum → Add; MaxPool3d → MaxPool; the encoders' global max-pool →
//   GlobalMaxPool + Flatten; Linear → Gemm (transB); the embedding's L2 normalisation (F.normalize: x /
//   max(‖x‖₂, 1e-12)) → ReduceL2 + Max + Div.
// A layer this file does not know is an error naming its path, never a silently wrong graph.
import * as T from '../tensor/index.js';
import { Module, Layer, Sequential, Conv2d, Conv3d, BatchNorm, ReLU, MaxPool2d, MaxPool3d, Linear } from '../nn/index.js';
import { R2Plus1D, R2Plus1DBlock } from '../models/r2plus1d.js';
import { AudioConv2d, AudioConvBlock } from '../models/audio-conv2d.js';
import { ProjectionHead } from '../models/heads.js';
import type { OnnxModel, OnnxNode, OnnxTensor, OnnxValueInfo } from './onnx-writer.js';

/** The opset the graphs are written for (ReduceL2 still takes its axes as an attribute at 17). */
export const ONNX_OPSET = 17;
/** F.normalize's default eps: the norm is clamped below by it. */
const NORMALIZE_EPS = 1e-12;

/** Nodes and weights of one graph under construction; every value name is unique. */
class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  private readonly used = new Set<string>();

  private unique(name: string): string {
    let candidate = name;
    for (let i = 1; this.used.has(candidate); i++) candidate = `${name}_${i}`;
    this.used.add(candidate);
    return candidate;
  }

  /** A weight (copied out of the tensor) named by its state-dict key. */
  weight(name: string, t: T.Tensor): string {
    const unique = this.unique(name);
    this.initializers.push({ name: unique, dims: t.shape, data: Float32Array.from(t.toFloat32Array()) });
    return unique;
  }

  constant(name: string, values: number[]): string {
    const unique = this.unique(name);
    this.initializers.push({ name: unique, dims: [values.length], data: Float32Array.from(values) });
    return unique;
  }

  /** Adds a node and returns its (single) output's name. */
  node(opType: string, inputs: string[], output: string, attributes?: OnnxNode['attributes']): string {
    const name = this.unique(output);
    this.nodes.push({ opType, inputs, outputs: [name], name, attributes });
    return name;
  }
}

const join = (prefix: string, name: string) => (prefix ? `${prefix}.${name}` : name);

function conv(g: GraphBuilder, m: Conv2d | Conv3d, x: string, path: string): string {
  const inputs = [x, g.weight(join(path, 'weight'), m.weight)];
  if (m.bias) inputs.push(g.weight(join(path, 'bias'), m.bias));
  return g.node('Conv', inputs, path, {
    kernel_shape: m.weight.shape.slice(2),
    strides: m.stride,
    pads: [...m.padding, ...m.padding],
    dilations: m.dilation,
    group: m.groups,
  });
}

function batchNorm(g: GraphBuilder, m: BatchNorm, x: string, path: string): string {
  const inputs = [x, g.weight(join(path, 'weight'), m.weight), g.weight(join(path, 'bias'), m.bias), g.weight(join(path, 'running_mean'), m.runningMean), g.weight(join(path, 'running_var'), m.runningVar)];
  return g.node('BatchNormalization', inputs, path, { epsilon: { float: m.eps } });
}

function maxPool(g: GraphBuilder, m: MaxPool2d | MaxPool3d, x: string, path: string): string {
  const dims = m instanceof MaxPool3d ? 3 : 2;
  const ints = (v: number | number[] | undefined, fallback: number[]) => (v === undefined ? fallback : typeof v === 'number' ? new Array<number>(dims).fill(v) : v);
  const kernel = ints(m.kernel, []);
  const padding = ints(m.options.padding, new Array<number>(dims).fill(0));
  return g.node('MaxPool', [x], path, {
    kernel_shape: kernel,
    strides: ints(m.options.stride, kernel),
    pads: [...padding, ...padding],
    dilations: ints(m.options.dilation, new Array<number>(dims).fill(1)),
    ceil_mode: m.options.ceilMode ? 1 : 0,
  });
}

function linear(g: GraphBuilder, m: Linear, x: string, path: string): string {
  const inputs = [x, g.weight(join(path, 'weight'), m.weight)];
  if (m.bias) inputs.push(g.weight(join(path, 'bias'), m.bias));
  return g.node('Gemm', inputs, path, { transB: 1 });
}

function r2plus1dBlock(g: GraphBuilder, m: R2Plus1DBlock, x: string, path: string): string {
  const step = (convolution: Conv3d, norm: BatchNorm, input: string, names: [string, string], relu = true) => {
    const y = batchNorm(g, norm, conv(g, convolution, input, join(path, names[0])), join(path, names[1]));
    return relu ? g.node('Relu', [y], `${join(path, names[1])}.relu`) : y;
  };
  let h = step(m.spt_conv1, m.spt_bn1, x, ['spt_conv1', 'spt_bn1']);
  h = step(m.tmp_conv1, m.tmp_bn1, h, ['tmp_conv1', 'tmp_bn1']);
  h = step(m.spt_conv2, m.spt_bn2, h, ['spt_conv2', 'spt_bn2']);
  h = conv(g, m.tmp_conv2, h, join(path, 'tmp_conv2'));
  const residual = m.res_conv ? conv(g, m.res_conv, x, join(path, 'res_conv')) : x;
  const sum = g.node('Add', [h, residual], join(path, 'residual_sum'));
  return g.node('Relu', [batchNorm(g, m.out_bn, sum, join(path, 'out_bn'))], join(path, 'out'));
}

function audioConvBlock(g: GraphBuilder, m: AudioConvBlock, x: string, path: string): string {
  const h = g.node('Relu', [batchNorm(g, m.bn1, conv(g, m.conv1, x, join(path, 'conv1')), join(path, 'bn1'))], join(path, 'relu1'));
  return g.node('Relu', [batchNorm(g, m.bn2, conv(g, m.conv2, h, join(path, 'conv2')), join(path, 'bn2'))], join(path, 'relu2'));
}

/** Emits the nodes of one layer of the module tree; `path` is its state-dict prefix. */
function layer(g: GraphBuilder, m: Module, x: string, path: string): string {
  if (m instanceof Conv2d || m instanceof Conv3d) return conv(g, m, x, path);
  if (m instanceof BatchNorm) return batchNorm(g, m, x, path);
  if (m instanceof ReLU) return g.node('Relu', [x], path);
  if (m instanceof MaxPool2d || m instanceof MaxPool3d) return maxPool(g, m, x, path);
  if (m instanceof Linear) return linear(g, m, x, path);
  if (m instanceof Sequential) return m.layers.reduce((h, child, i) => layer(g, child, h, join(path, String(i))), x);
  if (m instanceof R2Plus1DBlock) return r2plus1dBlock(g, m, x, path);
  if (m instanceof AudioConvBlock) return audioConvBlock(g, m, x, path);
  if (m instanceof ProjectionHead) return layer(g, m.projection, x, join(path, 'projection'));
  throw new Error(`ONNX export: no ONNX operators for ${m.constructor.name} at '${path || '(root)'}'`);
}

/** An encoder's pooled features (N, C): its layers, then the global max-pool and flatten of its forward(). */
function encoder(g: GraphBuilder, m: R2Plus1D | AudioConv2d, x: string, path: string): string {
  let h = layer(g, m.conv1, x, join(path, 'conv1'));
  if (m instanceof R2Plus1D) m.stages.forEach((stage, i) => (h = layer(g, stage, h, join(path, `conv${i + 2}x`))));
  else m.blocks.forEach((block, i) => (h = layer(g, block, h, join(path, `block${i + 1}`))));
  const pooled = g.node('GlobalMaxPool', [h], join(path, 'pool'));
  return g.node('Flatten', [pooled], 'features', { axis: 1 });
}

/** x / max(‖x‖₂ over dim 1, eps), as F.normalize(x, 2, 1). */
function l2Normalize(g: GraphBuilder, x: string, path: string): string {
  const norm = g.node('ReduceL2', [x], `${path}.norm`, { axes: [1], keepdims: 1 });
  const clamped = g.node('Max', [norm, g.constant(`${path}.eps`, [NORMALIZE_EPS])], `${path}.norm_clamped`);
  return g.node('Div', [x, clamped], path);
}

export interface EncoderGraphOptions {
  /** The input's name and shape; its first dimension is made dynamic ('batch'). */
  input: { name: string; shape: number[] };
  /**
   * The projection head and its state-dict prefix: the graph then outputs `embedding` (N, D), unit-norm as
   * avid's embedVideo/embedAudio; without a head it outputs only `features`.
   */
  head?: { module: ProjectionHead; path: string };
  /** Also output the pooled encoder features (N, C) as `features` (always so without a head). */
  features?: boolean;
  graphName: string;
  docString?: string;
  metadata?: Record<string, string>;
}

/**
 * The ONNX model of one encoder (and its head), in evaluation mode whatever the module's mode: batch norm
 * uses its running statistics. `path` is the encoder's state-dict prefix ('video_model', or '' for a bare
 * encoder), which names the weights in the file.
 */
export function encoderOnnxModel(model: R2Plus1D | AudioConv2d, path: string, o: EncoderGraphOptions): OnnxModel {
  const [, ...rest] = o.input.shape;
  if (rest.length !== (model instanceof R2Plus1D ? 4 : 3) || !rest.every((d) => Number.isInteger(d) && d > 0)) {
    throw new Error(`ONNX export: input '${o.input.name}' needs ${model instanceof R2Plus1D ? '(N, 3, frames, height, width)' : '(N, 1, frames, bins)'} with positive dimensions; got (${o.input.shape.join(', ')})`);
  }
  const g = new GraphBuilder();
  const features = encoder(g, model, o.input.name, path);
  const batch = 'batch';
  const outputs: OnnxValueInfo[] = [];
  if (o.head) {
    const projected = layer(g, o.head.module, features, o.head.path);
    const embedding = l2Normalize(g, projected, 'embedding');
    const dim = o.head.module.projection.layers.at(-1) as Linear;
    outputs.push({ name: embedding, shape: [batch, dim.weight.shape[0]], docString: 'unit-norm embedding (the projection head on the pooled features, L2-normalised)' });
  }
  if (!o.head || o.features) {
    // The Flatten node's output is the graph output under its own name.
    outputs.push({ name: features, shape: [batch, model.outChannels], docString: 'pooled encoder features (global max-pool of the last stage)' });
  }
  return {
    graphName: o.graphName,
    nodes: g.nodes,
    initializers: g.initializers,
    inputs: [{ name: o.input.name, shape: [batch, ...rest] }],
    outputs,
    opset: ONNX_OPSET,
    producerName: 'avid',
    docString: o.docString,
    metadata: o.metadata,
  };
}
