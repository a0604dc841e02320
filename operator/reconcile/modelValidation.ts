/**
 * Checks of an MLModel spec: the schema's verdict (the one the CRD and the runtime share), then what no schema
 * can express. Each problem names the field and what to do. What a task requires (its id, frameworks, labels,
 * preprocessing) comes from the runtime's task specs, the same rules its task modules carry when the runtime
 * loads models (tasks/specs.ts, tasks/table.ts); which file a framework's engine loads comes from the runtime's
 * engine table (backends/backendSelection.ts).
 */
import { entryFileProblem } from '../../inference-runtime/backends/backendSelection.js';
import { PoolConfigError, validatePoolConfig } from '../../inference-runtime/config/poolConfig.js';
import { redactText } from '../../inference-runtime/repository/redact.js';
import { specs as runtimeTasks, type TaskIndex } from '../../inference-runtime/tasks/specs.js';
import type { TaskSpec } from '../../inference-runtime/tasks/task.js';
import type { MLModelSpec } from '../api/types.js';

export interface SpecProblem {
  reason: 'InvalidSpec' | 'InvalidTask' | 'InvalidSource' | 'InvalidLabels' | 'InvalidPreprocessing';
  field: string;
  message: string;
}

function hasDotSegment(p: string): boolean {
  return p.split('/').some((seg) => seg === '..' || seg === '.');
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
    if (pkg.length > 214) return problem(`"${uri}": "${pkg}" is longer than an npm package name may be (214 characters)`);
    if (entryPath.startsWith('/') || hasDotSegment(entryPath) || entryPath.includes('//')) return problem(`"${uri}": the path inside the package must be relative and must not contain "." or ".." segments`);
  } else if (uri.startsWith('file:')) {
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
  const entryProblem = entryFileProblem(spec.framework, entryPath);
  return entryProblem ? problem(`"${uri}": ${entryProblem}`) : [];
}

/** The task's spec, or the problem of a task id no runtime module serves. */
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
  // A task with its own label rule (a recogniser's CTC classes, a language pair) says everything itself.
  if (task?.checkLabels) return task.checkLabels(labels).map((message) => ({ reason: 'InvalidLabels', field: 'spec.labels', message }));
  if (!labels) {
    return rule?.required ? [{ reason: 'InvalidLabels', field: 'spec.labels', message: `task ${spec.task} needs labels (${rule.note})` }] : [];
  }
  const out: SpecProblem[] = [];
  const blank = labels.findIndex((l) => l.trim() === '');
  if (blank >= 0) out.push({ reason: 'InvalidLabels', field: `spec.labels[${blank}]`, message: `labels[${blank}] is blank; name every class of task ${spec.task}` });
  if (rule?.count !== undefined && labels.length !== rule.count) {
    out.push({ reason: 'InvalidLabels', field: 'spec.labels', message: `task ${spec.task} has ${rule.count} labels (${rule.note}); got ${labels.length}` });
  }
  return out;
}

function checkPreprocessing(spec: MLModelSpec, task: TaskSpec | undefined): SpecProblem[] {
  if (spec.preprocessing || task?.preprocessing !== 'required') return [];
  return [{ reason: 'InvalidPreprocessing', field: 'spec.preprocessing', message: `task ${spec.task} needs preprocessing (input size, colour, normalisation)` }];
}

/**
 * The schema's verdict. The API server checks new writes against it; an object stored under an older CRD was
 * not, and one bad entry makes the runtime refuse its whole pool file, so it is refused here instead.
 */
function checkSchema(spec: MLModelSpec): SpecProblem[] {
  try {
    validatePoolConfig({ models: [{ name: 'm', ...spec }] });
    return [];
  } catch (err) {
    if (!(err instanceof PoolConfigError)) throw err;
    return err.issues.map((i) => ({ reason: 'InvalidSpec', field: i.path.replace(/^models\[0\]\.?/, 'spec.').replace(/\.$/, ''), message: redactText(i.message) }));
  }
}

/** Every problem of a spec: the schema's, else the task's first (`table`: the runtime's task specs unless given). */
export function validateModelSpec(spec: MLModelSpec, table: TaskIndex<TaskSpec> = runtimeTasks): SpecProblem[] {
  const invalid = checkSchema(spec);
  // The checks below read the spec as its type says: only once the schema holds.
  if (invalid.length) return invalid;
  const { task, problems } = checkTask(spec, table);
  return [...problems, ...checkSource(spec), ...checkLabels(spec, task), ...checkPreprocessing(spec, task)];
}

export function describeProblems(problems: SpecProblem[]): string {
  return problems.map((p) => `${p.field}: ${p.message}`).join('; ');
}
