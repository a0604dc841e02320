/**
 * The pool file's JSON Schema (2020-12), built from the MLModel spec schema in modelSpec.schema.ts, and the
 * ajv keyword that runs its cross-field rules. `npm run schemas:generate` publishes it as pool.schema.json
 * (for editors and readers); the runtime validates with this object.
 */
import type { FuncKeywordDefinition, ErrorObject } from 'ajv';
import type { DataValidateFunction } from 'ajv/dist/types/index.js';
import { BATCHING_SCHEMA, CROSS_FIELD_RULES, MODEL_NAME_SCHEMA, MODEL_SPEC_SCHEMA, type CrossFieldRule } from './modelSpec.schema.js';

type Node = Readonly<Record<string, unknown>>;

/** The pool file is strict where the API server prunes: every object with named fields is closed. */
function closed(node: Node): Node {
  const out: Record<string, unknown> = { ...node };
  if (node.properties) {
    out.properties = Object.fromEntries(Object.entries(node.properties as Record<string, Node>).map(([k, v]) => [k, closed(v)]));
    out.additionalProperties = false;
  }
  if (node.items) out.items = closed(node.items as Node);
  return out;
}

const POOL_MODEL_SCHEMA = closed({
  ...MODEL_SPEC_SCHEMA,
  description: 'One model of the pool: an MLModel spec plus its name.',
  required: ['name', ...MODEL_SPEC_SCHEMA.required],
  properties: { name: MODEL_NAME_SCHEMA, ...MODEL_SPEC_SCHEMA.properties },
});

/** The JSON Schema every pool config is validated against (also what the docs describe). */
export const POOL_SCHEMA: Node = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://mloffload.io/schemas/pool.schema.json',
  title: 'mloffload model pool',
  description:
    'The models an inference runtime serves. Each entry carries the fields of an MLModel spec plus its name. ' +
    'Generated from inference-runtime/config/modelSpec.schema.ts by `npm run schemas:generate`; x-kubernetes-validations are the MLModel CRD\'s CEL rules, which the runtime checks too.',
  type: 'object',
  additionalProperties: false,
  required: ['models'],
  properties: {
    models: { type: 'array', minItems: 1, maxItems: 256, items: POOL_MODEL_SCHEMA },
    batching: closed(BATCHING_SCHEMA),
  },
};

const RULES_BY_CEL = new Map<string, CrossFieldRule>(Object.values(CROSS_FIELD_RULES).map((r: CrossFieldRule) => [r.rule, r]));

/**
 * `x-kubernetes-validations` for ajv: each CEL rule runs as its `holds` twin. A rule without one fails to
 * compile, so a CEL rule cannot reach the CRD without the runtime checking it too.
 */
export const CROSS_FIELD_KEYWORD: FuncKeywordDefinition = {
  keyword: 'x-kubernetes-validations',
  type: 'object',
  schemaType: 'array',
  errors: true,
  compile(rules: ReadonlyArray<{ rule: string }>) {
    const checks = rules.map(({ rule }) => {
      const check = RULES_BY_CEL.get(rule);
      if (!check) throw new Error(`no runtime check for the CEL rule ${JSON.stringify(rule)}: add it to CROSS_FIELD_RULES`);
      return check;
    });
    const validate: DataValidateFunction = (data: Node) => {
      const failed = checks.filter((c) => !c.holds(data));
      validate.errors = failed.map(
        (c): Partial<ErrorObject> => ({ keyword: 'x-kubernetes-validations', message: c.message, params: { rule: c.rule, fieldPath: c.fieldPath ?? '' } }),
      );
      return failed.length === 0;
    };
    return validate;
  },
};
