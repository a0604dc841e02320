/**
 * Tensor plumbing: Identity, Reshape, Squeeze, ExpandDims, Transpose, Concat, Pack, StridedSlice, Slice,
 * Gather, Cast, Pad/MirrorPad. These work in logical (TF) order except Concat and Pad, which remap their
 * axes onto NCHW values instead of transposing them back.
 */
import { CompileError } from '../errors.js';
import { like, type OpTranslator, sizeOf, type TranslationContext, type Value, type ValueDtype } from '../context.js';
import { attr } from '../graphBuilder.js';
import { logical, toLayout, TO_NCHW } from '../layout.js';
import { OnnxDataType } from '../onnxProto.js';
import { attrInt, attrString, attrType } from '../tfAttrs.js';
import type { ConstTensor, TfNodeDef } from '../tfjsModel.js';

const identity: OpTranslator = (node, ctx) => [ctx.input(node, 0)];

/** TF's shape argument with -1 resolved against the input size. */
function resolveShape(node: TfNodeDef, target: number[], inputSize: number): number[] {
  const known = target.reduce((n, d) => (d === -1 ? n : n * d), 1);
  const unknown = target.filter((d) => d === -1).length;
  if (unknown > 1) throw new CompileError(`${node.op} ${node.name}: more than one -1 in shape [${target}]`);
  const out = target.map((d) => (d === -1 ? inputSize / known : d));
  if (sizeOf(out) !== inputSize || out.some((d) => !Number.isInteger(d))) {
    throw new CompileError(`${node.op} ${node.name}: cannot reshape ${inputSize} values to [${target}]`);
  }
  return out;
}

function reshapeValue(ctx: TranslationContext, node: TfNodeDef, x: Value, target: number[]): Value {
  const shape = resolveShape(node, target, sizeOf(x.shape));
  if (x.constant) return { ...x, shape, constant: { ...x.constant, shape } };
  const v = logical(ctx, x);
  let batchAxis: number | null = null;
  let emitted = shape;
  if (v.batchAxis !== null) {
    const keepsBatch = v.batchAxis === 0 && shape.length > 0 && shape[0] === v.shape[0] && sizeOf(v.shape.slice(1)) === sizeOf(shape.slice(1));
    if (keepsBatch) {
      batchAxis = 0;
      // ONNX Reshape's 0 copies the input's dimension: the batch size stays whatever it is at run time.
      if (ctx.dynamicBatch) emitted = [0, ...shape.slice(1)];
    } else {
      ctx.loseBatch(node, `reshapes [${v.shape}] to [${shape}] across the batch axis`);
    }
  }
  return ctx.emit('Reshape', [ctx.name(v), ctx.builder.int64(emitted)], node.name, like(v, { shape, layout: 'nhwc', batchAxis }));
}

const reshape: OpTranslator = (node, ctx) => [reshapeValue(ctx, node, ctx.input(node, 0), ctx.constInts(node, 1, 'the target shape'))];

const squeeze: OpTranslator = (node, ctx) => {
  const x = ctx.input(node, 0);
  const rank = x.shape.length;
  const listed = (node.attr?.squeeze_dims?.list?.i ?? node.attr?.axis?.list?.i ?? []).map(Number).map((a) => (a < 0 ? a + rank : a));
  // With no axes TF drops every unit axis; the batch axis is only 1 because of tracing, so it is kept.
  const axes = listed.length > 0 ? listed : x.shape.flatMap((d, i) => (d === 1 && i !== x.batchAxis ? [i] : []));
  if (x.batchAxis !== null && axes.includes(x.batchAxis)) ctx.loseBatch(node, 'squeezes the batch axis');
  const shape = x.shape.filter((_, i) => !axes.includes(i));
  if (x.constant) return [{ ...x, shape, constant: { ...x.constant, shape } }];
  const v = logical(ctx, x);
  const batchAxis = v.batchAxis === null ? null : v.batchAxis - axes.filter((a) => a < (v.batchAxis ?? 0)).length;
  return [ctx.emit('Squeeze', [ctx.name(v), ctx.builder.int64(axes)], node.name, like(v, { shape, batchAxis }))];
};

function unsqueezeValue(ctx: TranslationContext, node: TfNodeDef, x: Value, axis: number, hint = node.name): Value {
  const shape = [...x.shape.slice(0, axis), 1, ...x.shape.slice(axis)];
  if (x.constant) return { ...x, shape, constant: { ...x.constant, shape } };
  const v = logical(ctx, x);
  const batchAxis = v.batchAxis === null ? null : v.batchAxis + (axis <= v.batchAxis ? 1 : 0);
  return ctx.emit('Unsqueeze', [ctx.name(v), ctx.builder.int64([axis])], hint, like(v, { shape, batchAxis }));
}

