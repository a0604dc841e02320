/**
 * Channel counts aligned to the CPU's convolution block. onnxruntime's CPU provider runs convolutions,
 * max pools and the additions and activations between them in a blocked layout (NCHWc: 16 channels a block
 * with AVX-512, 8 with AVX2) when every value of a chain can stay in it. A max pool over a channel count that
 * is not a multiple of the block, or a Pad of the channel axis, cannot: the chain leaves the blocked layout
 * there, and each later residual addition and activation runs as an op of its own between two reorders. In
 * BlazeFace (24-channel stages, channels zero-padded from 24 to 48 and 48 to 96) that was 54 reorders and 48
 * unfused additions and activations, 20% of its run.
 *
 * Two rewrites of the emitted graph, neither of which changes any graph output:
 * - A constant zero Pad of the channel axis alone becomes a 1x1 convolution with identity weights (the
 *   blocked layout has convolutions but no Pad), when it at most doubles the channels and the weights stay
 *   under 4 MiB (a small model file cannot ask for a large matrix).
 * - A connected set of values whose channel count is not a multiple of the block (joined through the
 *   convolutions that produce them, depthwise convolutions, Relu, Add and pools) gets zero channels up to the
 *   next multiple: producing convolutions get zero filters and zero biases, depthwise ones zero filters,
 *   consuming convolutions zero input weights. Zero channels stay zero through all of those ops, and the
 *   blocked layout already pads to the block internally, so the work is the same. A set is left alone when
 *   any of its values reaches another op or a graph output, or when the block would more than double its
 *   channels (7 to 16, say).
 */
import { readFileSync } from 'node:fs';
import { OnnxDataType, type OnnxNode, type OnnxTensor } from './onnxProto.js';

/**
 * The channel block of onnxruntime's blocked convolutions on this CPU (its MLAS library: 16 with AVX-512F,
 * 8 with AVX2, none elsewhere). 1 means no rewrite. It is part of a compilation's cache key.
 */
export function cpuChannelBlock(cpuinfo?: string): number {
  if (cpuinfo === undefined) return (thisCpu ??= channelBlockOf(readCpuinfo()));
  return channelBlockOf(cpuinfo);
}

let thisCpu: number | undefined;

function channelBlockOf(cpuinfo: string | undefined): number {
  if (process.arch !== 'x64' || cpuinfo === undefined) return 1;
  const flags = new Set(/^flags\s*:(.*)$/m.exec(cpuinfo)?.[1]?.trim().split(/\s+/) ?? []);
  if (flags.has('avx512f')) return 16;
  if (flags.has('avx2')) return 8;
  return 1;
}

function readCpuinfo(): string | undefined {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return undefined;
  }
}

interface Graph {
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  /** Names of the graph's outputs: their values keep their channel counts. */
  outputs: string[];
}

/** Most float weights a channel Pad's identity convolution may have. */
const MAX_IDENTITY_WEIGHTS = 1 << 20;

/** Ops through which a zero channel stays zero and the channel count is kept. */
const PASS_THROUGH = new Set(['Relu', 'Add', 'MaxPool', 'AveragePool']);

function floats(t: OnnxTensor): Float32Array {
  return new Float32Array(t.raw.buffer.slice(t.raw.byteOffset, t.raw.byteOffset + t.raw.byteLength));
}

function int64s(t: OnnxTensor): number[] {
  return Array.from(new BigInt64Array(t.raw.buffer.slice(t.raw.byteOffset, t.raw.byteOffset + t.raw.byteLength)), Number);
}

function intAttr(node: OnnxNode, name: string, fallback: number): number {
  const a = node.attributes[name];
  return a?.kind === 'int' ? a.value : fallback;
}

