/**
 * tfjs graph model -> ONNX. Walks the graph from its outputs, translates each op with the per-family
 * translators, and writes an ONNX model whose inputs and outputs have the tfjs names, dtypes and NHWC
 * shapes. The batch dimension is made dynamic when every op keeps samples independent; otherwise (e.g. a
 * post-processing head that flattens the batch) the model is compiled again with the traced batch size.
 */
import type { TensorSpec } from '../core/tensor.js';
import { alignChannels, cpuChannelBlock } from './channelBlocks.js';
import { ONNX_TYPE, TranslationContext, type Value, type ValueDtype } from './context.js';
import { CompileError, UnsupportedOpError } from './errors.js';
import { logical } from './layout.js';
import { encodeOnnxModel, type OnnxDim, type OnnxValueInfo } from './onnxProto.js';
import { TRANSLATORS } from './ops/index.js';
import { attrType } from './tfAttrs.js';
import { COMPILER_VERSION } from './version.js';
import { decodeWeights, parseTensorRef, readTfjsModel, signatureOf, type ConstTensor, type TfjsModelJson, type TfNodeDef } from './tfjsModel.js';

/** Bumped whenever a change could alter compiled output: cached compilations of older versions are rebuilt. */
export { COMPILER_VERSION };
export const ONNX_OPSET = 13;

export interface CompiledModel {
  onnx: Uint8Array;
  /** Graph inputs under their tfjs names; `-1` marks the dynamic batch dimension. */
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  dynamicBatch: boolean;
  /** Why the batch dimension stayed fixed, when it did. */
  staticBatchReasons: string[];
  /** Convolution and matmul FLOPs (2 x multiply-accumulates) for one sample. */
  flopsPerSample: number;
  /** TF ops of the translated graph and how often each occurs. */
  sourceOps: Record<string, number>;
  /**
   * Outputs computed from a TopKV2 ranking, and those TopKV2 nodes. Rows of such outputs may legitimately
   * come out in another order where ranked values tie to within float rounding; verification allows that.
   */
  selection: { outputs: string[]; topKNodes: string[] };
}

export interface CompileOptions {
  /** Shown in error messages. */
  modelName?: string;
  /** Set false to keep the traced batch size even when the graph would allow a dynamic one. */
  dynamicBatch?: boolean;
  /** Channel block to align convolution chains to (channelBlocks.ts); this CPU's by default, 1 for none. */
  channelBlock?: number;
}

interface GraphView {
  nodes: Map<string, TfNodeDef>;
  consts: Map<string, ConstTensor>;
  inputs: TfNodeDef[];
  /** Output references (`node` or `node:k`) in tfjs order. */
  outputs: string[];
  /** Reachable non-Const nodes, each after its inputs. */
  order: TfNodeDef[];
}

const TF_DTYPES: Record<string, ValueDtype> = { DT_FLOAT: 'float32', DT_INT32: 'int32', DT_BOOL: 'bool', DT_INT64: 'int64' };
const SPEC_DTYPES: Record<ValueDtype, TensorSpec['dtype']> = { float32: 'float32', int32: 'int32', int64: 'int64', bool: 'bool' };

function viewGraph(json: TfjsModelJson, weightData: Uint8Array): GraphView {
  const nodes = new Map(json.modelTopology.node.map((n) => [n.name, n]));
  const consts = decodeWeights(json.weightsManifest ?? [], weightData);
  const signatureOutputs = Object.values(signatureOf(json)?.outputs ?? {}).map((t) => t.name);
  let outputs = signatureOutputs.map((ref) => {
    const { node, index } = parseTensorRef(ref);
    return index === 0 ? node : `${node}:${index}`;
  });
  if (outputs.length === 0) {
    // As tfjs: without a signature, the outputs are the nodes nothing consumes.
    const consumed = new Set(json.modelTopology.node.flatMap((n) => (n.input ?? []).map((r) => parseTensorRef(r).node)));
    outputs = json.modelTopology.node.filter((n) => !consumed.has(n.name) && n.op !== 'Const' && n.op !== 'NoOp').map((n) => n.name);
  }
  const order: TfNodeDef[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string): void => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') throw new CompileError(`the graph has a cycle through ${name}`);
    const node = nodes.get(name);
    if (!node) throw new CompileError(`the graph references an unknown node ${name}`);
    state.set(name, 'visiting');
    // Iterative over inputs, recursive over depth: graph depth is a few hundred at most.
    for (const ref of node.input ?? []) if (!ref.startsWith('^')) visit(parseTensorRef(ref).node);
    state.set(name, 'done');
    if (node.op !== 'Const') order.push(node);
  };
  for (const out of outputs) visit(parseTensorRef(out).node);
  for (const n of order) if (n.op === 'Const' && !consts.has(n.name)) throw new CompileError(`Const ${n.name} has no weight`);
  for (const [name, node] of nodes) {
    if (node.op === 'Const' && state.has(name) && !consts.has(name)) throw new CompileError(`Const ${name} has no weight in the manifest`);
  }
  const inputs = order.filter((n) => n.op === 'Placeholder');
  return { nodes, consts, inputs, outputs, order };
}

function placeholderShape(node: TfNodeDef): number[] {
  const dims = node.attr?.shape?.shape?.dim;
  if (!dims) throw new CompileError(`Placeholder ${node.name} has no static shape`);
  return dims.map((d) => Number(d.size ?? -1));
}

function valueInfo(name: string, v: Value, dynamicBatch: boolean): OnnxValueInfo {
  const shape: OnnxDim[] = v.shape.map((d, i) => (dynamicBatch && i === v.batchAxis ? 'batch' : d));
  return { name, dataType: ONNX_TYPE[v.dtype], shape };
}

