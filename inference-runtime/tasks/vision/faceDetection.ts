import { decodableOutputs } from '../common/outputCheck.js';
import { Router } from '@koa/router';
import type { RequestState } from '../../http/requestState.js';
import { blazefaceRows } from '../../vision/blazeface.js';
import { defaultFaceDetectionOptions, detectFaces, toFaceResult, type FaceDetectionOptions } from '../../vision/faces.js';
import type { OptionReader } from '../common/optionReader.js';
import type { TaskModelView, TaskModule } from '../task.js';
import { faceDetectionSpec } from './specs.js';
import { beginImageTask, exampleImageInputs, imageInputProblems, imageModelOf, type ReferencePreprocessing } from './imageTask.js';
import { imageInput, preprocessingOf } from '../../vision/servingModel.js';

/** The reference pipeline (human's blazeface.ts) maps 0..255 onto [-1, 1]. */
export const blazefaceReference: ReferencePreprocessing = { colour: 'rgb', range: [-1, 1] };

/** Upper bound of `maxFaces`: more would only be noise from a detector, and costs classifier time. */
const maxFacesCap = 100;

/** `minScore` and `maxFaces` of a request (query or body fields), checked. */
export function faceOptions(options: OptionReader): FaceDetectionOptions {
  return {
    minScore: options.number('minScore', defaultFaceDetectionOptions.minScore, 0, 1),
    maxFaces: options.integer('maxFaces', defaultFaceDetectionOptions.maxFaces, 1, maxFacesCap),
    iouThreshold: defaultFaceDetectionOptions.iouThreshold,
  };
}

/** Why a model's declared outputs are not BlazeFace's: one [n, 17] tensor, or scores [n, 1] with regressors [n, 16]. */
function blazefaceOutputProblems(view: TaskModelView): string[] {
  const outputs = view.signature.outputs;
  const last = (shape: number[]): number => shape[shape.length - 1];
  const shapes = outputs.map((o) => `${o.name} [${o.shape.join(', ')}]`).join(', ');
  const wrong = [`outputs ${shapes} do not fit ${faceDetectionSpec.id}: expected BlazeFace scores [n, 1] with regressors [n, 16], or one [n, 17] tensor`];
  if (outputs.some((o) => o.dtype !== 'float32')) return wrong;
  if (outputs.length === 1 && last(outputs[0].shape) === 17) return [];
  const scores = outputs.filter((o) => last(o.shape) === 1).length;
  const regressors = outputs.filter((o) => last(o.shape) === 16).length;
  return scores > 0 && scores === regressors && scores + regressors === outputs.length ? [] : wrong;
}

export const faceDetection: TaskModule = {
  ...faceDetectionSpec,
  checkModel(view) {
    const problems = imageInputProblems(view, faceDetectionSpec.id, blazefaceReference);
    if (!problems.length) {
      const pre = preprocessingOf(imageModelOf(view), blazefaceReference);
      if (pre.width !== pre.height) problems.push(`input ${imageInput(imageModelOf(view)).name} is ${pre.width}x${pre.height}; BlazeFace anchors need a square input`);
    }
    return [...problems, ...blazefaceOutputProblems(view)];
  },
  checkOutputs: decodableOutputs(faceDetectionSpec.id, (outputs) => blazefaceRows(outputs)),
  exampleInputs: (view, batch) => exampleImageInputs(view, blazefaceReference, batch),
  routes(context) {
    const router = new Router<RequestState>();
    router.post('/v1/vision/faces', async (ctx) => {
      const { request, decode } = await beginImageTask(context, ctx);
      const opts = faceOptions(request.options);
      const detector = request.models.forTask(faceDetectionSpec.id);
      ctx.body = await request.withinDeadline(
        (async () => {
          const image = await decode();
          const faces = await request.timer.time('detect', () => detectFaces(detector, image, opts));
          return request.answer(detector, {
            faces: faces.map((f) => toFaceResult(f, image)),
            image: { width: image.width, height: image.height },
          });
        })(),
        'the vision request',
      );
    });
    return router;
  },
};
