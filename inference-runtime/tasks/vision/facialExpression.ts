import { decodableOutputs } from '../common/outputCheck.js';
import { Router } from '@koa/router';
import type { RequestState } from '../../http/requestState.js';
import { classifyExpressions, expressionCropMargin } from '../../vision/expressions.js';
import { detectFaces, imageBox } from '../../vision/faces.js';
import { round4, squareWithMargin, type Box } from '../../vision/geometry.js';
import { fer2013Codes } from '../../vision/labels.js';
import type { TaskModule } from '../task.js';
import { faceDetectionSpec, facialExpressionSpec } from './specs.js';
import { faceOptions } from './faceDetection.js';
import { beginImageTask, exampleImageInputs, imageInputProblems, type ReferencePreprocessing } from './imageTask.js';

/** The reference pipeline (human's emotion.ts) feeds grey 64x64 crops mapped onto [-1, 1]. */
export const expressionReference: ReferencePreprocessing = { colour: 'grayscale', range: [-1, 1] };

export const facialExpression: TaskModule = {
  ...facialExpressionSpec,
  checkModel(view) {
    const problems = imageInputProblems(view, facialExpressionSpec.id, expressionReference);
    const outputs = view.signature.outputs;
    const shapes = outputs.map((o) => `${o.name} [${o.shape.join(', ')}]`).join(', ');
    if (outputs.length !== 1 || outputs[0].shape.length !== 2 || outputs[0].dtype !== 'float32') {
      return [...problems, `outputs ${shapes} do not fit ${facialExpressionSpec.id}: expected one float32 [batch, classes] tensor of expression scores`];
    }
    const classes = outputs[0].shape[1];
    if (classes > 0) {
      try {
        fer2013Codes(view.config.labels, classes);
      } catch (error) {
        problems.push(`${(error as Error).message} (output ${outputs[0].name} [${outputs[0].shape.join(', ')}], task ${facialExpressionSpec.id})`);
      }
    }
    return problems;
  },
  checkOutputs: decodableOutputs(facialExpressionSpec.id, (outputs, view) => {
    const [scores] = Object.values(outputs);
    return fer2013Codes(view.config.labels, scores!.shape[scores!.shape.length - 1]);
  }),
  exampleInputs: (view, batch) => exampleImageInputs(view, expressionReference, batch),
  routes(context) {
    const router = new Router<RequestState>();
    router.post('/v1/vision/facial-expressions', async (ctx) => {
      const { request, decode } = await beginImageTask(context, ctx);
      const crop = request.options.boolean('crop', true);
      const opts = faceOptions(request.options);
      const detector = crop ? request.models.forTask(faceDetectionSpec.id) : undefined;
      const classifier = request.models.forTask(facialExpressionSpec.id);
      ctx.body = await request.withinDeadline(
        (async () => {
          const image = await decode();
          let found: { box: Box; score: number | null; region: Box }[];
          if (detector) {
            const faces = await request.timer.time('detect', () => detectFaces(detector, image, opts));
            found = faces.map((f) => ({ box: imageBox(f.box, image), score: round4(f.score), region: squareWithMargin(f.box, expressionCropMargin) }));
          } else {
            const whole = { x: 0, y: 0, width: image.pixels.width, height: image.pixels.height };
            found = [{ box: { x: 0, y: 0, width: image.width, height: image.height }, score: null, region: whole }];
          }
          const run = await request.timer.time('classify', () => classifyExpressions(classifier, image.pixels, found.map((f) => f.region)));
          return request.answer(classifier, {
            faces: found.map((f, i) => ({ box: f.box, score: f.score, expression: run.results[i].expression, scores: run.results[i].scores })),
            image: { width: image.width, height: image.height },
          });
        })(),
        'the vision request',
      );
    });
    return router;
  },
};
