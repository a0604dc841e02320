import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { load } from 'js-yaml';
import { CROSS_FIELD_KEYWORD, POOL_SCHEMA } from './poolSchema.js';
import type { PoolConfig } from './types.js';

/** One problem found in a pool file, located by a JS-style path such as `models[1].source.uri`. */
export interface PoolConfigIssue {
  path: string;
  message: string;
}

/** A pool file that cannot be served. The message names every bad field. */
export class PoolConfigError extends Error {
  constructor(
    readonly origin: string,
    readonly issues: PoolConfigIssue[],
  ) {
    super(`invalid pool config ${origin}: ${issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ')}`);
    this.name = 'PoolConfigError';
  }
}

export { POOL_SCHEMA };

let compiled: ValidateFunction<PoolConfig> | undefined;

function validator(): ValidateFunction<PoolConfig> {
  if (!compiled) {
    const ajv = new Ajv2020({ allErrors: true, strict: true });
    // ajv-formats is CommonJS: under NodeNext the default import is its module object, whose `default` is the plugin.
    addFormats.default(ajv);
    ajv.addKeyword(CROSS_FIELD_KEYWORD);
    compiled = ajv.compile<PoolConfig>(POOL_SCHEMA);
  }
  return compiled;
}

/** `/models/1/source/uri` -> `models[1].source.uri` */
function jsPath(pointer: string, child?: string): string {
  const parts = pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (child !== undefined) parts.push(child);
  let out = '';
  for (const p of parts) {
    if (/^\d+$/.test(p)) out += `[${p}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(p)) out += out ? `.${p}` : p;
    else out += `[${JSON.stringify(p)}]`;
  }
  return out;
}

function issueOf(e: ErrorObject): PoolConfigIssue {
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return { path: jsPath(e.instancePath, String(params.missingProperty)), message: 'is required' };
    case 'additionalProperties':
      return { path: jsPath(e.instancePath, String(params.additionalProperty)), message: 'is not a known field' };
    case 'enum':
      return {
        path: jsPath(e.instancePath),
        message: `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
      };
    case 'x-kubernetes-validations': {
      // The rule sits on an object and points at one of its fields (CEL's fieldPath, e.g. `.sha256`).
      const field = String(params.fieldPath ?? '').replace(/^\./, '');
      return { path: jsPath(e.instancePath, field || undefined), message: e.message ?? 'fails a cross-field rule' };
    }
    default:
      return { path: jsPath(e.instancePath), message: e.message ?? `fails ${e.keyword}` };
  }
}

/**
 * Checks across entries (the schema's own cross-field rules ran with it): unique (name, version) pairs, which
 * Kubernetes gets from object names.
 */
function crossEntryIssues(config: PoolConfig): PoolConfigIssue[] {
  const seen = new Map<string, number>();
  const issues: PoolConfigIssue[] = [];
  config.models.forEach((m, i) => {
    const key = `${m.name}@${m.version}`;
    const first = seen.get(key);
    if (first !== undefined) {
      issues.push({ path: `models[${i}]`, message: `duplicates models[${first}] (name "${m.name}", version "${m.version}")` });
    } else {
      seen.set(key, i);
    }
  });
  return issues;
}

/** Validates an already-parsed pool; throws PoolConfigError naming each bad field. */
export function validatePoolConfig(value: unknown, origin = '<inline>'): PoolConfig {
  const validate = validator();
  if (!validate(value)) {
    const issues = (validate.errors ?? []).map(issueOf);
    throw new PoolConfigError(origin, dedupe(issues));
  }
  const issues = crossEntryIssues(value);
  if (issues.length) throw new PoolConfigError(origin, issues);
  return value;
}

function dedupe(issues: PoolConfigIssue[]): PoolConfigIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.path}\u0000${i.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Parses pool text: JSON when the name ends in `.json`, YAML (a superset of JSON) otherwise. */
export function parsePoolConfig(text: string, origin = '<inline>'): PoolConfig {
  let value: unknown;
  try {
    value = origin.toLowerCase().endsWith('.json') ? JSON.parse(text) : load(text, { filename: origin });
  } catch (err) {
    throw new PoolConfigError(origin, [{ path: '', message: `cannot parse: ${(err as Error).message}` }]);
  }
  return validatePoolConfig(value, origin);
}

/** Reads and validates a pool file (YAML or JSON). */
export async function loadPoolConfig(file: string): Promise<PoolConfig> {
  const origin = path.resolve(file);
  let text: string;
  try {
    text = await readFile(origin, 'utf8');
  } catch (err) {
    throw new PoolConfigError(origin, [{ path: '', message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` }]);
  }
  return parsePoolConfig(text, origin);
}
