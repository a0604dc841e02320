// The inference-runtime image serving the built-in speech recogniser and smart-home dialog corpus as MLModels,
// run with podman the way the kubelet runs the Deployment the operator writes for them (uid 1000, read-only
// root, dropped capabilities, the pool from the mounted ConfigMap file): Debian's python3 drives
// libpocketsphinx3 through recogniser.py inside the image, and NLP.js trains on the corpus the image carries.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { DIALOG_SMART_HOME, SPEECH_RECOGNISER } from '../../../inference-runtime/config/defaultPool.js';
import type { PoolModel } from '../../../inference-runtime/config/types.js';
import { parseCorpus } from '../../../inference-runtime/dialog/corpus.js';
import { validateModelSpec } from '../../../operator/reconcile/modelValidation.js';
import { type RunningImage, type TestImage, imageBuildTimeout, imageOrSkip, scratchDir } from '../../helpers/containerImages.js';
import { deployImage, imageAssetPath, mlModelOf } from '../../helpers/imageDeployment.js';
import { TEST_VOICES, speak } from '../../helpers/speechSynthesis.js';

const NAMESPACE = 'speech-image-test';
const CORPUS = 'inference-runtime/config/corpora/smart-home.json';
const UTTERANCE = 'turn on the kitchen lights';

/** The corpus's intent for switching a room's lights on, by the utterance pattern that names it. */
const LIGHTS_ON = parseCorpus(readFileSync(join(process.cwd(), CORPUS), 'utf8')).data.find((d) => d.utterances.includes('turn on the @room lights'))!.intent;

/** The compiled built-in pool's corpus URI, as the runtime inside the image resolves it. */
async function imageCorpusUri(image: TestImage): Promise<string> {
  const script = `const m = await import('${image.config.workdir}/dist/inference-runtime/config/defaultPool.js'); console.log(m.DIALOG_SMART_HOME.source.uri);`;
  const out = await image.engine.podman(['run', '--rm', '--read-only', '--user', image.config.user, '--entrypoint', image.config.entrypoint[0], image.manifest.ref, '--input-type=module', '-e', script]);
  return out.trim();
}

async function postJson<T>(url: string, body: unknown): Promise<{ status: number; body: T & { error?: string } }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(60_000) });
  return { status: res.status, body: (await res.json()) as T & { error?: string } };
}

interface IntentAnswer {
  intent: { name: string; score: number };
  entities: { entity: string; option: string }[];
}

describe('inference-runtime image: speech recognition and dialog (podman)', function () {
  this.timeout(300_000);
  let image: TestImage;
  let container: RunningImage | undefined;
  let base: string;
  let wav: Buffer;
  let corpusUri: string;
  let models: ReturnType<typeof mlModelOf>[];
  const work = scratchDir('mloffload-speech-image-');

  before(async function () {
    this.timeout(imageBuildTimeout);
    image = await imageOrSkip(this, 'inference-runtime');
    wav = await speak(UTTERANCE, TEST_VOICES[0]!);
    // In the image the corpus sits beside the compiled pool, not under the repository's source tree: the pool
    // names the file the image's own built-in pool names.
    corpusUri = await imageCorpusUri(image);
    const dialog: PoolModel = { ...DIALOG_SMART_HOME, source: { ...DIALOG_SMART_HOME.source, uri: corpusUri } };
    models = [mlModelOf(SPEECH_RECOGNISER, NAMESPACE), mlModelOf(dialog, NAMESPACE)];
    ({ container, base } = await deployImage({ image, service: 'speech', namespace: NAMESPACE, models, root: work.dir }));
  });

  after(async function () {
    this.timeout(60_000);
    await container?.stop();
    work.remove();
  });

  it('names the corpus where the image build copies it, and accepts both entries as MLModels', () => {
    expect(corpusUri).to.equal(`file://${imageAssetPath('inference-runtime', CORPUS)}`);
    for (const m of models) expect(validateModelSpec(m.spec), m.metadata.name).to.deep.equal([]);
  });

  it('transcribes espeak-ng speech under a phrase list', async () => {
    const { status, body } = await postJson<{ text: string; constraint: string; words: { word: string }[]; model: { backend: string } }>(`${base}/v1/speech/transcriptions`, {
      audio: { b64: wav.toString('base64') },
      phrases: [UTTERANCE, 'turn off the kitchen lights', 'turn on the bedroom lights'],
    });
    expect(status, body.error).to.equal(200);
    expect(body).to.include({ text: UTTERANCE, constraint: 'phrases' });
    expect(body.words.map((w) => w.word).join(' ')).to.equal(UTTERANCE);
    expect(body.model.backend).to.equal('pocketsphinx');
  });

  it('understands the text as the lights-on intent for the kitchen', async () => {
    const { status, body } = await postJson<IntentAnswer>(`${base}/v1/dialog/messages`, { text: UTTERANCE });
    expect(status, body.error).to.equal(200);
    expect(body.intent.name).to.equal(LIGHTS_ON);
    expect(body.entities.find((e) => e.entity === 'room')).to.include({ option: 'kitchen' });
  });

  it('understands the spoken command the same way (recognised under the corpus grammar)', async () => {
    const res = await fetch(`${base}/v1/dialog/voice`, { method: 'POST', headers: { 'content-type': 'audio/wav' }, body: new Uint8Array(wav), signal: AbortSignal.timeout(60_000) });
    const body = (await res.json()) as IntentAnswer & { transcription: { text: string; constraint: string }; error?: string };
    expect(res.status, body.error).to.equal(200);
    expect(body.transcription).to.include({ text: UTTERANCE, constraint: 'corpus' });
    expect(body.intent.name).to.equal(LIGHTS_ON);
    const listing = (await (await fetch(`${base}/v1/models`)).json()) as { models: { name: string; state: string }[] };
    for (const m of listing.models) expect(m, m.name).to.include({ state: 'AVAILABLE' });
  });
});
