import { decodableOutputs } from '../common/outputCheck.js';
import { Router } from '@koa/router';
import type { RequestState } from '../../http/requestState.js';
import { detectionsOutput } from '../../vision/centernet.js';
import { defaultObjectDetectionOptions, detectObjects } from '../../vision/objects.js';
import type { TaskModule } from '../task.js';
import { objectDetectionSpec } from './specs.js';
import { beginImageTask, exampleImageInputs, imageInputProblems, type ReferencePreprocessing } from './imageTask.js';

/** The reference pipeline (human's centernet.ts) feeds 0..255 unchanged: the graph normalises itself. */
export const centernetReference: ReferencePreprocessing = { colour: 'rgb', range: [0, 255] };

/** Upper bound of `maxResults`. */
const maxResultsCap = 100;

export const objectDetection: TaskModule = {
  ...objectDetectionSpec,
  checkModel(view) {
    const problems = imageInputProblems(view, objectDetectionSpec.id, centernetReference);
    const detections = view.signature.outputs.filter((o) => o.shape.length === 3 && o.shape[2] === 6 && o.dtype === 'float32');
    if (detections.length !== 1) {
      const shapes = view.signature.outputs.map((o) => `${o.name} [${o.shape.join(', ')}]`).join(', ');
      problems.push(`outputs ${shapes} do not fit ${objectDetectionSpec.id}: expected one float32 [1, k, 6] detections tensor (x1, y1, x2, y2, score, class)`);
    }
    return problems;
  },
  checkOutputs: decodableOutputs(objectDetectionSpec.id, (outputs) => detectionsOutput(outputs)),
  exampleInputs: (view, batch) => exampleImageInputs(view, centernetReference, batch),
  routes(context) {
    const router = new Router<RequestState>();
    router.post('/v1/vision/objects', async (ctx) => {
      const { request, decode } = await beginImageTask(context, ctx);
      const opts = {
        minScore: request.options.number('minScore', defaultObjectDetectionOptions.minScore, 0, 1),
        maxResults: request.options.integer('maxResults', defaultObjectDetectionOptions.maxResults, 1, maxResultsCap),
        iouThreshold: defaultObjectDetectionOptions.iouThreshold,
      };
      const detector = request.models.forTask(objectDetectionSpec.id);
      ctx.body = await request.withinDeadline(
        (async () => {
          const image = await decode();
          const objects = await request.timer.time('detect', () => detectObjects(detector, image, opts));
          return request.answer(detector, { objects, image: { width: image.width, height: image.height } });
        })(),
        'the vision request',
      );
    });
    return router;
  },
};