const expandDims: OpTranslator = (node, ctx) => {
  const x = ctx.input(node, 0);
  const [dim] = ctx.constInts(node, 1, 'the axis');
  return [unsqueezeValue(ctx, node, x, dim < 0 ? dim + x.shape.length + 1 : dim)];
};

const transpose: OpTranslator = (node, ctx) => {
  const x = logical(ctx, ctx.input(node, 0));
  const perm = ctx.constInts(node, 1, 'the permutation');
  const batchAxis = x.batchAxis === null ? null : perm.indexOf(x.batchAxis);
  return [ctx.emit('Transpose', [x], node.name, like(x, { shape: perm.map((a) => x.shape[a]), batchAxis }), { perm: attr.ints(perm) })];
};

function concatValues(ctx: TranslationContext, node: TfNodeDef, parts: Value[], axisIn: number): Value {
  const rank = parts[0].shape.length;
  const axis = axisIn < 0 ? axisIn + rank : axisIn;
  const batchAxes = new Set(parts.map((p) => p.batchAxis));
  const batchAxis = parts.find((p) => p.batchAxis !== null)?.batchAxis ?? null;
  if (batchAxis !== null && (batchAxes.size > 1 || axis === batchAxis)) ctx.loseBatch(node, 'concatenates along or without the batch axis');
  const useNchw = rank === 4 && parts.some((p) => !p.constant && p.layout === 'nchw');
  const aligned = parts.map((p) => toLayout(ctx, p, useNchw ? 'nchw' : 'nhwc'));
  const shape = [...parts[0].shape];
  shape[axis] = parts.reduce((n, p) => n + p.shape[axis], 0);
  const layout = useNchw ? 'nchw' : 'nhwc';
  const physical = useNchw ? TO_NCHW.indexOf(axis) : axis;
  return ctx.emit('Concat', aligned, node.name, { dtype: parts[0].dtype, shape, layout, batchAxis }, { axis: attr.int(physical) });
}

const concat: OpTranslator = (node, ctx) => {
  const all = ctx.inputs(node);
  // ConcatV2 puts the axis last, the old Concat first.
  const [axis] = node.op === 'Concat' ? ctx.constInts(node, 0, 'the axis') : ctx.constInts(node, all.length - 1, 'the axis');
  const parts = node.op === 'Concat' ? all.slice(1) : all.slice(0, -1);
  return [concatValues(ctx, node, parts, axis)];
};

const pack: OpTranslator = (node, ctx) => {
  const parts = ctx.inputs(node);
  const rank = parts[0].shape.length;
  let axis = attrInt(node, 'axis', 0);
  if (axis < 0) axis += rank + 1;
  const lifted = parts.map((p, k) => unsqueezeValue(ctx, node, p, axis, `${node.name}_part${k}`));
  return [concatValues(ctx, node, lifted, axis)];
};

interface AxisSlice {
  start: number;
  end: number;
  step: number;
}

/** Clamps TF begin/end for one axis the way TF does, given the masks' verdicts. */
function sliceAxis(dim: number, begin: number, end: number, step: number, beginMasked: boolean, endMasked: boolean): AxisSlice {
  const norm = (i: number): number => (i < 0 ? i + dim : i);
  if (step > 0) {
    const s = beginMasked ? 0 : Math.min(Math.max(norm(begin), 0), dim);
    const e = endMasked ? dim : Math.min(Math.max(norm(end), 0), dim);
    return { start: s, end: e, step };
  }
  const s = beginMasked ? dim - 1 : Math.min(Math.max(norm(begin), -1), dim - 1);
  const e = endMasked ? -1 : Math.min(Math.max(norm(end), -1), dim - 1);
  return { start: s, end: e, step };
}

function sliceLength(a: AxisSlice): number {
  return Math.max(0, Math.ceil((a.end - a.start) / a.step));
}

/** Emits Slice for the axes that are actually cut; `-1` as an end of a reversed slice means "past index 0". */
function emitSlice(ctx: TranslationContext, node: TfNodeDef, x: Value, slices: AxisSlice[], hint: string): Value {
  const cut = slices.flatMap((s, axis) => (s.start === 0 && s.end === x.shape[axis] && s.step === 1 ? [] : [axis]));
  const shape = slices.map(sliceLength);
  if (cut.length === 0) return x;
  if (x.batchAxis !== null && cut.includes(x.batchAxis)) ctx.loseBatch(node, 'slices the batch axis');
  const starts = cut.map((a) => slices[a].start);
  // Past the front of a reversed axis: any value below -dim clamps to "before 0" in ONNX.
  const ends = cut.map((a) => (slices[a].end === -1 && slices[a].step < 0 ? -x.shape[a] - 1 : slices[a].end));
  const b = ctx.builder;
  return ctx.emit(
    'Slice',
    [ctx.name(x), b.int64(starts), b.int64(ends), b.int64(cut), b.int64(cut.map((a) => slices[a].step))],
    hint,
    like(x, { shape }),
  );
}

