import { expect } from 'chai';
import fc from 'fast-check';
import { validateModelSpec } from '../../../operator/reconcile/modelValidation.js';
import { TaskIndex, specs as tasks } from '../../../inference-runtime/tasks/specs.js';
import type { TaskSpec } from '../../../inference-runtime/tasks/task.js';
import { model } from './fixtures.js';

const problems = (overrides: Parameters<typeof model>[1]) => validateModelSpec(model('m', overrides).spec);

describe('MLModel validation beyond the schema', () => {
  it('accepts the built-in pool models', () => {
    expect(problems({})).to.deep.equal([]);
    expect(problems({ task: 'vision/face-detection', labels: undefined, source: { uri: 'npm:@vladmandic/human/models/blazeface.json' } })).to.deep.equal([]);
    expect(problems({ framework: 'onnx', source: { uri: 'https://models.example.org/emotion/model.onnx', sha256: 'a'.repeat(64) } })).to.deep.equal([]);
    expect(problems({ source: { uri: 'file:///var/lib/models/emotion/model.json' } })).to.deep.equal([]);
  });

  for (const uri of ['npm:', 'npm:@vladmandic/human', 'npm:Human/models/x.json', 'npm:@vladmandic/human/../secrets/model.json', 'npm:human//model.json']) {
    it(`refuses the npm source ${uri}`, () => {
      const p = problems({ source: { uri } });
      expect(p).to.have.length(1);
      expect(p[0]).to.include({ reason: 'InvalidSource', field: 'spec.source.uri' });
    });
  }

  for (const uri of ['file://models/model.json', 'file:///', 'file:///models/../etc/model.json', 'file:model.json']) {
    it(`refuses the file source ${uri}`, () => {
      expect(problems({ source: { uri } })[0]?.reason).to.equal('InvalidSource');
    });
  }

  it('refuses URLs with credentials and entry files the framework cannot load', () => {
    const withCredentials = problems({ source: { uri: 'https://user:SECRET@host/model.json?token=SECRET' } })[0]?.message;
    expect(withCredentials).to.match(/credentials/);
    // The refusal becomes a condition and an Event: it names the URL without what made it secret.
    expect(withCredentials).to.contain('https://***@host/model.json?***').and.not.contain('SECRET');
    expect(problems({ source: { uri: 'https://host/model.onnx?X-Amz-Signature=SECRET' } })[0]?.message).not.to.contain('SECRET');
    expect(problems({ source: { uri: 'https://host/model.onnx' } })[0]?.message).to.match(/tfjs-graph loads a \.json entry file/);
  });

  it('requires the 7 FER2013 labels for facial expression', () => {
    const p = problems({ labels: ['happy', 'sad'] });
    expect(p).to.have.length(1);
    expect(p[0]).to.include({ reason: 'InvalidLabels', field: 'spec.labels' });
    expect(p[0]!.message).to.match(/has 7 labels .* got 2/);
  });

  it('refuses duplicate and empty labels', () => {
    expect(problems({ labels: ['a', 'b', 'c', 'd', 'e', 'f', 'a'] })[0]?.message).to.match(/duplicate labels.*a/);
    expect(problems({ task: 'vision/object-detection', labels: ['person', ' '] })[0]?.message).to.match(/empty/);
  });

  it('checks mean/std against the colour channels', () => {
    const p = problems({ preprocessing: { width: 64, height: 64, colour: 'grayscale', mean: [0.5, 0.5, 0.5] } });
    expect(p[0]).to.include({ reason: 'InvalidPreprocessing', field: 'spec.preprocessing.mean' });
    expect(problems({ preprocessing: { width: 64, height: 64, colour: 'rgb', mean: [0.5], std: [0.2, 0.2, 0.2] } })).to.deep.equal([]);
  });

  describe('from the runtime task table', () => {
    it('accepts every task the runtime serves, with a framework the task takes', () => {
      for (const task of tasks.modules) {
        const spec = model('m', { task: task.id, labels: undefined, preprocessing: undefined }).spec;
        const p = validateModelSpec({ ...spec, framework: task.frameworks[0], source: { uri: task.frameworks[0] === 'onnx' ? 'https://h/m.onnx' : 'https://h/m.json' } });
        expect(p.filter((x) => x.reason === 'InvalidTask'), task.id).to.deep.equal([]);
      }
    });

    it('refuses any well-formed task id no runtime module serves, naming the known ones', () => {
      fc.assert(
        fc.property(fc.stringMatching(/^[a-z][a-z0-9-]{0,12}\/[a-z][a-z0-9-]{0,16}$/), (id) => {
          fc.pre(tasks.get(id) === undefined);
          const [first] = problems({ task: id });
          expect(first).to.include({ reason: 'InvalidTask', field: 'spec.task' });
          expect(first!.message).to.contain(id).and.to.contain('vision/facial-expression');
        }),
      );
    });

    it("applies a task's frameworks, required labels and required preprocessing", () => {
      const speech: TaskSpec = {
        id: 'speech/keyword-spotting',
        summary: 'test task',
        frameworks: ['onnx'],
        labels: { required: true, note: 'the keywords in output order' },
        preprocessing: 'required',
      };
      const table = new TaskIndex([speech]);
      const spec = model('m', { task: speech.id, labels: undefined, preprocessing: undefined, framework: 'onnx', source: { uri: 'https://h/m.onnx' } }).spec;
      expect(validateModelSpec(spec, table).map((p) => `${p.reason} ${p.field}`)).to.deep.equal(['InvalidLabels spec.labels', 'InvalidPreprocessing spec.preprocessing']);
      expect(validateModelSpec({ ...spec, framework: 'tfjs-graph', source: { uri: 'https://h/m.json' } }, table)[0]).to.include({ reason: 'InvalidTask', field: 'spec.framework' });
      expect(validateModelSpec({ ...spec, labels: ['yes', 'no'], preprocessing: { width: 1, height: 1, colour: 'grayscale' } }, table)).to.deep.equal([]);
    });
  });
});
