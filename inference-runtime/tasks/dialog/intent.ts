import { Router } from '@koa/router';
import { InvalidInput } from '../../core/errors.js';
import type { InferOptions } from '../../core/executor.js';
import type { ServingModel } from '../../core/registry.js';
import type { NamedTensors } from '../../core/tensor.js';
import { SessionStore, type SessionTurn } from '../../dialog/sessions.js';
import { dialogSignature, MAX_UTTERANCE_CHARS, type DialogEntity } from '../../dialog/signature.js';
import type { RequestState } from '../../http/requestState.js';
import { grammarRequest, readAudioRequest } from '../speech/audioRequest.js';
import { grammarInput, transcribe } from '../../speech/transcribe.js';
import { readJsonRequest } from '../common/jsonBody.js';
import { beginTask } from '../common/taskRequest.js';
import { signatureMismatch } from '../common/signatureCheck.js';
import { SPEECH_RECOGNITION } from '../speech/spec.js';
import type { TaskContext, TaskModule } from '../task.js';
import { DIALOG_INTENT, dialogIntentSpec } from './spec.js';

export { DIALOG_INTENT };

export interface DialogResult {
  intent: { name: string; score: number };
  entities: DialogEntity[];
  answer: string;
}

function textInput(texts: string[]): NamedTensors {
  return { text: { dtype: 'string', shape: [texts.length], data: texts } };
}

/** One utterance through a dialog model. */
export async function understand(model: ServingModel, text: string, options?: InferOptions): Promise<DialogResult> {
  const out = await model.infer(textInput([text]), options);
  return {
    // Rounded: a float32 score printed as a double shows digits it never had.
    intent: { name: (out.intent.data as string[])[0], score: Math.round((out.score.data as Float32Array)[0] * 1e4) / 1e4 },
    entities: JSON.parse((out.entities.data as string[])[0]) as DialogEntity[],
    answer: (out.answer.data as string[])[0],
  };
}

/** The text of a message: a non-empty string within the length limit. */
export function messageText(body: unknown): { text: string; sessionId?: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new InvalidInput('the body must be a JSON object {"text": "...", "sessionId"?: "..."}');
  const { text, sessionId } = body as Record<string, unknown>;
  if (typeof text !== 'string') throw new InvalidInput('text must be a string');
  const trimmed = text.trim();
  if (!trimmed) throw new InvalidInput('text is empty');
  if (trimmed.length > MAX_UTTERANCE_CHARS) throw new InvalidInput(`text is longer than ${MAX_UTTERANCE_CHARS} characters`);
  if (sessionId !== undefined && typeof sessionId !== 'string') throw invalidSessionId();
  return { text: trimmed, sessionId: checkedSessionId(sessionId) };
}

function invalidSessionId(): InvalidInput {
  return new InvalidInput('sessionId must be 1 to 128 characters of letters, digits and . _ : -');
}

function checkedSessionId(sessionId: string | undefined): string | undefined {
  if (sessionId !== undefined && !SessionStore.isValidId(sessionId)) throw invalidSessionId();
  return sessionId;
}

/**
 * `dialog/intent`: an utterance in, intent, entities and an answer out. `POST /v1/dialog/messages` takes text;
 * `POST /v1/dialog/voice` takes audio, recognises it constrained by the dialog corpus's utterances (the
 * speech model's grammar support), and answers the transcription.
 */
export const dialogIntentTask: TaskModule = {
  ...dialogIntentSpec,
  checkModel: (model) => signatureMismatch(model.signature, dialogSignature(), DIALOG_INTENT),
  exampleInputs: () => textInput(['turn on the kitchen lights']),
  routes: (context: TaskContext) => dialogRouter(context),
};

/** Bytes of a message body: one utterance and a session id need far less than an image's allowance. */
const MAX_MESSAGE_BYTES = 64 * 1024;

export function dialogRouter(context: TaskContext, sessions = new SessionStore()): Router<RequestState> {
  const router = new Router<RequestState>();
  /** Corpus grammars by model and version: asked of the dialog model once (an empty batch answers it). */
  const grammars = new Map<string, Promise<string>>();
  const corpusGrammar = (model: ServingModel): Promise<string> => {
    const key = `${model.name}@${model.version}`;
    let g = grammars.get(key);
    if (!g) {
      g = model.infer(textInput([])).then((out) => (out.grammar.data as string[])[0] ?? '');
      g.catch(() => grammars.delete(key));
      grammars.set(key, g);
    }
    return g;
  };
  const session = (sessionId: string | undefined, intent: string): ({ id: string } & SessionTurn) | undefined =>
    sessionId === undefined ? undefined : { id: sessionId, ...sessions.record(sessionId, intent) };

  router.post('/v1/dialog/messages', async (ctx) => {
    const maxBytes = Math.min(context.limits.maxBodyBytes, MAX_MESSAGE_BYTES);
    const { request, body } = await beginTask(ctx, context.registry, (deadline) => readJsonRequest(ctx, maxBytes, deadline));
    const { text, sessionId } = messageText(body);
    const model = request.models.forTask(DIALOG_INTENT);
    const result = await request.withinDeadline(request.timer.time('understand', () => understand(model, text)), 'the dialog request');
    const s = session(sessionId, result.intent.name);
    ctx.body = request.answerAlone(model, { text, ...result, ...(s ? { session: s } : {}) });
  });

  router.post('/v1/dialog/voice', async (ctx) => {
    const { request, body } = await beginTask(ctx, context.registry, (deadline) => readAudioRequest(ctx, context.limits.maxBodyBytes, deadline), (audio) => audio.fields);
    const sessionId = checkedSessionId(request.options.text('sessionId'));
    const own = grammarRequest(request.options);
    // Taken in pipeline order, which is the order the response names them in.
    const speech = request.models.forTask(SPEECH_RECOGNITION);
    const dialog = request.models.forTask(DIALOG_INTENT);
    ctx.body = await request.withinDeadline(
      (async () => {
        const ownConstraint = own.grammar !== undefined || own.phrases !== undefined || own.dictation;
        const grammar = ownConstraint ? undefined : await request.timer.time('grammar', () => corpusGrammar(dialog));
        const constraint = grammarInput(own, grammar ? { grammar, name: 'corpus' } : undefined);
        const transcription = await transcribe(speech, body.bytes, constraint, request.timer);
        const result = transcription.text
          ? await request.timer.time('understand', () => understand(dialog, transcription.text))
          : { intent: { name: 'None', score: 0 }, entities: [], answer: '' };
        const s = session(sessionId, result.intent.name);
        return request.answer(dialog, { transcription, ...result, ...(s ? { session: s } : {}) });
      })(),
      'the voice request',
    );
  });
  return router;
}
