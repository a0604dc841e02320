import { expect } from 'chai';
import { Overloaded } from '../../../../../inference-runtime/core/errors.js';
import { modelLayout } from '../../../../../inference-runtime/backends/pocketsphinx/pocketsphinxBackend.js';
import { RecogniserProcess } from '../../../../../inference-runtime/backends/pocketsphinx/recogniserProcess.js';
import { SPEECH_RECOGNISER } from '../../../../../inference-runtime/config/defaultPool.js';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { speak, TEST_VOICES } from '../../../../helpers/speechSynthesis.js';
import { decodeWav } from '../../../../../inference-runtime/speech/wav.js';
import { resample } from '../../../../../inference-runtime/speech/resample.js';

const script = fileURLToPath(new URL('../../../../../inference-runtime/backends/pocketsphinx/recogniser.py', import.meta.url));

function pcm16(samples: Float32Array): Buffer {
  const out = Buffer.alloc(samples.length * 2);
  samples.forEach((s, i) => out.writeInt16LE(Math.round(s * 32767), i * 2));
  return out;
}

describe('the supervised PocketSphinx recogniser process', function () {
  this.timeout(120_000);
  let recogniser: RecogniserProcess;
  let utterance: Buffer;
  const grammar = '#JSGF V1.0;\ngrammar g;\npublic <c> = ( turn on the kitchen lights ) | ( play some jazz );\n';

  before(async () => {
    const layout = await modelLayout(SPEECH_RECOGNISER);
    recogniser = new RecogniserProcess({
      command: '/usr/bin/python3',
      args: [script, layout.acousticModel, path.join(layout.folder, 'cmudict-en-us.dict'), layout.languageModel],
      backoffMs: 50,
      maxQueue: 2,
    });
    await recogniser.start();
    const wav = decodeWav(await speak('turn on the kitchen lights', TEST_VOICES[0]), { maxSeconds: 30 });
    utterance = pcm16(resample(wav.samples, wav.sampleRate, 16_000));
  });
  after(async () => recogniser?.close());

  it('kills and replaces a process that overruns a request deadline, then answers the next request', async () => {
    const before = recogniser.pid;
    const started = Date.now();
    // Dictation of the utterance takes far longer than 5 ms: the deadline fires mid-recognition.
    const err = await recogniser.recognise(utterance, null, 5).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(Overloaded);
    expect((err as Error).message).to.match(/took longer than 5 ms/);
    expect(Date.now() - started).to.be.below(2_000);
    const answer = await recogniser.recognise(utterance, grammar, 30_000);
    expect(answer.text).to.equal('turn on the kitchen lights');
    expect(recogniser.pid).to.not.equal(before);
    expect(recogniser.starts).to.equal(2);
  });

  it('refuses work beyond its queue at once with 503 instead of queueing without bound', async () => {
    const results = await Promise.allSettled([0, 1, 2, 3, 4].map(() => recogniser.recognise(utterance, grammar, 30_000)));
    const refused = results.filter((r) => r.status === 'rejected');
    expect(refused.length).to.be.at.least(1);
    for (const r of refused) expect((r as PromiseRejectedResult).reason).to.be.instanceOf(Overloaded);
    for (const r of results) if (r.status === 'fulfilled') expect(r.value.text).to.equal('turn on the kitchen lights');
  });

  it('fails a load whose files are wrong with the reason, instead of hanging', async () => {
    const broken = new RecogniserProcess({ command: '/usr/bin/python3', args: [script, '/nonexistent/hmm', '/nonexistent/dict', '/nonexistent/lm'] });
    const err = await broken.start().then(() => undefined, (e: unknown) => e);
    await broken.close();
    expect((err as Error).message).to.match(/exited .* while loading its model/);
  });
});
