import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { DIALOG_SMART_HOME, SPEECH_RECOGNISER } from '../../../../inference-runtime/config/defaultPool.js';
import { corpusGrammar, parseCorpus } from '../../../../inference-runtime/dialog/corpus.js';
import { encodeWav16 } from '../../../../inference-runtime/speech/wav.js';
import { SPEECH_LIMITS } from '../../../../inference-runtime/speech/transcribe.js';
import { eventually } from '../../../helpers/eventually.js';
import { speak, TEST_VOICES, wordErrors, type Voice } from '../../../helpers/speechSynthesis.js';
import { startSpeechServer, type SpeechServer } from './speechServer.js';

const corpusPath = fileURLToPath(DIALOG_SMART_HOME.source.uri);
const corpus = parseCorpus(readFileSync(corpusPath, 'utf8'));
const heldOut = JSON.parse(readFileSync(corpusPath.replace(/\.json$/, '.heldout.json'), 'utf8')) as {
  spoken: { text: string; intent: string; entities: Record<string, string> }[];
};

interface Transcription {
  text: string;
  confidence: number;
  words: { word: string; start: number; end: number }[];
  constraint: string;
}

/** Pids of recogniser processes started by this test process (any thread). */
async function recogniserPids(): Promise<number[]> {
  const pids: number[] = [];
  for (const task of await readdir(`/proc/${process.pid}/task`)) {
    const children = await readFile(`/proc/${process.pid}/task/${task}/children`, 'utf8').catch(() => '');
    for (const pid of children.split(/\s+/).filter(Boolean).map(Number)) {
      const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
      if (cmdline.includes('recogniser.py')) pids.push(pid);
    }
  }
  return pids;
}