const stridedSlice: OpTranslator = (node, ctx) => {
  const x = logical(ctx, ctx.input(node, 0));
  const begin = ctx.constInts(node, 1, 'begin');
  const end = ctx.constInts(node, 2, 'end');
  const strides = ctx.constInts(node, 3, 'strides');
  const bit = (mask: string, i: number): boolean => ((attrInt(node, mask) >> i) & 1) === 1;
  const slices: AxisSlice[] = x.shape.map((dim) => ({ start: 0, end: dim, step: 1 }));
  const shrink: number[] = [];
  const newAxes: number[] = []; // positions in the output
  let inAxis = 0;
  let outAxis = 0;
  for (let i = 0; i < begin.length; i++) {
    if (bit('ellipsis_mask', i)) {
      const covered = x.shape.length - consumingSpecs(node, begin.length);
      inAxis += covered;
      outAxis += covered;
      continue;
    }
    if (bit('new_axis_mask', i)) {
      newAxes.push(outAxis++);
      continue;
    }
    const dim = x.shape[inAxis];
    if (bit('shrink_axis_mask', i)) {
      const b = begin[i] < 0 ? begin[i] + dim : begin[i];
      slices[inAxis] = { start: b, end: b + 1, step: 1 };
      shrink.push(inAxis);
    } else {
      if (strides[i] === 0) throw new CompileError(`${node.op} ${node.name}: stride 0`);
      slices[inAxis] = sliceAxis(dim, begin[i], end[i], strides[i], bit('begin_mask', i), bit('end_mask', i));
      outAxis++;
    }
    inAxis++;
  }
  let y = emitSlice(ctx, node, x, slices, shrink.length || newAxes.length ? `${node.name}_slice` : node.name);
  if (shrink.length > 0) {
    if (x.batchAxis !== null && shrink.includes(x.batchAxis)) ctx.loseBatch(node, 'shrinks the batch axis');
    const shape = y.shape.filter((_, i) => !shrink.includes(i));
    const batchAxis = y.batchAxis === null ? null : y.batchAxis - shrink.filter((a) => a < (y.batchAxis ?? 0)).length;
    y = y.constant
      ? { ...y, shape, constant: { ...y.constant, shape } }
      : ctx.emit('Squeeze', [ctx.name(y), ctx.builder.int64(shrink)], newAxes.length ? `${node.name}_shrink` : node.name, like(y, { shape, batchAxis }));
  }
  for (const a of newAxes) y = unsqueezeValue(ctx, node, y, a, `${node.name}_newaxis${a}`);
  return [y];
};

/** How many slice specs consume an input axis (all but the ellipsis and new axes). */
function consumingSpecs(node: TfNodeDef, n: number): number {
  const skip = attrInt(node, 'ellipsis_mask') | attrInt(node, 'new_axis_mask');
  let count = 0;
  for (let k = 0; k < n; k++) if (((skip >> k) & 1) === 0) count++;
  return count;
}

const slice: OpTranslator = (node, ctx) => {
  const x = logical(ctx, ctx.input(node, 0));
  const begin = ctx.constInts(node, 1, 'begin');
  const size = ctx.constInts(node, 2, 'size');
  const slices = x.shape.map((dim, a) => ({ start: begin[a], end: size[a] === -1 ? dim : begin[a] + size[a], step: 1 }));
  return [emitSlice(ctx, node, x, slices, node.name)];
};

const gather: OpTranslator = (node, ctx) => {
  const params = logical(ctx, ctx.input(node, 0));
  const indices = logical(ctx, ctx.input(node, 1));
  let axis = node.op === 'GatherV2' ? ctx.constInts(node, 2, 'the axis')[0] : 0;
  if (axis < 0) axis += params.shape.length;
  if (attrInt(node, 'batch_dims') !== 0) throw new CompileError(`${node.op} ${node.name}: batch_dims is not supported`);
  const shape = [...params.shape.slice(0, axis), ...indices.shape, ...params.shape.slice(axis + 1)];
  let batchAxis: number | null = null;
  if (indices.batchAxis !== null || (params.batchAxis !== null && params.batchAxis >= axis)) {
    ctx.loseBatch(node, 'gathers along or with the batch axis');
  } else {
    batchAxis = params.batchAxis;
  }
  return [ctx.emit('Gather', [params, indices], node.name, { dtype: params.dtype, shape, layout: 'nhwc', batchAxis }, { axis: attr.int(axis) })];
};

