// One schema for MLModel (inference-runtime/config/modelSpec.schema.ts): the CRDs in crds/ and in the chart,
// the pool-file schema and the TypeScript types must say what it says. Each check here fails on a drift and
// names the file and the way back (`npm run schemas:generate`, or the type to fix).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { load } from 'js-yaml';
import ts from 'typescript';
import { CROSS_FIELD_RULES, MODEL_NAME_SCHEMA, MODEL_SPEC_SCHEMA } from '../../../inference-runtime/config/modelSpec.schema.js';
import { POOL_SCHEMA } from '../../../inference-runtime/config/poolSchema.js';
import { benchmarkListSchema, mlModelSpecSchema, mlServiceBatchingSchema, structural } from '../../../operator/api/crdSchemas.js';
import { CHART_CRD_DIR, CRD_DIR, generatedFiles } from '../../../operator/api/schemaFiles.js';
import { repoRoot } from '../../env/cacheLayout.js';

interface SchemaNode {
  type?: string;
  description?: string;
  required?: string[];
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  additionalProperties?: SchemaNode | boolean;
  'x-kubernetes-validations'?: Array<{ rule: string }>;
  [k: string]: unknown;
}

interface Crd {
  spec: { names: { kind: string }; versions: Array<{ name: string; schema: { openAPIV3Schema: SchemaNode } }> };
}

const read = (file: string) => readFileSync(path.join(repoRoot, file), 'utf8');
const crd = (dir: string, file: string) => load(read(`${dir}/${file}`)) as Crd;
const root = (c: Crd) => c.spec.versions[0]!.schema.openAPIV3Schema;

/** The schema without its prose: what a drift in meaning changes. */
function meaning(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(meaning);
  if (typeof node !== 'object' || node === null) return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([k]) => k !== 'description')
      .map(([k, v]) => [k, k === 'properties' ? Object.fromEntries(Object.entries(v as object).map(([p, s]) => [p, meaning(s)])) : meaning(v)]),
  );
}

/** Every CEL rule under a schema node. */
function celRules(node: SchemaNode | undefined, out: string[] = []): string[] {
  if (!node) return out;
  for (const r of node['x-kubernetes-validations'] ?? []) out.push(r.rule);
  for (const child of Object.values(node.properties ?? {})) celRules(child, out);
  celRules(node.items, out);
  if (typeof node.additionalProperties === 'object') celRules(node.additionalProperties, out);
  return out;
}

/**
 * Field paths of a schema with whether each is required: `placement.tolerations[].key` -> true/false. Maps
 * (additionalProperties) and opaque objects end the path.
 */
function schemaFields(node: SchemaNode, prefix = '', out = new Map<string, boolean>()): Map<string, boolean> {
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    const p = prefix + name;
    out.set(p, (node.required ?? []).includes(name));
    let inner = child;
    let at = p;
    while (inner.type === 'array' && inner.items) {
      inner = inner.items;
      at += '[]';
    }
    if (inner.properties) schemaFields(inner, `${at}.`, out);
  }
  return out;
}

/** The same for a TypeScript type, read by the compiler from the operator's API types. */
function typeFields(checker: ts.TypeChecker, type: ts.Type, prefix = '', out = new Map<string, boolean>(), depth = 0): Map<string, boolean> {
  if (depth > 8) return out;
  for (const prop of checker.getPropertiesOfType(type)) {
    const p = prefix + prop.name;
    out.set(p, (prop.flags & ts.SymbolFlags.Optional) === 0);
    let inner = checker.getNonNullableType(checker.getTypeOfSymbol(prop));
    let at = p;
    while (checker.isArrayType(inner)) {
      inner = checker.getTypeArguments(inner as ts.TypeReference)[0]!;
      at += '[]';
    }
    const isObject = (inner.flags & ts.TypeFlags.Object) !== 0 && !checker.isTupleType(inner) && !checker.getIndexInfoOfType(inner, ts.IndexKind.String);
    if (isObject) typeFields(checker, inner, `${at}.`, out, depth + 1);
  }
  return out;
}

const diff = (a: Map<string, boolean>, b: Map<string, boolean>) => ({
  onlyLeft: [...a.keys()].filter((k) => !b.has(k)).sort(),
  onlyRight: [...b.keys()].filter((k) => !a.has(k)).sort(),
  requiredDiffers: [...a.keys()].filter((k) => b.has(k) && a.get(k) !== b.get(k)).sort(),
});
const noDiff = { onlyLeft: [], onlyRight: [], requiredDiffers: [] };