function spec(name: string, v: Value, dynamicBatch: boolean): TensorSpec {
  return { name, dtype: SPEC_DTYPES[v.dtype], shape: v.shape.map((d, i) => (dynamicBatch && i === v.batchAxis ? -1 : d)) };
}

function translate(graph: GraphView, dynamicBatch: boolean, modelName: string, channelBlock: number): { ctx: TranslationContext; model: CompiledModel } {
  const ctx = new TranslationContext(graph.consts, dynamicBatch);
  const b = ctx.builder;
  // Reserve the external names first so no internal value can take them.
  const inputNames = graph.inputs.map((n) => b.unique(n.name));
  const outputNames = graph.outputs.map((ref) => b.unique(ref));
  const graphInputs: OnnxValueInfo[] = [];
  const inputSpecs: TensorSpec[] = [];
  graph.inputs.forEach((node, k) => {
    const declared = placeholderShape(node);
    const tfType = attrType(node, 'dtype') ?? 'DT_FLOAT';
    const dtype = TF_DTYPES[tfType];
    if (!dtype) throw new CompileError(`Placeholder ${node.name}: dtype ${tfType} is not supported`);
    if (declared.slice(1).some((d) => d < 0)) {
      throw new CompileError(`Placeholder ${node.name}: only the batch dimension may be unknown, shape is [${declared}]`);
    }
    const shape = declared.map((d, i) => (i === 0 && d < 0 ? 1 : d));
    const v: Value = { name: inputNames[k], dtype, shape, layout: 'nhwc', batchAxis: shape.length > 0 ? 0 : null };
    ctx.define(node.name, [v]);
    graphInputs.push(valueInfo(v.name, v, dynamicBatch));
    inputSpecs.push(spec(v.name, v, dynamicBatch));
  });
  for (const node of graph.order) {
    if (node.op === 'Placeholder') continue;
    ctx.define(node.name, TRANSLATORS[node.op](node, ctx));
  }
  const graphOutputs: OnnxValueInfo[] = [];
  const outputSpecs: TensorSpec[] = [];
  graph.outputs.forEach((ref, k) => {
    const v = logical(ctx, ctx.ref(ref));
    if (v.batchAxis !== null && v.batchAxis !== 0) ctx.loseBatch({ name: ref, op: 'output' }, 'the batch is not the first axis');
    b.nodeTo('Identity', [ctx.name(v)], outputNames[k]);
    graphOutputs.push(valueInfo(outputNames[k], v, dynamicBatch));
    outputSpecs.push(spec(outputNames[k], v, dynamicBatch));
  });
  const dependsOnTopK = new Set<string>();
  const topKNodes: string[] = [];
  for (const n of graph.order) {
    if (n.op === 'TopKV2') topKNodes.push(n.name);
    if (n.op === 'TopKV2' || (n.input ?? []).some((r) => dependsOnTopK.has(parseTensorRef(r).node))) dependsOnTopK.add(n.name);
  }
  const selection = { outputs: outputNames.filter((_, k) => dependsOnTopK.has(parseTensorRef(graph.outputs[k]).node)), topKNodes };
  alignChannels({ nodes: b.nodes, initializers: b.initializers, outputs: outputNames }, channelBlock);
  const sourceOps: Record<string, number> = {};
  for (const n of graph.order) sourceOps[n.op] = (sourceOps[n.op] ?? 0) + 1;
  const onnx = encodeOnnxModel({
    graph: { name: modelName, nodes: b.nodes, initializers: b.initializers, inputs: graphInputs, outputs: graphOutputs },
    opsetVersion: ONNX_OPSET,
    producerName: 'mloffload-compiler',
    producerVersion: COMPILER_VERSION,
    docString: `${modelName} compiled from a tfjs graph model`,
  });
  return {
    ctx,
    model: {
      onnx,
      inputs: inputSpecs,
      outputs: outputSpecs,
      dynamicBatch,
      staticBatchReasons: [],
      flopsPerSample: 2 * ctx.macs,
      sourceOps,
      selection,
    },
  };
}

/** Compiles a tfjs graph model held in memory (model.json contents and the concatenated weight shards). */
export function compileTfjsGraph(json: TfjsModelJson, weightData: Uint8Array, options: CompileOptions = {}): CompiledModel {
  const modelName = options.modelName ?? 'model';
  const block = options.channelBlock ?? cpuChannelBlock();
  const graph = viewGraph(json, weightData);
  const unsupported = graph.order.filter((n) => n.op !== 'Placeholder' && !(n.op in TRANSLATORS)).map((n) => n.op);
  if (unsupported.length > 0) throw new UnsupportedOpError(unsupported, modelName);
  if (graph.inputs.length === 0) throw new CompileError(`${modelName} has no Placeholder input`);
  if (options.dynamicBatch !== false) {
    const first = translate(graph, true, modelName, block);
    if (first.ctx.batchLosses.length === 0) return first.model;
    const fixed = translate(graph, false, modelName, block);
    return { ...fixed.model, staticBatchReasons: first.ctx.batchLosses };
  }
  return translate(graph, false, modelName, block).model;
}

/** Compiles the tfjs graph model at `modelJsonPath` (weight shards resolved beside it). */
export async function compileTfjsModelFile(modelJsonPath: string, options: CompileOptions = {}): Promise<CompiledModel & { sourceDigest: string }> {
  const source = await readTfjsModel(modelJsonPath);
  return { ...compileTfjsGraph(source.json, source.weightData, options), sourceDigest: source.sourceDigest };
}