describe('speech recognition and the voice chain over HTTP', function () {
  this.timeout(300_000);
  let server: SpeechServer;
  /** The spoken commands in every test voice, synthesised once. */
  const spoken: { text: string; intent: string; entities: Record<string, string>; voice: Voice; wav: Buffer }[] = [];

  before(async () => {
    server = await startSpeechServer({ workers: 1 });
    for (const voice of TEST_VOICES) for (const s of heldOut.spoken) spoken.push({ ...s, voice, wav: await speak(s.text, voice) });
  });
  after(async () => server?.close());

  const post = (path: string, body: Buffer | string, type: string) => fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': type }, body: typeof body === 'string' ? body : new Uint8Array(body) });
  const transcribe = async (wav: Buffer, extra: Record<string, unknown> = {}): Promise<Transcription> => {
    const res = await post('/v1/speech/transcriptions', JSON.stringify({ audio: { b64: wav.toString('base64') }, ...extra }), 'application/json');
    expect(res.status, await res.clone().text()).to.equal(200);
    return (await res.json()) as Transcription;
  };

  it('recognises spoken commands in several voices, speeds and sample rates with WER <= 5% under the command grammar', async () => {
    const grammar = corpusGrammar(corpus);
    let errors = 0;
    let words = 0;
    const misses: string[] = [];
    for (const s of spoken) {
      const t = await transcribe(s.wav, { grammar });
      expect(t.constraint).to.equal('grammar');
      const e = wordErrors(s.text, t.text);
      errors += e.errors;
      words += e.words;
      if (e.errors) misses.push(`${s.voice.voice}@${s.voice.rate}: "${s.text}" -> "${t.text}"`);
      // Word timings lie inside the utterance, in order.
      for (const [i, w] of t.words.entries()) {
        expect(w.end).to.be.greaterThan(w.start);
        if (i > 0) expect(w.start).to.be.at.least(t.words[i - 1].start);
      }
    }
    const wer = errors / words;
    console.log(`      command WER ${(wer * 100).toFixed(1)}% (${errors}/${words} words, ${spoken.length} utterances)${misses.length ? `; ${misses.join('; ')}` : ''}`);
    expect(wer).to.be.at.most(0.05);
  });

  it('measures open-dictation WER on the same utterances (reported, not gated)', async () => {
    let errors = 0;
    let words = 0;
    // One voice: dictation searches the whole language model, seconds per utterance on a loaded machine
    // (bench/speech.ts measures all voices).
    const subset = spoken.filter((s) => s.voice === TEST_VOICES[0]);
    for (const s of subset) {
      const t = await transcribe(s.wav, { mode: 'dictation' });
      expect(t.constraint).to.equal('dictation');
      const e = wordErrors(s.text, t.text);
      errors += e.errors;
      words += e.words;
    }
    console.log(`      open-dictation WER ${((errors / words) * 100).toFixed(1)}% (${errors}/${words} words, ${subset.length} utterances)`);
    expect(words).to.be.greaterThan(0);
  });

  it('constrains recognition to a phrase list given in the query', async () => {
    const wav = spoken.find((s) => s.text === 'turn off the bedroom lights' && s.voice === TEST_VOICES[0])!.wav;
    const phrases = encodeURIComponent('turn on the bedroom lights|turn off the bedroom lights|play some jazz');
    const res = await post(`/v1/speech/transcriptions?phrases=${phrases}`, wav, 'audio/wav');
    const body = (await res.json()) as Transcription;
    expect(res.status).to.equal(200);
    expect(body).to.include({ text: 'turn off the bedroom lights', constraint: 'phrases' });
  });

  it('maps spoken commands to the right intent and entities through the voice chain', async () => {
    const wrong: string[] = [];
    for (const s of spoken) {
      const res = await post('/v1/dialog/voice', s.wav, 'audio/wav');
      expect(res.status).to.equal(200);
      const body = (await res.json()) as { transcription: Transcription; intent: { name: string }; entities: { entity: string; option: string }[]; answer: string };
      expect(body.transcription.constraint).to.equal('corpus');
      const found = Object.fromEntries(body.entities.map((e) => [e.entity, e.option]));
      const entitiesMatch = Object.entries(s.entities).every(([k, v]) => found[k] === v);
      if (body.intent.name !== s.intent || !entitiesMatch) wrong.push(`${s.voice.voice}@${s.voice.rate}: "${s.text}" heard "${body.transcription.text}" -> ${body.intent.name}`);
      expect(body.answer).to.be.a('string').and.not.equal('');
    }
    console.log(`      voice chain: ${spoken.length - wrong.length}/${spoken.length} commands to the right intent and entities${wrong.length ? `; ${wrong.join('; ')}` : ''}`);
    expect(wrong.length / spoken.length).to.be.at.most(0.05);
  });

  it('answers text messages with intent, entities, answer and session turns', async () => {
    const send = (text: unknown, sessionId?: string) => post('/v1/dialog/messages', JSON.stringify({ text, sessionId }), 'application/json');
    const first = await send('please switch off the lounge lights', 'kitchen-tablet');
    expect(first.status).to.equal(200);
    const body = (await first.json()) as Record<string, unknown>;
    expect(body).to.deep.include({
      intent: { name: 'lights.off', score: (body.intent as { score: number }).score },
      answer: 'Turning off the lights in the living room.',
      session: { id: 'kitchen-tablet', turn: 1 },
    });
    expect((body.entities as { entity: string; option: string; text: string }[])[0]).to.include({ entity: 'room', option: 'living room', text: 'lounge' });
    const second = (await (await send('what is the weather', 'kitchen-tablet')).json()) as Record<string, unknown>;
    expect(second.session).to.deep.equal({ id: 'kitchen-tablet', turn: 2, previousIntent: 'lights.off' });
  });

  /** `mloffload_model_inferences_total` of a model with outcome ok, from the runtime's /metrics. */
  const inferencesOf = async (model: string): Promise<number> => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`mloffload_model_inferences_total{model="${model}",`) && l.includes('outcome="ok"'));
    return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
  };

  it('meters every model a request runs: per-model metrics, the models named and the engine time in the timing', async () => {
    const s = spoken.find((x) => x.text === 'turn off the bedroom lights' && x.voice === TEST_VOICES[0])!;
    const models = [SPEECH_RECOGNISER.name, DIALOG_SMART_HOME.name];
    const before = await Promise.all(models.map(inferencesOf));
    const transcription = await post(`/v1/speech/transcriptions?phrases=${encodeURIComponent(s.text)}`, s.wav, 'audio/wav');
    const message = await post('/v1/dialog/messages', JSON.stringify({ text: 'turn on the kitchen lights' }), 'application/json');
    const voice = await post('/v1/dialog/voice', s.wav, 'audio/wav');
    type Timed = { model?: { name: string }; models?: { name: string }[]; timing: Record<string, number> };
    const bodies = (await Promise.all([transcription, message, voice].map(async (r) => ({ status: r.status, body: (await r.json()) as Timed }))));
    expect(bodies.map((b) => b.status)).to.deep.equal([200, 200, 200]);
    expect(bodies[0].body.model?.name).to.equal(SPEECH_RECOGNISER.name);
    expect(bodies[1].body.model?.name).to.equal(DIALOG_SMART_HOME.name);
    expect(bodies[2].body.models?.map((m) => m.name)).to.deep.equal(models);
    for (const { body } of bodies) {
      expect(body.timing.inference, JSON.stringify(body.timing)).to.be.greaterThan(0);
      expect(body.timing.inference).to.be.at.most(body.timing.total);
    }
    const after = await Promise.all(models.map(inferencesOf));
    // The recogniser ran for the transcription and the voice request; the dialog model for the message and the
    // voice request (and once more on the voice route's first request, for its corpus grammar).
    expect(after[0] - before[0]).to.equal(2);
    expect(after[1] - before[1]).to.be.within(2, 3);
  });

  it('takes JSON audio in every b64 form the image routes take: a data URL, URL-safe base64', async () => {
    const s = spoken.find((x) => x.text === 'turn off the bedroom lights' && x.voice === TEST_VOICES[0])!;
    for (const b64 of [`data:audio/wav;base64,${s.wav.toString('base64')}`, s.wav.toString('base64url')]) {
      const res = await post('/v1/speech/transcriptions', JSON.stringify({ audio: { b64 }, phrases: [s.text, 'play some jazz'] }), 'application/json');
      const body = (await res.json()) as Transcription & { error?: string };
      expect(res.status, body.error).to.equal(200);
      expect(body).to.include({ text: s.text, constraint: 'phrases' });
    }
  });

  describe('bad input gets a clear 4xx', () => {
    const wavOf = (seconds: number, value: (i: number) => number, rate = 16_000): Buffer =>
      encodeWav16(Float32Array.from({ length: Math.round(seconds * rate) }, (_, i) => value(i)), rate);
    const cases: [string, () => Promise<Response>, number, RegExp][] = [
      ['a truncated WAV', async () => post('/v1/speech/transcriptions', spoken[0].wav.subarray(0, 40), 'audio/wav'), 400, /fmt chunk is truncated|no audio samples|no data chunk/],
      ['a wrong header', async () => post('/v1/speech/transcriptions', Buffer.concat([Buffer.from('RIFX'), spoken[0].wav.subarray(4)]), 'audio/wav'), 400, /not a WAV file/],
      ['non-audio bytes', async () => post('/v1/speech/transcriptions', Buffer.from('{"hello": "world"} and more bytes'), 'audio/wav'), 400, /not a WAV file/],
      ['an empty body', async () => post('/v1/speech/transcriptions', Buffer.alloc(0), 'audio/wav'), 400, /no audio/],
      ['silence', async () => post('/v1/speech/transcriptions', wavOf(2, () => 0), 'audio/wav'), 400, /silent/],
      ['audio over the length limit', async () => post('/v1/speech/transcriptions', wavOf(SPEECH_LIMITS.maxSeconds + 1, (i) => 0.1 * Math.sin(i / 5)), 'audio/wav'), 413, /limit is 30 s/],
      ['another container type', async () => post('/v1/speech/transcriptions', spoken[0].wav, 'audio/ogg'), 415, /audio\/wav/],
      ['a grammar with words the dictionary lacks', async () => post(`/v1/speech/transcriptions?phrases=${encodeURIComponent('frobnicate the zorbulator')}`, spoken[0].wav, 'audio/wav'), 400, /not in the pronunciation dictionary: frobnicate, zorbulator/],
      ['an invalid JSGF grammar', async () => post(`/v1/speech/transcriptions?grammar=${encodeURIComponent('#JSGF V1.0; grammar g; public <a> = ( turn on ;')}`, spoken[0].wav, 'audio/wav'), 400, /grammar/],
      ['silence through the voice chain', async () => post('/v1/dialog/voice', wavOf(1, () => 0), 'audio/wav'), 400, /silent/],
      ['empty text', async () => post('/v1/dialog/messages', JSON.stringify({ text: '   ' }), 'application/json'), 400, /text is empty/],
      ['text that is not a string', async () => post('/v1/dialog/messages', JSON.stringify({ text: 42 }), 'application/json'), 400, /text must be a string/],
      ['overlong text', async () => post('/v1/dialog/messages', JSON.stringify({ text: 'lights '.repeat(100) }), 'application/json'), 400, /longer than 500/],
      ['a bad session id', async () => post('/v1/dialog/messages', JSON.stringify({ text: 'hi', sessionId: 'a b' }), 'application/json'), 400, /sessionId/],
      ['invalid JSON', async () => post('/v1/dialog/messages', '{"text": ', 'application/json'), 400, /JSON/],
      ["TF Serving's NaN token, which is not JSON", async () => post('/v1/dialog/messages', '{"text": NaN}', 'application/json'), 400, /not valid JSON/],
      ['text that is not UTF-8', async () => post('/v1/dialog/messages', Buffer.from('{"text": "caf\xe9 lights"}', 'latin1'), 'application/json'), 400, /UTF-8/],
      ['a phrase list that is not a list', async () => post('/v1/speech/transcriptions', JSON.stringify({ audio: { b64: spoken[0].wav.toString('base64') }, phrases: 'turn on' }), 'application/json'), 400, /phrases must be a list of strings/],
    ];
    for (const [what, send, status, message] of cases) {
      it(`refuses ${what} with ${status}`, async () => {
        const res = await send();
        const body = (await res.json()) as { error: string };
        expect(res.status, body.error).to.equal(status);
        expect(body.error).to.match(message);
      });
    }
  });

  it('replaces a killed recogniser process: the request in flight gets 503 + Retry-After, the next one an answer', async () => {
    const [pid] = await recogniserPids();
    expect(pid, 'a recogniser process runs').to.be.a('number');
    // Dictation of a long utterance keeps the recogniser busy long enough to kill it mid-request.
    const long = await speak('turn on the kitchen lights and then set the temperature to twenty degrees and play some jazz in the living room please', TEST_VOICES[0]);
    const inFlight = post('/v1/speech/transcriptions?mode=dictation', long, 'audio/wav');
    await eventually(async () => expect((await readFile(`/proc/${pid}/stat`, 'utf8')).split(' ')[2]).to.equal('R'), { timeout: 10_000, interval: 5 });
    process.kill(pid, 'SIGKILL');
    const res = await inFlight;
    expect(res.status).to.equal(503);
    expect(res.headers.get('retry-after')).to.match(/^\d+$/);
    expect(((await res.json()) as { error: string }).error).to.match(/recogniser process exited/);
    const after = await transcribe(spoken[0].wav, { phrases: [spoken[0].text] });
    expect(after.text).to.equal(spoken[0].text);
    const pids = await recogniserPids();
    expect(pids).to.have.length(1);
    expect(pids[0]).to.not.equal(pid);
  });
});
