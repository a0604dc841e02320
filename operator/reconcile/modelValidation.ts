/**
 * Checks of an MLModel spec that the CRD schema cannot express. Each problem names the field and what to do.
 */
import { redactText } from '../../inference-runtime/repository/redact.js';
import type { MLModelSpec } from '../api/types.js';

export interface SpecProblem {
  reason: 'InvalidSource' | 'InvalidLabels' | 'InvalidPreprocessing';
  field: string;
  message: string;
}

/** Label counts a task fixes (the runtime decodes outputs by position). */
export const TASK_LABEL_COUNTS: Record<string, { count: number; note: string }> = {
  'vision/facial-expression': { count: 7, note: 'the FER2013 expressions: angry, disgust, fear, happy, sad, surprise, neutral' },
};

const NPM_NAME = /^(@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/;

function hasDotSegment(p: string): boolean {
  return p.split('/').some((seg) => seg === '..' || seg === '.');
}

/** The entry file each framework loads: a model graph, a pronunciation dictionary (PocketSphinx), a corpus (NLP.js). */
const ENTRY_FILES: Record<MLModelSpec['framework'], { ext: string; example: string }> = {
  'tfjs-graph': { ext: '.json', example: 'model.json' },
  'tfjs-layers': { ext: '.json', example: 'model.json' },
  onnx: { ext: '.onnx', example: 'model.onnx' },
  pocketsphinx: { ext: '.dict', example: 'the pronunciation dictionary next to the acoustic model folder, e.g. cmudict-en-us.dict' },
  nlpjs: { ext: '.json', example: 'a corpus, e.g. smart-home.json' },
};

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
  const { ext, example } = ENTRY_FILES[spec.framework];
  if (!entryPath.toLowerCase().endsWith(ext)) return problem(`"${uri}": framework ${spec.framework} loads a ${ext} entry file (${example})`);
  return [];
}

function checkLabels(spec: MLModelSpec): SpecProblem[] {
  const labels = spec.labels;
  if (!labels) return [];
  const out: SpecProblem[] = [];
  const expected = TASK_LABEL_COUNTS[spec.task];
  if (expected && labels.length !== expected.count) {
    out.push({ reason: 'InvalidLabels', field: 'spec.labels', message: `task ${spec.task} has ${expected.count} labels (${expected.note}); got ${labels.length}` });
  }
  if (labels.some((l) => l.trim() === '')) out.push({ reason: 'InvalidLabels', field: 'spec.labels', message: 'labels must not be empty strings' });
  const dupes = labels.filter((l, i) => labels.indexOf(l) !== i);
  if (dupes.length) out.push({ reason: 'InvalidLabels', field: 'spec.labels', message: `duplicate labels make outputs ambiguous: ${[...new Set(dupes)].join(', ')}` });
  return out;
}

function checkPreprocessing(spec: MLModelSpec): SpecProblem[] {
  const p = spec.preprocessing;
  if (!p) return [];
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

export function validateModelSpec(spec: MLModelSpec): SpecProblem[] {
  return [...checkSource(spec), ...checkLabels(spec), ...checkPreprocessing(spec)];
}

export function describeProblems(problems: SpecProblem[]): string {
  return problems.map((p) => `${p.field}: ${p.message}`).join('; ');
}
