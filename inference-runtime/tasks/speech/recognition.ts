import { Router } from '@koa/router';
import type { NamedTensors } from '../../core/tensor.js';
import type { RequestState } from '../../http/requestState.js';
import { grammarRequest, readAudioRequest } from './audioRequest.js';
import { speechInputs, speechSignature } from '../../speech/signature.js';
import { grammarInput, transcribe } from '../../speech/transcribe.js';
import { beginTask } from '../common/taskRequest.js';
import { signatureMismatch } from '../common/signatureCheck.js';
import type { TaskContext, TaskModule } from '../task.js';
import { SPEECH_RECOGNITION, speechRecognitionSpec } from './spec.js';

export { SPEECH_RECOGNITION };

/**
 * `speech/recognition`: audio in, text with word timings out. `POST /v1/speech/transcriptions` takes a WAV
 * body (or JSON with base64 audio) and an optional grammar, phrase list or dictation mode.
 */
export const speechRecognitionTask: TaskModule = {
  ...speechRecognitionSpec,
  checkModel: (model) => signatureMismatch(model.signature, speechSignature(), SPEECH_RECOGNITION),
  exampleInputs: (): NamedTensors => {
    // One second of a 440 Hz tone: audio the recogniser processes end to end, as a real request would.
    const samples = new Float32Array(16_000).map((_, i) => 0.3 * Math.sin((2 * Math.PI * 440 * i) / 16_000));
    return speechInputs(samples, '');
  },
  routes: (context: TaskContext) => speechRouter(context),
};

export function speechRouter(context: TaskContext): Router<RequestState> {
  const router = new Router<RequestState>();
  router.post('/v1/speech/transcriptions', async (ctx) => {
    const { request, body } = await beginTask(ctx, context.registry, (deadline) => readAudioRequest(ctx, context.limits.maxBodyBytes, deadline), (audio) => audio.fields);
    const constraint = grammarInput(grammarRequest(request.options));
    const model = request.models.forTask(SPEECH_RECOGNITION);
    const t = await request.withinDeadline(transcribe(model, body.bytes, constraint, request.timer), 'the transcription');
    ctx.body = request.answerAlone(model, { text: t.text, confidence: t.confidence, words: t.words, constraint: t.constraint, audio: t.audio });
  });
  return router;
}
