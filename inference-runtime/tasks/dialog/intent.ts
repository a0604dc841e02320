import { Router } from '@koa/router';
import type { Context } from 'koa';
import { InvalidInput } from '../../core/errors.js';
import type { InferOptions } from '../../core/executor.js';
import type { ServingModel } from '../../core/registry.js';
import type { NamedTensors } from '../../core/tensor.js';
import { SessionStore, type SessionTurn } from '../../dialog/sessions.js';
import { dialogSignature, MAX_UTTERANCE_CHARS, type DialogEntity } from '../../dialog/signature.js';
import { raceDeadline } from '../../http/deadline.js';
import { readJsonBody } from '../../http/requestBody.js';
import type { RequestState } from '../../http/requestState.js';
import { readAudioRequest } from '../speech/audioRequest.js';
import { grammarInput, transcribe } from '../../speech/transcribe.js';
import { modelInfo } from '../common/taskRequest.js';
import { StageTimer } from '../common/stageTimer.js';
import { signatureMismatch, SPEECH_RECOGNITION } from '../speech/recognition.js';
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
  if (sessionId !== undefined && (typeof sessionId !== 'string' || !SessionStore.isValidId(sessionId))) {
    throw new InvalidInput('sessionId must be 1 to 128 characters of letters, digits and . _ : -');
  }
  return { text: trimmed, sessionId: sessionId as string | undefined };
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

export function dialogRouter(context: TaskContext, sessions = new SessionStore()): Router<RequestState> {
  const router = new Router<RequestState>();
  /** Corpus grammars by model and version: asked of the dialog model once (an empty batch answers it). */
  const grammars = new Map<string, Promise<string>>();
  const corpusGrammar = (model: ServingModel, options: InferOptions): Promise<string> => {
    const key = `${model.name}@${model.version}`;
    let g = grammars.get(key);
    if (!g) {
      g = model.infer(textInput([]), options).then((out) => (out.grammar.data as string[])[0] ?? '');
      g.catch(() => grammars.delete(key));
      grammars.set(key, g);
    }
    return g;
  };
  const session = (sessionId: string | undefined, intent: string): ({ id: string } & SessionTurn) | undefined =>
    sessionId === undefined ? undefined : { id: sessionId, ...sessions.record(sessionId, intent) };
  const within = <T>(ctx: Context, work: Promise<T>, what: string): Promise<T> => {
    const deadline = ctx.state.deadline as AbortSignal | undefined;
    return deadline ? raceDeadline(work, deadline, what) : work;
  };

  router.post('/v1/dialog/messages', async (ctx) => {
    const { value } = await readJsonBody(ctx, { maxBytes: Math.min(context.limits.maxBodyBytes, 64 * 1024), signal: ctx.state.deadline });
    const { text, sessionId } = messageText(value);
    const timer = new StageTimer();
    const model = context.registry.forTask(DIALOG_INTENT);
    const result = await within(ctx, timer.time('understand', () => understand(model, text, { signal: ctx.state.deadline })), 'the dialog request');
    ctx.state.model = { name: model.name, version: model.version };
    const s = session(sessionId, result.intent.name);
    ctx.body = { text, ...result, ...(s ? { session: s } : {}), model: modelInfo(model), timing: timer.finish() };
  });

  router.post('/v1/dialog/voice', async (ctx) => {
    const request = await readAudioRequest(ctx, context.limits.maxBodyBytes);
    const sessionId = typeof ctx.query.sessionId === 'string' ? ctx.query.sessionId : undefined;
    if (sessionId !== undefined && !SessionStore.isValidId(sessionId)) throw new InvalidInput('sessionId must be 1 to 128 characters of letters, digits and . _ : -');
    const timer = new StageTimer();
    const dialog = context.registry.forTask(DIALOG_INTENT);
    const speech = context.registry.forTask(SPEECH_RECOGNITION);
    const options = { signal: ctx.state.deadline };
    const body = await within(
      ctx,
      (async () => {
        const own = request.grammar !== undefined || request.phrases !== undefined || request.dictation;
        const grammar = own ? undefined : await timer.time('grammar', () => corpusGrammar(dialog, options));
        const constraint = grammarInput(request, grammar ? { grammar, name: 'corpus' } : undefined);
        const transcription = await transcribe(speech, request.bytes, constraint, timer, options);
        const result = transcription.text
          ? await timer.time('understand', () => understand(dialog, transcription.text, options))
          : { intent: { name: 'None', score: 0 }, entities: [], answer: '' };
        const s = session(sessionId, result.intent.name);
        return { transcription, ...result, ...(s ? { session: s } : {}), models: [modelInfo(speech), modelInfo(dialog)], timing: timer.finish() };
      })(),
      'the voice request',
    );
    ctx.state.model = { name: dialog.name, version: dialog.version };
    ctx.body = body;
  });
  return router;
}
