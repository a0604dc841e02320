import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { TASK_ID_PATTERN, taskSpecs, TaskIndex } from '../../../../inference-runtime/tasks/specs.js';
import { taskTable } from '../../../../inference-runtime/tasks/table.js';
import type { TaskSpec } from '../../../../inference-runtime/tasks/task.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

/** Files and packages a module loads at run time: value imports only (`import type` is erased). */
function valueImports(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const queue = [path.resolve(repo, entry)];
  while (queue.length) {
    const file = queue.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^\s*(?:import|export)\s+(?!type\b)(?:[^'";]*?\sfrom\s*)?['"]([^'"]+)['"]/gm)) {
      const spec = m[1];
      if (spec.startsWith('.')) queue.push(path.resolve(path.dirname(file), spec).replace(/\.js$/, '.ts'));
      else if (!spec.startsWith('node:')) packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);
    }
  }
  return { files, packages };
}

const specOf = (t: TaskSpec): TaskSpec => ({ id: t.id, summary: t.summary, frameworks: t.frameworks, labels: t.labels, preprocessing: t.preprocessing });

describe('task table', () => {
  it('lists the same tasks, with the same rules, as the specs the operator validates from', () => {
    expect(taskTable.map(specOf)).to.deep.equal(taskSpecs.map(specOf));
  });

  it('holds well-formed, unique ids, and refuses a table that does not', () => {
    for (const t of taskTable) expect(t.id).to.match(TASK_ID_PATTERN);
    expect(() => new TaskIndex([...taskSpecs, taskSpecs[0]])).to.throw(/listed twice/);
    expect(() => new TaskIndex([{ ...taskSpecs[0], id: 'Vision/Faces' }])).to.throw(/not <category>\/<task>/);
  });

  it("keeps the task's code out of the operator: its validation loads the specs, no decoder, engine or HTTP stack", () => {
    const { files, packages } = valueImports('operator/reconcile/modelValidation.ts');
    expect([...packages]).to.not.include.members(['sharp']);
    for (const heavy of ['sharp', '@koa/router', 'koa', '@tensorflow/tfjs', 'onnxruntime-node', 'busboy']) expect([...packages], heavy).to.not.include(heavy);
    expect([...files].map((f) => path.relative(repo, f))).to.include('inference-runtime/tasks/specs.ts').and.not.include('inference-runtime/tasks/table.ts');
    // The entry-file rule comes from beside the engine table, whose engines load on first use only.
    const backends = [...files].map((f) => path.relative(repo, f)).filter((f) => f.startsWith('inference-runtime/backends/'));
    expect(backends).to.deep.equal(['inference-runtime/backends/backendSelection.ts']);
  });
});
