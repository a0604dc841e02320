import { expect } from 'chai';
import { validateModelSpec } from '../../../operator/reconcile/modelValidation.js';
import { model } from './fixtures.js';

const problems = (overrides: Parameters<typeof model>[1]) => validateModelSpec(model('m', overrides).spec);

describe('MLModel validation beyond the schema', () => {
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
});
