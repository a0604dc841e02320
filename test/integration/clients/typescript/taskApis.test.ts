// The SDK's OCR, translation, speech, dialog and V2 calls against one real runtime process whose pool holds
// just the models these calls need.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { ApiError, MLOffloadClient, type V2Input } from '../../../../clients/typescript/src/index.js';
import { DIALOG_SMART_HOME, FACIAL_EXPRESSION, ocrModels, SPEECH_RECOGNISER, TRANSLATION_ENG_SPA } from '../../../../inference-runtime/config/defaultPool.js';
import { startDelayProxy, type DelayProxy } from '../../../helpers/delayProxy.js';
import { ROOT, startRuntimeProcess, type ReadyRuntime } from '../../../helpers/runtimeProcess.js';
import { speak, TEST_VOICES } from '../../../helpers/speechSynthesis.js';
import { renderText } from '../../../helpers/textImages.js';

const run = promisify(execFile);

/** What `apertium eng-spa <file>` answers on the command line: the API's reference (the script reads a file, not a pipe). */
async function apertium(text: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mloffload-apertium-'));
  try {
    await writeFile(path.join(dir, 'input.txt'), text, 'utf8');
    const { stdout, stderr } = await run('apertium', ['eng-spa', path.join(dir, 'input.txt')]);
    if (stderr) throw new Error(`apertium: ${stderr}`);
    return stdout;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('client SDK task calls against a real runtime process (OCR, translation, speech, dialog, V2)', function () {
  this.timeout(600_000);
  let runtime: ReadyRuntime;
  const clients: MLOffloadClient[] = [];
  const proxies: DelayProxy[] = [];
  const client = (options: Partial<ConstructorParameters<typeof MLOffloadClient>[0]> = {}) => {
    const c = new MLOffloadClient({ endpoints: [runtime.url], probeIntervalMs: 0, catalogueIntervalMs: 0, ...options });
    clients.push(c);
    return c;
  };

  before(async () => {
    runtime = await startRuntimeProcess({
      nodeName: 'edge-sdk',
      pool: { models: [FACIAL_EXPRESSION, ...ocrModels(), TRANSLATION_ENG_SPA, SPEECH_RECOGNISER, DIALOG_SMART_HOME] },
      args: ['--workers', '1'],
    });
  });
  after(async () => {
    clients.forEach((c) => c.close());
    await Promise.all(proxies.map((p) => p.close()));
    await runtime?.stop();
  });

  it('vision.text reads a rendered sign line by line, with boxes, polygons and the OCR models', async () => {
    const png = await renderText({ width: 640, height: 200 }, [
      { text: 'Please keep this door closed', x: 30, y: 80, font: 'DejaVu Sans', size: 32 },
      { text: 'Platform 7 for trains to Berlin', x: 30, y: 150, font: 'DejaVu Serif', size: 28 },
    ]);
    const answer = await client().vision.text(png);
    expect(answer.lines.map((l) => l.text)).to.deep.equal(['Please keep this door closed', 'Platform 7 for trains to Berlin']);
    expect(answer.text).to.equal('Please keep this door closed\nPlatform 7 for trains to Berlin');
    expect(answer.image).to.deep.equal({ width: 640, height: 200 });
    for (const line of answer.lines) {
      expect(line.polygon).to.have.length(4);
      expect(line.box.y).to.be.within(30, 170);
      expect(line.confidence).to.be.within(0.5, 1);
    }
    expect(answer.models.map((m) => m.task)).to.include.members(['vision/text-detection', 'vision/text-recognition']);
    // Options reach the runtime: a confidence floor above every line leaves none.
    expect((await client().vision.text(png, { minConfidence: 1, orientation: false })).lines).to.deep.equal([]);
  });

  it('translation.translate answers what apertium answers on the command line; languages lists the served pair', async () => {
    const c = client();
    const texts = ['The shop on the corner opens at nine.', 'Please keep this door closed'];
    const one = await c.translation.translate({ text: texts[0]!, source: 'en', target: 'es' });
    expect(one.translations).to.deep.equal([{ text: await apertium(texts[0]!) }]);
    expect(one).to.include({ source: 'en', target: 'es' });
    expect(one.model).to.include({ name: 'translation-eng-spa', backend: 'apertium' });
    const many = await c.translation.translate({ texts, source: 'eng', target: 'spa' });
    expect(many.translations.map((t) => t.text)).to.deep.equal(await Promise.all(texts.map(apertium)));

    const languages = await c.translation.languages();
    expect(languages.pairs).to.deep.include({ source: 'en', target: 'es', model: 'translation-eng-spa', version: '0.8.1', state: 'AVAILABLE' });
    expect(languages.languages.map((l) => l.code)).to.include.members(['en', 'es']);

    // A pair no model serves is the request's fault: an ApiError, not a failover.
    const refused = await c.translation.translate({ text: 'hola', source: 'es', target: 'en' }).catch((e: unknown) => e);
    expect(refused).to.be.instanceOf(ApiError);
    expect((refused as ApiError).status).to.equal(400);
  });

  it('the sign example prints each line of a photo with its translation', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'mloffload-sign-'));
    try {
      const photo = path.join(dir, 'sign.jpg');
      await writeFile(photo, await renderText({ width: 640, height: 160 }, [{ text: 'The shop opens at nine', x: 30, y: 90, font: 'Liberation Sans', size: 34 }], 'jpeg'));
      const { stdout } = await run(process.execPath, ['--import', 'tsx', 'examples/client/sign.ts', photo, runtime.url], { cwd: ROOT, timeout: 120_000 });
      expect(stdout).to.equal(`The shop opens at nine\t${await apertium('The shop opens at nine')}\n`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('speech.transcribe recognises espeak-ng speech under a phrase list (JSON body) and in dictation (WAV body)', async () => {
    const wav = await speak('turn on the kitchen lights', TEST_VOICES[0]!);
    const c = client();
    const phrases = await c.speech.transcribe(wav, { phrases: ['turn on the kitchen lights', 'turn off the kitchen lights'] });
    expect(phrases).to.include({ text: 'turn on the kitchen lights', confidence: 1, constraint: 'phrases' });
    expect(phrases.words.map((w) => w.word)).to.deep.equal(['turn', 'on', 'the', 'kitchen', 'lights']);
    expect(phrases.audio).to.include({ sampleRate: 22_050, channels: 1 });
    expect(phrases.model).to.include({ task: 'speech/recognition', backend: 'pocketsphinx' });
    const dictation = await c.speech.transcribe(wav, { mode: 'dictation' });
    expect(dictation.constraint).to.equal('dictation');
    // Not a WAV file: the request's fault.
    const refused = await c.speech.transcribe(new TextEncoder().encode('RIFF....not a wave')).catch((e: unknown) => e);
    expect(refused).to.be.instanceOf(ApiError);
  });

  it('dialog.message and dialog.voice answer with intents, entities and session turns', async () => {
    const c = client();
    const plain = await c.dialog.message({ text: 'please switch off the lounge lights' });
    expect(plain.intent.name).to.equal('lights.off');
    expect(plain.answer).to.equal('Turning off the lights in the living room.');
    expect(plain.entities).to.deep.include({ entity: 'room', option: 'living room', text: 'lounge', start: 22, end: 27, accuracy: 1 });
    expect(plain.session).to.equal(undefined);

    const first = await c.dialog.message({ text: 'hello', sessionId: 'sdk-chat' });
    const second = await c.dialog.message({ text: 'set a timer for five minutes', sessionId: 'sdk-chat' });
    expect(first.session).to.deep.equal({ id: 'sdk-chat', turn: 1 });
    expect(second.session).to.include({ id: 'sdk-chat', turn: 2, previousIntent: 'greeting' });

    const voice = await c.dialog.voice(await speak('set a timer for five minutes', TEST_VOICES[0]!), { sessionId: 'sdk-voice' });
    expect(voice.intent.name).to.equal('timer.set');
    expect(voice.transcription.constraint).to.equal('corpus');
    expect(voice.session).to.deep.equal({ id: 'sdk-voice', turn: 1 });
    expect(voice.models.map((m) => m.task)).to.deep.equal(['speech/recognition', 'dialog/intent']);
  });

  it('a session message is sent once even where every call is hedged: its turn counter advances by one per message', async () => {
    // Two ways to the same runtime (directly and through a TCP proxy), and a hedge at 0 ms: every hedgeable
    // call goes both ways. A hedged session message would be counted twice by the session store they share.
    const proxy = await startDelayProxy({ target: { host: '127.0.0.1', port: runtime.port }, rttMs: 1 });
    proxies.push(proxy);
    const c = client({ endpoints: [runtime.url, proxy.url], hedge: { afterMs: 0 } });
    let hedges = 0;
    c.on('hedge', () => hedges++);
    await c.dialog.message({ text: 'hello' });
    expect(hedges, 'a stateless message is hedged').to.be.at.least(1);
    hedges = 0;
    const turns: number[] = [];
    for (let i = 0; i < 4; i++) turns.push((await c.dialog.message({ text: 'hello', sessionId: 'sdk-hedged' })).session!.turn);
    expect(turns).to.deep.equal([1, 2, 3, 4]);
    const voice = await c.dialog.voice(await speak('hello', TEST_VOICES[0]!), { sessionId: 'sdk-hedged' });
    expect(voice.session!.turn).to.equal(5);
    expect(hedges).to.equal(0);
  });

  it('v2.infer: binary tensors both ways equal the JSON path; metadata, ready and server', async () => {
    const c = client();
    let seed = 7;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31) * 2 - 1;
    const face = new Float32Array(64 * 64).map(random);
    const inputs: V2Input[] = [{ name: 'input_1', shape: [2, 64, 64, 1], datatype: 'FP32', data: new Float32Array([...face, ...face.map((x) => -x)]) }];
    const binary = await c.v2.infer('facial-expression', inputs, { outputs: ['Identity'], id: 'b-1' });
    const json = await c.v2.infer('facial-expression', inputs, { binary: false, id: 'j-1' });
    expect(binary).to.include({ model_name: 'facial-expression', id: 'b-1' });
    expect(binary.outputs[0]!.data).to.be.instanceOf(Float32Array);
    expect(binary.outputs[0]!.shape).to.deep.equal([2, 7]);
    expect(Array.from(binary.outputs[0]!.data as Float32Array)).to.deep.equal(json.outputs[0]!.data);
    // Every output binary when none is named.
    const all = await c.v2.infer('facial-expression', inputs);
    expect(Array.from(all.outputs[0]!.data as Float32Array)).to.deep.equal(json.outputs[0]!.data);

    expect(await c.v2.metadata('facial-expression')).to.deep.include({ name: 'facial-expression', inputs: [{ name: 'input_1', datatype: 'FP32', shape: [-1, 64, 64, 1] }] });
    expect(await c.v2.ready('facial-expression', '1')).to.deep.equal({ name: 'facial-expression', ready: true });
    expect((await c.v2.server()).extensions).to.include('binary_tensor_data');
    // The wrong datatype is the request's fault, with the runtime's message.
    const refused = await c.v2.infer('facial-expression', [{ name: 'input_1', shape: [1, 64, 64, 1], datatype: 'INT32', data: new Int32Array(4096) }]).catch((e: unknown) => e);
    expect(refused).to.be.instanceOf(ApiError);
    expect((refused as ApiError).message).to.include("expects 'FP32'");
  });
});
