import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import type { ModelFiles } from '../../../../../inference-runtime/backends/backend.js';
import { PocketSphinxBackend } from '../../../../../inference-runtime/backends/pocketsphinx/pocketsphinxBackend.js';
import { SPEECH_RECOGNISER } from '../../../../../inference-runtime/config/defaultPool.js';
import { resample } from '../../../../../inference-runtime/speech/resample.js';
import { DICTATION, speechInputs } from '../../../../../inference-runtime/speech/signature.js';
import { decodeWav } from '../../../../../inference-runtime/speech/wav.js';
import { speak, TEST_VOICES } from '../../../../helpers/speechSynthesis.js';

const files: ModelFiles = { entryPath: fileURLToPath(SPEECH_RECOGNISER.source.uri), sha256: '', files: {}, dir: '', workDir: '', origin: 'source' };

describe('PocketSphinx backend: a model phrase list', function () {
  this.timeout(120_000);

  it('constrains recognition to the model labels unless a request asks for dictation', async () => {
    const labels = ['play some jazz', 'stop the music', 'turn off the bedroom lights'];
    const model = await new PocketSphinxBackend().load({ ...SPEECH_RECOGNISER, labels }, files);
    try {
      const wav = decodeWav(await speak('stop the music', TEST_VOICES[2]), { maxSeconds: 30 });
      const samples = resample(wav.samples, wav.sampleRate, 16_000);
      const constrained = await model.infer(speechInputs(samples, ''));
      expect(constrained.text.data).to.deep.equal(['stop the music']);
      expect(constrained.words.data).to.deep.equal(['stop', 'the', 'music']);
      expect(constrained.word_times.shape).to.deep.equal([3, 2]);
      const open = await model.infer(speechInputs(samples, DICTATION));
      expect(open.text.shape).to.deep.equal([1]);
    } finally {
      await model.dispose();
    }
  });

  it('refuses to load a phrase list with words the dictionary lacks, naming them', async () => {
    const err = await new PocketSphinxBackend()
      .load({ ...SPEECH_RECOGNISER, labels: ['play some jazz', 'blorptastic music'] }, files)
      .then(() => undefined, (e: unknown) => e);
    expect((err as Error).message).to.match(/not in the pronunciation dictionary: blorptastic/);
  });

  it('refuses a remote source: the acoustic model folder is read beside the dictionary', async () => {
    const err = await new PocketSphinxBackend()
      .load({ ...SPEECH_RECOGNISER, source: { uri: 'https://models.example.org/en-us/cmudict-en-us.dict' } }, files)
      .then(() => undefined, (e: unknown) => e);
    expect((err as Error).message).to.match(/needs a local source/);
  });
});
