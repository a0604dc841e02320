import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { loadAll } from 'js-yaml';
import { ocrModels } from '../../../inference-runtime/config/defaultPool.js';
import type { MLModelSpec } from '../../../operator/api/types.js';
import { validateModelSpec } from '../../../operator/reconcile/modelValidation.js';

interface Manifest {
  kind: string;
  metadata: { name: string };
  spec: MLModelSpec & { models?: { name: string }[] };
}

describe('examples/text-recognition', () => {
  const docs = loadAll(readFileSync('examples/text-recognition/text-recognition.yaml', 'utf8')) as Manifest[];
  const models = docs.filter((d) => d.kind === 'MLModel');

  it('declares the built-in pool\'s OCR models: same tasks, sources, digests and labels (6625 CTC classes)', () => {
    const builtIn = ocrModels();
    expect(models.map((m) => m.metadata.name)).to.deep.equal(builtIn.map((m) => m.name));
    models.forEach((m, i) => {
      const b = builtIn[i];
      expect(m.spec.task).to.equal(b.task);
      expect(m.spec.version).to.equal(b.version);
      expect(m.spec.source).to.deep.equal({ uri: b.source.uri, sha256: b.source.sha256 });
      expect(m.spec.labels).to.deep.equal(b.labels);
    });
    expect(models[2].spec.labels).to.have.length(6625);
  });

  it('passes the operator\'s checks, and the MLService names the three models', () => {
    for (const m of models) expect(validateModelSpec(m.spec), m.metadata.name).to.deep.equal([]);
    const service = docs.find((d) => d.kind === 'MLService');
    expect(service?.spec.models?.map((m) => m.name)).to.deep.equal(['text-detector', 'text-orientation', 'text-recognizer']);
  });
});
