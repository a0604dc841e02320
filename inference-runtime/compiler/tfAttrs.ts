/** Typed access to TF NodeDef attributes as tfjs stores them in model.json (strings base64, ints as strings). */
import type { TfNodeDef } from './tfjsModel.js';

function decode(s: string): string {
  return Buffer.from(s, 'base64').toString('utf8');
}

export function attrString(node: TfNodeDef, name: string, fallback = ''): string {
  const s = node.attr?.[name]?.s;
  return s === undefined ? fallback : decode(s);
}

export function attrStrings(node: TfNodeDef, name: string): string[] {
  return (node.attr?.[name]?.list?.s ?? []).map(decode);
}

export function attrInt(node: TfNodeDef, name: string, fallback = 0): number {
  const i = node.attr?.[name]?.i;
  return i === undefined ? fallback : Number(i);
}

export function attrInts(node: TfNodeDef, name: string, fallback: number[] = []): number[] {
  const list = node.attr?.[name]?.list?.i;
  return list === undefined || list.length === 0 ? fallback : list.map(Number);
}

export function attrFloat(node: TfNodeDef, name: string, fallback = 0): number {
  const f = node.attr?.[name]?.f;
  return f === undefined ? fallback : Number(f);
}

export function attrBool(node: TfNodeDef, name: string, fallback = false): boolean {
  const b = node.attr?.[name]?.b;
  return b === undefined ? fallback : Boolean(b);
}

/** TF DataType enum name, e.g. `DT_FLOAT`. */
export function attrType(node: TfNodeDef, name: string): string | undefined {
  return node.attr?.[name]?.type;
}