describe('one MLModel schema: CRDs, chart, pool schema and types agree with modelSpec.schema.ts', function () {
  // The type checks run the TypeScript compiler.
  this.timeout(120_000);

  it('every generated file holds what its source says (run `npm run schemas:generate` after changing a schema)', () => {
    const files = generatedFiles(repoRoot);
    expect([...files.keys()]).to.include.members([`${CRD_DIR}/mlmodels.mloffload.io.yaml`, `${CHART_CRD_DIR}/mlmodels.mloffload.io.yaml`, 'inference-runtime/config/pool.schema.json']);
    for (const [file, text] of files) expect(read(file), `${file} differs from what npm run schemas:generate writes`).to.equal(text);
  });

  for (const dir of [CRD_DIR, CHART_CRD_DIR]) {
    it(`${dir}: the MLModel spec, status.benchmark and the MLService spec.batching are the sources' (markers kept)`, () => {
      const model = root(crd(dir, 'mlmodels.mloffload.io.yaml'));
      expect(model.properties!.spec, 'spec').to.deep.equal(mlModelSpecSchema());
      expect(model.properties!.status!.properties!.benchmark, 'status.benchmark').to.deep.equal(benchmarkListSchema());
      const service = root(crd(dir, 'mlservices.mloffload.io.yaml'));
      expect(service.properties!.spec!.properties!.batching, 'MLService spec.batching').to.deep.equal(mlServiceBatchingSchema());
    });
  }

  it('the pool schema says of each spec field what the CRD says (modulo closed objects vs pruning)', () => {
    const poolModel = (POOL_SCHEMA as { properties: { models: { items: SchemaNode } } }).properties.models.items;
    const { name, ...specFields } = poolModel.properties!;
    expect(name).to.deep.equal({ ...MODEL_NAME_SCHEMA });
    const poolSpec = structural({ ...poolModel, properties: specFields, required: poolModel.required!.filter((r) => r !== 'name') });
    const crdSpec = root(crd(CRD_DIR, 'mlmodels.mloffload.io.yaml')).properties!.spec;
    expect(meaning(poolSpec)).to.deep.equal(meaning(crdSpec));
    const inFile = JSON.parse(read('inference-runtime/config/pool.schema.json')) as unknown;
    expect(inFile).to.deep.equal(POOL_SCHEMA);
  });

  it('every CEL rule of the MLModel CRD has its runtime twin, and every twin is placed', () => {
    const inCrd = celRules(root(crd(CRD_DIR, 'mlmodels.mloffload.io.yaml')).properties!.spec).sort();
    expect(inCrd).to.deep.equal(Object.values(CROSS_FIELD_RULES).map((r) => r.rule).sort());
  });

  it('the framework enum lives in one place', () => {
    const spec = root(crd(CRD_DIR, 'mlmodels.mloffload.io.yaml')).properties!.spec!;
    expect(spec.properties!.framework!.enum).to.deep.equal([...MODEL_SPEC_SCHEMA.properties.framework.enum]);
    const poolModel = (POOL_SCHEMA as { properties: { models: { items: SchemaNode } } }).properties.models.items;
    expect(poolModel.properties!.framework!.enum).to.deep.equal(spec.properties!.framework!.enum);
  });

  describe('TypeScript types', () => {
    let program: ts.Program;
    const files = ['inference-runtime/config/types.ts', 'operator/api/types.ts'].map((f) => path.join(repoRoot, f));
    before(() => {
      const config = ts.getParsedCommandLineOfConfigFile(path.join(repoRoot, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => expect.fail(String(d.messageText)) })!;
      program = ts.createProgram(files, { ...config.options, noEmit: true });
    });

    it('the runtime and operator types equal the schemas (the compile-time checks in both types.ts files hold)', () => {
      for (const file of files) {
        const diagnostics = program.getSemanticDiagnostics(program.getSourceFile(file)).concat(program.getSyntacticDiagnostics(program.getSourceFile(file)));
        const text = diagnostics.map((d) => `${path.relative(repoRoot, d.file?.fileName ?? '')}:${d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line + 1 : '?'} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
        expect(text, `${path.relative(repoRoot, file)} disagrees with its schema`).to.deep.equal([]);
      }
    });

    const typeOf = (name: string): ts.Type => {
      const checker = program.getTypeChecker();
      const sf = program.getSourceFile(files[1]!)!;
      const exported = checker.getExportsOfModule(checker.getSymbolAtLocation(sf)!).find((s) => s.name === name);
      expect(exported, name).to.not.equal(undefined);
      const symbol = exported!.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported!) : exported!;
      return checker.getDeclaredTypeOfSymbol(symbol);
    };

    for (const [kind, file, parts] of [
      ['MLModel', 'mlmodels.mloffload.io.yaml', [['spec', 'MLModelSpec'], ['status', 'MLModelStatus']]],
      ['MLService', 'mlservices.mloffload.io.yaml', [['spec', 'MLServiceSpec'], ['status', 'MLServiceStatus']]],
    ] as const) {
      for (const [part, typeName] of parts) {
        it(`${kind} ${part}: the CRD and ${typeName} name the same fields, required alike`, () => {
          const fromCrd = schemaFields(root(crd(CRD_DIR, file)).properties![part]!);
          const fromType = typeFields(program.getTypeChecker(), typeOf(typeName));
          const d = diff(fromCrd, fromType);
          expect({ onlyInCrd: d.onlyLeft, onlyInType: d.onlyRight, requiredDiffers: d.requiredDiffers }).to.deep.equal({
            onlyInCrd: noDiff.onlyLeft,
            onlyInType: noDiff.onlyRight,
            requiredDiffers: noDiff.requiredDiffers,
          });
        });
      }
    }
  });
});