/** Rewrites `graph` in place for a channel block of `block`; returns the number of padded value sets. */
export function alignChannels(graph: Graph, block: number): number {
  if (block <= 1) return 0;
  const inits = new Map(graph.initializers.map((t) => [t.name, t]));
  const names = new Set([...graph.initializers.map((t) => t.name), ...graph.nodes.flatMap((n) => [n.name, ...n.outputs])]);
  const fresh = (base: string): string => {
    let name = base;
    for (let k = 1; names.has(name); k++) name = `${base}__${k}`;
    names.add(name);
    return name;
  };
  const addInit = (hint: string, dims: number[], data: Float32Array): string => {
    const t: OnnxTensor = { name: fresh(hint), dataType: OnnxDataType.FLOAT, dims, raw: new Uint8Array(data.buffer) };
    graph.initializers.push(t);
    inits.set(t.name, t);
    return t.name;
  };
  const convWeights = (n: OnnxNode): OnnxTensor | undefined => {
    const w = n.opType === 'Conv' ? inits.get(n.inputs[1]) : undefined;
    return w && w.dataType === OnnxDataType.FLOAT && w.dims.length === 4 ? w : undefined;
  };

  // Channel counts of the values computed by convolutions and the ops that keep them (nodes are in order).
  const channels = new Map<string, number>();
  for (const n of graph.nodes) {
    const w = convWeights(n);
    if (w) channels.set(n.outputs[0], w.dims[0]);
    else if (PASS_THROUGH.has(n.opType) && n.outputs.length === 1) {
      const ins = n.inputs.map((i) => channels.get(i));
      if (ins.length > 0 && ins.every((c) => c !== undefined && c === ins[0])) channels.set(n.outputs[0], ins[0]!);
    } else if (n.opType === 'Pad') {
      const c = channels.get(n.inputs[0]);
      const pad = channelPad(n, inits);
      // Bounded like the widening below: at most twice the channels, and identity weights of at most 4 MiB.
      if (c !== undefined && pad && pad.before + pad.after <= c && (c + pad.before + pad.after) * c <= MAX_IDENTITY_WEIGHTS) {
        // The zero Pad of the channel axis as a 1x1 convolution: output channel before + k is input channel k.
        const out = c + pad.before + pad.after;
        const w = new Float32Array(out * c);
        for (let k = 0; k < c; k++) w[(pad.before + k) * c + k] = 1;
        n.opType = 'Conv';
        n.inputs = [n.inputs[0], addInit(`${n.name}/identity`, [out, c, 1, 1], w)];
        n.attributes = {};
        channels.set(n.outputs[0], out);
      }
    }
  }

  // Values that must share a channel count: a node's output with its pass-through or depthwise inputs.
  const parent = new Map<string, string>();
  const find = (v: string): string => {
    let r = v;
    for (let up = parent.get(r); up !== undefined && up !== r; up = parent.get(r)) {
      // Path halving: every value visited skips to its grandparent, so chains stay short.
      const grand = parent.get(up) ?? up;
      parent.set(r, grand);
      r = grand;
    }
    return r;
  };
  const union = (x: string, y: string): void => {
    const [a, b] = [find(x), find(y)];
    if (a !== b) parent.set(a, b);
  };
  const isDepthwise = (n: OnnxNode): boolean => {
    const w = convWeights(n);
    const c = channels.get(n.inputs[0]);
    return w !== undefined && c !== undefined && w.dims[1] === 1 && intAttr(n, 'group', 1) === c && w.dims[0] === c;
  };
  for (const n of graph.nodes) {
    if (!channels.has(n.outputs[0])) continue;
    if (PASS_THROUGH.has(n.opType) || isDepthwise(n)) for (const i of n.inputs) if (channels.has(i)) union(i, n.outputs[0]);
  }
  const unaligned = [...channels].filter(([, c]) => c % block !== 0).map(([v]) => v);
  const sets = new Map<string, Set<string>>();
  for (const v of unaligned) {
    const root = find(v);
    if (!sets.has(root)) sets.set(root, new Set());
    sets.get(root)!.add(v);
  }

  // A set is padded only when every use of its values is one the zero channels cannot change.
  const consumers = new Map<string, OnnxNode[]>();
  const producers = new Map<string, OnnxNode>();
  for (const n of graph.nodes) {
    for (const o of n.outputs) producers.set(o, n);
    for (const i of n.inputs) {
      const list = consumers.get(i);
      if (list) list.push(n);
      else consumers.set(i, [n]);
    }
  }
  const graphOutputs = new Set(graph.outputs);
  let padded = 0;
  for (const values of sets.values()) {
    const admissible = [...values].every((v) => {
      if (graphOutputs.has(v)) return false;
      // Its producer: a pass-through op (whose inputs the union put in the set), a depthwise convolution of a
      // value of the set, or a convolution without groups, whose filters can be added to.
      const producer = producers.get(v)!;
      if (producer.opType === 'Conv' && !(isDepthwise(producer) ? values.has(producer.inputs[0]) : intAttr(producer, 'group', 1) === 1)) return false;
      return (consumers.get(v) ?? []).every((n) => {
        if (PASS_THROUGH.has(n.opType)) return n.inputs.every((i) => values.has(i));
        const w = convWeights(n);
        if (!w || n.inputs[0] !== v || n.inputs.slice(1).includes(v)) return false;
        return isDepthwise(n) ? values.has(n.outputs[0]) : intAttr(n, 'group', 1) === 1;
      });
    });
    const c = channels.get(values.values().next().value!)!;
    const wide = Math.ceil(c / block) * block;
    // At most twice as many channels: a weight padded on both axes then grows at most fourfold, so a model of
    // many narrow convolutions cannot make the compiler allocate many times its own size.
    if (!admissible || wide > 2 * c) continue;
    // The convolutions that produce or consume the set, each once.
    const touching = new Set<OnnxNode>();
    for (const v of values) {
      const producer = producers.get(v);
      if (producer) touching.add(producer);
      for (const n of consumers.get(v) ?? []) touching.add(n);
    }
    for (const n of touching) {
      const w = convWeights(n);
      if (!w) continue;
      const depthwise = isDepthwise(n);
      const padOut = values.has(n.outputs[0]);
      const padIn = values.has(n.inputs[0]) && !depthwise;
      if (!padOut && !padIn) continue;
      const [o, i, kh, kw] = w.dims;
      const [o2, i2] = [padOut ? wide : o, padIn ? wide : i];
      const src = floats(w);
      const data = new Float32Array(o2 * i2 * kh * kw);
      const k = kh * kw;
      for (let a = 0; a < o; a++) for (let b = 0; b < i; b++) data.set(src.subarray((a * i + b) * k, (a * i + b + 1) * k), (a * i2 + b) * k);
      n.inputs[1] = addInit(`${w.name}/c${o2}x${i2}`, [o2, i2, kh, kw], data);
      if (padOut && n.inputs[2]) {
        const bias = new Float32Array(wide);
        bias.set(floats(inits.get(n.inputs[2])!));
        n.inputs[2] = addInit(`${n.inputs[2]}/c${wide}`, [wide], bias);
      }
      if (padOut && depthwise) n.attributes.group = { kind: 'int', value: wide };
    }
    for (const v of values) channels.set(v, wide);
    padded++;
  }
  const used = new Set(graph.nodes.flatMap((n) => n.inputs));
  graph.initializers.splice(0, graph.initializers.length, ...graph.initializers.filter((t) => used.has(t.name)));
  return padded;
}

/** The channel-axis amounts of a constant zero Pad of a rank-4 NCHW value that pads nothing else. */
function channelPad(n: OnnxNode, inits: Map<string, OnnxTensor>): { before: number; after: number } | undefined {
  const mode = n.attributes.mode;
  if (mode && !(mode.kind === 'string' && mode.value === 'constant')) return undefined;
  const padsTensor = inits.get(n.inputs[1]);
  if (!padsTensor || padsTensor.dataType !== OnnxDataType.INT64) return undefined;
  const pads = int64s(padsTensor);
  if (pads.length !== 8 || pads.some((p, a) => a !== 1 && a !== 5 && p !== 0) || pads[1] < 0 || pads[5] < 0) return undefined;
  if (n.inputs[2]) {
    const value = inits.get(n.inputs[2]);
    if (!value || value.dataType !== OnnxDataType.FLOAT || floats(value).some((x) => x !== 0)) return undefined;
  }
  return { before: pads[1], after: pads[5] };
}
