/**
 * Checks of an MLModel spec that the CRD schema cannot express. Each problem names the field and what to do.
 * What a task requires (its id, frameworks, labels, preprocessing) comes from the runtime's task specs, the
 * same rules its task modules carry when the runtime loads models (tasks/specs.ts, tasks/table.ts).
 */
import { redactText } from '../../inference-runtime/repository/redact.js';
import { specs as runtimeTasks, type TaskIndex } from '../../inference-runtime/tasks/specs.js';
import type { TaskSpec } from '../../inference-runtime/tasks/task.js';
import type { MLModelSpec } from '../api/types.js';

export interface SpecProblem {
  reason: 'InvalidTask' | 'InvalidSource' | 'InvalidLabels' | 'InvalidPreprocessing';
  field: string;
  message: string;
}

const NPM_NAME = /^(@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/;

function hasDotSegment(p: string): boolean {
  return p.split('/').some((seg) => seg === '..' || seg === '.');
}

function entryExtension(framework: MLModelSpec['framework']): string {
  return framework === 'onnx' ? '.onnx' : '.json';
}

function checkSource(spec: MLModelSpec): SpecProblem[] {
  const uri = spec.source.uri;
  // Messages become conditions and Events, which more people may read than the spec: no token, no password.
  const problem = (message: string): SpecProblem[] => [{ reason: 'InvalidSource', field: 'spec.source.uri', message: redactText(message) }];
  let entryPath: string;
  if (uri.startsWith('npm:')) {
    const rest = uri.slice(4);
    const parts = rest.split('/');
    const pkgParts = rest.startsWith('@') ? 2 : 1;
    const pkg = parts.slice(0, pkgParts).join('/');
    entryPath = parts.slice(pkgParts).join('/');
    if (!NPM_NAME.test(pkg) || pkg.length > 214) return problem(`"${uri}": "${pkg}" is not a valid npm package name; expected npm:<package>/<path>, e.g. npm:@vladmandic/human/models/emotion.json`);
    if (!entryPath) return problem(`"${uri}" names no file inside the package; expected npm:<package>/<path>`);
    if (entryPath.startsWith('/') || hasDotSegment(entryPath) || entryPath.includes('//')) return problem(`"${uri}": the path inside the package must be relative and must not contain "." or ".." segments`);
  } else if (uri.startsWith('file:')) {
    if (!uri.startsWith('file:///') && !uri.startsWith('file://localhost/')) return problem(`"${uri}" is not an absolute local file URI; write file:///absolute/path/model.json`);
    let url: URL;
    try {
      url = new URL(uri);
    } catch {
      return problem(`"${uri}" is not a well-formed file URI`);
    }
    entryPath = decodeURIComponent(url.pathname);
    if (hasDotSegment(uri.slice('file://'.length)) || entryPath === '/' || entryPath.endsWith('/')) return problem(`"${uri}" must name a file by an absolute path without "." or ".." segments`);
  } else {
    let url: URL;
    try {
      url = new URL(uri);
    } catch {
      return problem(`"${uri}" is not a well-formed URL`);
    }
    if (!url.hostname) return problem(`"${uri}" has no host`);
    if (url.username || url.password) return problem(`"${uri}" embeds credentials; they would be visible to anyone who can read the MLModel`);
    entryPath = url.pathname;
  }
  const ext = entryExtension(spec.framework);
  if (!entryPath.toLowerCase().endsWith(ext)) return problem(`"${uri}": framework ${spec.framework} loads a ${ext} entry file (${ext === '.json' ? 'model.json' : 'model.onnx'})`);
  return [];
}

/** The task's module, or the problem of a task id no runtime module serves. */
function checkTask(spec: MLModelSpec, table: TaskIndex<TaskSpec>): { task?: TaskSpec; problems: SpecProblem[] } {
  const task = table.get(spec.task);
  if (!task) {
    return {
      problems: [{ reason: 'InvalidTask', field: 'spec.task', message: `no runtime serves task ${spec.task}; known tasks: ${table.ids().join(', ')}` }],
    };
  }
  if (!task.frameworks.includes(spec.framework)) {
    return { task, problems: [{ reason: 'InvalidTask', field: 'spec.framework', message: `task ${spec.task} is served from ${task.frameworks.join(', ')} models, not ${spec.framework}` }] };
  }
  return { task, problems: [] };
}

function checkLabels(spec: MLModelSpec, task: TaskSpec | undefined): SpecProblem[] {
  const labels = spec.labels;
  const rule = task?.labels;
  if (!labels) {
    return rule?.required ? [{ reason: 'InvalidLabels', field: 'spec.labels', message: `task ${spec.task} needs labels (${rule.note})` }] : [];
  }
  const out: SpecProblem[] = [];
  if (rule?.count !== undefined && labels.length !== rule.count) {
    out.push({ reason: 'InvalidLabels', field: 'spec.labels', message: `task ${spec.task} has ${rule.count} labels (${rule.note}); got ${labels.length}` });
  }
  if (labels.some((l) => l.trim() === '')) out.push({ reason: 'InvalidLabels', field: 'spec.labels', message: 'labels must not be empty strings' });
  const dupes = labels.filter((l, i) => labels.indexOf(l) !== i);
  if (dupes.length) out.push({ reason: 'InvalidLabels', field: 'spec.labels', message: `duplicate labels make outputs ambiguous: ${[...new Set(dupes)].join(', ')}` });
  return out;
}

function checkPreprocessing(spec: MLModelSpec, task: TaskSpec | undefined): SpecProblem[] {
  const p = spec.preprocessing;
  if (!p) {
    return task?.preprocessing === 'required'
      ? [{ reason: 'InvalidPreprocessing', field: 'spec.preprocessing', message: `task ${spec.task} needs preprocessing (input size, colour, normalisation)` }]
      : [];
  }
  const channels = p.colour === 'grayscale' ? 1 : 3;
  const out: SpecProblem[] = [];
  for (const field of ['mean', 'std'] as const) {
    const v = p[field];
    if (v && v.length !== 1 && v.length !== channels) {
      out.push({ reason: 'InvalidPreprocessing', field: `spec.preprocessing.${field}`, message: `${field} has ${v.length} values; colour ${p.colour} has ${channels} channel(s) (give 1 or ${channels})` });
    }
  }
  return out;
}

/** Every problem of a spec, the task's first (`table`: the runtime's task table unless given). */
export function validateModelSpec(spec: MLModelSpec, table: TaskIndex<TaskSpec> = runtimeTasks): SpecProblem[] {
  const { task, problems } = checkTask(spec, table);
  return [...problems, ...checkSource(spec), ...checkLabels(spec, task), ...checkPreprocessing(spec, task)];
}

export function describeProblems(problems: SpecProblem[]): string {
  return problems.map((p) => `${p.field}: ${p.message}`).join('; ');
}
