// The generator of the CRDs' schema blocks and the ajv keyword that runs CEL rules' twins.
import { expect } from 'chai';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { load } from 'js-yaml';
import { CROSS_FIELD_KEYWORD } from '../../../inference-runtime/config/poolSchema.js';
import { mlServiceBatchingSchema, renderCrd, structural } from '../../../operator/api/crdSchemas.js';

const crdText = (batching: string) =>
  [
    'apiVersion: apiextensions.k8s.io/v1',
    'kind: CustomResourceDefinition',
    'spec:',
    '  names: { kind: MLService }',
    '  versions:',
    '    - name: v1alpha1',
    '      schema:',
    '        openAPIV3Schema:',
    '          properties:',
    '            spec:',
    '              properties:',
    '                # A comment the generator must keep.',
    '                replicas: { type: integer }',
    '                # generated: mlservice-spec-batching',
    ...batching.split('\n').filter(Boolean),
    '                # end generated: mlservice-spec-batching',
    '                port: { type: integer } # kept too',
    '',
  ].join('\n');

describe('CRD schema generation', () => {
  it('replaces only the marked block, keeps comments and the rest as written, and is idempotent', () => {
    const before = crdText('                batching: { type: string }');
    const after = renderCrd(before);
    expect(after).to.contain('# A comment the generator must keep.').and.to.contain('port: { type: integer } # kept too').and.to.contain('replicas: { type: integer }');
    const doc = load(after) as { spec: { versions: [{ schema: { openAPIV3Schema: { properties: { spec: { properties: Record<string, unknown> } } } } }] } };
    expect(doc.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.batching).to.deep.equal(mlServiceBatchingSchema());
    expect(renderCrd(after)).to.equal(after);
  });

  it('refuses a block it does not know rather than leave it stale', () => {
    expect(() => renderCrd(crdText('').replace(/mlservice-spec-batching/g, 'mystery-block'))).to.throw(/unknown generated block mystery-block/);
  });

  it('turns unique lists into set lists and drops closed-object markers the API server refuses', () => {
    const out = structural({ type: 'object', additionalProperties: false, properties: { l: { type: 'array', uniqueItems: true, items: { type: 'string' } } } });
    expect(out).to.deep.equal({ type: 'object', properties: { l: { type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'set' } } });
  });
});

describe('x-kubernetes-validations in the pool schema', () => {
  it('refuses to compile a CEL rule that has no runtime twin', () => {
    const ajv = new Ajv2020({ strict: true });
    ajv.addKeyword(CROSS_FIELD_KEYWORD);
    expect(() => ajv.compile({ type: 'object', 'x-kubernetes-validations': [{ rule: 'self.a > 0', message: 'a must be positive' }] })).to.throw(/no runtime check for the CEL rule "self\.a > 0"/);
  });
});