const TF_TYPES: Record<string, ValueDtype> = { DT_FLOAT: 'float32', DT_INT32: 'int32', DT_INT64: 'int64', DT_BOOL: 'bool' };
const ONNX_CAST: Record<ValueDtype, number> = { float32: OnnxDataType.FLOAT, int32: OnnxDataType.INT32, int64: OnnxDataType.INT64, bool: OnnxDataType.BOOL };

const cast: OpTranslator = (node, ctx) => {
  const x = ctx.input(node, 0);
  const tfType = attrType(node, 'DstT') ?? 'DT_FLOAT';
  const dtype = TF_TYPES[tfType];
  if (!dtype) throw new CompileError(`${node.op} ${node.name}: cast to ${tfType} is not supported`);
  if (x.constant && dtype !== 'int64') {
    const c = x.constant;
    const data =
      dtype === 'float32' ? Float32Array.from(c.data) : dtype === 'int32' ? Int32Array.from(c.data, Math.trunc) : Uint8Array.from(c.data, (v) => (v ? 1 : 0));
    const constant: ConstTensor = { dtype, shape: c.shape, data };
    return [{ ...x, dtype, constant }];
  }
  return [ctx.emit('Cast', [x], node.name, like(x, { dtype }), { to: attr.int(ONNX_CAST[dtype]) })];
};

const pad: OpTranslator = (node, ctx) => {
  let x = ctx.input(node, 0);
  const paddings = ctx.constInts(node, 1, 'the paddings');
  const rank = x.shape.length;
  const before = Array.from({ length: rank }, (_, a) => paddings[2 * a]);
  const after = Array.from({ length: rank }, (_, a) => paddings[2 * a + 1]);
  if (x.batchAxis !== null && (before[x.batchAxis] || after[x.batchAxis])) ctx.loseBatch(node, 'pads the batch axis');
  const shape = x.shape.map((d, a) => d + before[a] + after[a]);
  const mode = node.op === 'MirrorPad' ? attrString(node, 'mode') : 'CONSTANT';
  if (mode === 'SYMMETRIC') return [symmetricPad(ctx, node, logical(ctx, x), before, after)];
  if (mode !== 'CONSTANT' && mode !== 'REFLECT') throw new CompileError(`${node.op} ${node.name}: mode ${mode} is not supported`);
  if (x.constant) x = logical(ctx, x);
  // Pads in physical order, so an NCHW value is padded where it lies.
  const phys = (list: number[]): number[] => list.map((_, p) => list[x.layout === 'nchw' ? TO_NCHW[p] : p]);
  const inputs = [ctx.name(x), ctx.builder.int64([...phys(before), ...phys(after)])];
  if (node.op === 'PadV2') inputs.push(ctx.name(ctx.input(node, 2)));
  const attributes = { mode: attr.string(mode === 'REFLECT' ? 'reflect' : 'constant') };
  return [ctx.emit('Pad', inputs, node.name, like(x, { shape }), attributes)];
};

/** TF SYMMETRIC mirror padding (edge included) has no ONNX mode: reversed slices concatenated per axis. */
function symmetricPad(ctx: TranslationContext, node: TfNodeDef, x: Value, before: number[], after: number[]): Value {
  let y = x;
  for (let a = 0; a < x.shape.length; a++) {
    if (!before[a] && !after[a]) continue;
    const dim = y.shape[a];
    const parts: Value[] = [];
    const full = y.shape.map((d) => ({ start: 0, end: d, step: 1 }));
    if (before[a]) parts.push(emitSlice(ctx, node, y, full.map((s, k) => (k === a ? { start: before[a] - 1, end: -1, step: -1 } : s)), `${node.name}_front${a}`));
    parts.push(y);
    if (after[a]) parts.push(emitSlice(ctx, node, y, full.map((s, k) => (k === a ? { start: dim - 1, end: dim - 1 - after[a], step: -1 } : s)), `${node.name}_back${a}`));
    y = concatValues(ctx, { ...node, name: `${node.name}_axis${a}` }, parts, a);
  }
  return y;
}

export const tensorOps: Record<string, OpTranslator> = {
  Identity: identity,
  StopGradient: identity,
  Snapshot: identity,
  Reshape: reshape,
  Squeeze: squeeze,
  ExpandDims: expandDims,
  Transpose: transpose,
  ConcatV2: concat,
  Concat: concat,
  Pack: pack,
  StridedSlice: stridedSlice,
  Slice: slice,
  GatherV2: gather,
  Gather: gather,
  Cast: cast,
  Pad: pad,
  PadV2: pad,
  MirrorPad: pad,
};

