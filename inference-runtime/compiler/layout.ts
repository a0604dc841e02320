/**
 * Layout handling. TF graphs are NHWC; onnxruntime's CPU convolutions and pools are NCHW. Rank-4 values are
 * kept NCHW from the first op that wants it, elementwise ops follow their operands, and a Transpose back to
 * NHWC is emitted only where an op depends on the logical order (Reshape, Gather, graph outputs, ...).
 */
import { CompileError } from './errors.js';
import type { Layout, TranslationContext, Value } from './context.js';
import type { TfNodeDef } from './tfjsModel.js';
import { attr } from './graphBuilder.js';

/** Transpose perms between the two layouts. */
export const TO_NCHW = [0, 3, 1, 2];
export const TO_NHWC = [0, 2, 3, 1];

export function toLayout(ctx: TranslationContext, v: Value, target: Layout): Value {
  if (v.shape.length !== 4 || v.layout === target) return v;
  if (v.constant) return { ...v, name: '', layout: target };
  const key = `${v.name}->${target}`;
  let out = ctx.converted.get(key);
  if (!out) {
    const perm = target === 'nchw' ? TO_NCHW : TO_NHWC;
    out = ctx.emit('Transpose', [v], `${v.name}_${target}`, { ...v, layout: target }, { perm: attr.ints(perm) });
    ctx.converted.set(key, out);
    // The way back is free: remember the source.
    ctx.converted.set(`${out.name}->${v.layout}`, v);
  }
  return out;
}

/** The value in TF's own axis order. */
export function logical(ctx: TranslationContext, v: Value): Value {
  return toLayout(ctx, v, 'nhwc');
}

/** Physical axis of a logical axis. */
export function physicalAxis(v: Pick<Value, 'shape' | 'layout'>, logicalAxis: number): number {
  const a = logicalAxis < 0 ? logicalAxis + v.shape.length : logicalAxis;
  return v.layout === 'nchw' ? TO_NCHW.indexOf(a) : a;
}

export function broadcastShapes(node: TfNodeDef, shapes: number[][]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const o = rank - s.length + i;
      if (s[i] === out[o] || s[i] === 1) continue;
      if (out[o] === 1) out[o] = s[i];
      else throw new CompileError(`${node.op} ${node.name}: shapes ${shapes.map((x) => `[${x}]`).join(' and ')} do not broadcast`);
    }
  }
  return out;
}

/**
 * Prepares the operands of an elementwise op: the common layout (NCHW when a rank-4 operand already is),
 * operands of lower rank lifted to rank 4 so they broadcast in that layout (per-channel constants become
 * [1,C,1,1]), and the batch axis of the result.
 */
export function alignElementwise(
  ctx: TranslationContext,
  node: TfNodeDef,
  operands: Value[],
): { operands: Value[]; shape: number[]; layout: Layout; batchAxis: number | null } {
  const shape = broadcastShapes(node, operands.map((v) => v.shape));
  const rank = shape.length;
  let batchAxis: number | null = null;
  for (const v of operands) {
    if (v.batchAxis === null) continue;
    const aligned = v.batchAxis + rank - v.shape.length;
    if (batchAxis !== null && batchAxis !== aligned) ctx.loseBatch(node, 'operands carry the batch on different axes');
    batchAxis = aligned;
  }
  const wantsNchw = rank === 4 && operands.some((v) => v.shape.length === 4 && !v.constant && v.layout === 'nchw');
  if (!wantsNchw) return { operands: operands.map((v) => logical(ctx, v)), shape, layout: 'nhwc', batchAxis };
  const aligned = operands.map((v) => {
    if (v.shape.length === 4) return toLayout(ctx, v, 'nchw');
    if (v.shape.every((d) => d === 1)) return v; // a scalar broadcasts in any layout
    const lifted = [...new Array<number>(4 - v.shape.length).fill(1), ...v.shape];
    if (v.constant) {
      // Prepending unit axes keeps the data order; `ctx.name` permutes it when writing the initializer.
      return { ...v, name: '', shape: lifted, constant: { ...v.constant, shape: lifted }, layout: 'nchw' as const };
    }
    const axes = ctx.builder.int64(Array.from({ length: 4 - v.shape.length }, (_, k) => k));
    const up = ctx.emit('Unsqueeze', [ctx.name(v), axes], `${v.name}_rank4`, {
      ...v,
      shape: lifted,
      layout: 'nhwc',
      batchAxis: v.batchAxis === null ? null : v.batchAxis + 4 - v.shape.length,
    });
    return toLayout(ctx, up, 'nchw');
  });
  return { operands: aligned, shape, layout: 'nchw', batchAxis };
}
