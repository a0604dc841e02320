import { Router } from '@koa/router';
import type { NamedTensors } from '../../core/tensor.js';
import { raceDeadline } from '../../http/deadline.js';
import type { RequestState } from '../../http/requestState.js';
import { readAudioRequest } from './audioRequest.js';
import { speechInputs, speechSignature } from '../../speech/signature.js';
import { grammarInput, transcribe } from '../../speech/transcribe.js';
import { StageTimer } from '../common/stageTimer.js';
import { modelInfo } from '../common/taskRequest.js';
import type { TaskContext, TaskModelView, TaskModule } from '../task.js';
import { SPEECH_RECOGNITION, speechRecognitionSpec } from './spec.js';

export { SPEECH_RECOGNITION };

/** Differences between a model's declared tensors and the speech signature, as load-time reasons. */
export function signatureMismatch(actual: TaskModelView['signature'], expected: TaskModelView['signature'], task: string): string[] {
  const problems: string[] = [];
  for (const [kind, want, have] of [
    ['input', expected.inputs, actual.inputs],
    ['output', expected.outputs, actual.outputs],
  ] as const) {
    for (const spec of want) {
      const found = have.find((h) => h.name === spec.name);
      if (!found || found.dtype !== spec.dtype || found.shape.length !== spec.shape.length) {
        problems.push(`task ${task} needs ${kind} ${spec.name} (${spec.dtype} rank ${spec.shape.length})`);
      }
    }
  }
  return problems;
}

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
    const request = await readAudioRequest(ctx, context.limits.maxBodyBytes);
    const timer = new StageTimer();
    const constraint = grammarInput(request);
    const model = context.registry.forTask(SPEECH_RECOGNITION);
    const deadline = ctx.state.deadline;
    const work = transcribe(model, request.bytes, constraint, timer, { signal: deadline });
    const t = deadline ? await raceDeadline(work, deadline, 'the transcription') : await work;
    ctx.state.model = { name: model.name, version: model.version };
    ctx.body = {
      text: t.text,
      confidence: t.confidence,
      words: t.words,
      constraint: t.constraint,
      audio: t.audio,
      model: modelInfo(model),
      timing: timer.finish(),
    };
  });
  return router;
}
