import type { TaskModelView } from '../task.js';

type Signature = TaskModelView['signature'];

/**
 * Why a model's declared tensors do not fit a task that feeds and reads fixed ones (a process engine's string
 * tensors): each tensor the task needs, by name, dtype and rank, and no input the task would leave unfed.
 * Extra outputs are ignored.
 */
export function signatureMismatch(actual: Signature, expected: Signature, task: string): string[] {
  const problems: string[] = [];
  for (const [kind, want, have] of [
    ['input', expected.inputs, actual.inputs],
    ['output', expected.outputs, actual.outputs],
  ] as const) {
    for (const spec of want) {
      const found = have.find((h) => h.name === spec.name);
      if (!found || found.dtype !== spec.dtype || found.shape.length !== spec.shape.length) {
        problems.push(`task ${task} needs ${kind} ${spec.name} (${spec.dtype} rank ${spec.shape.length})`);
      }
    }
  }
  for (const input of actual.inputs) {
    if (!expected.inputs.some((e) => e.name === input.name)) problems.push(`task ${task} feeds no input ${input.name}`);
  }
  return problems;
}
