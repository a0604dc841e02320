import { Router } from '@koa/router';
import type { Context } from 'koa';
import type { MemoryBudget } from '../core/memoryBudget.js';
import type { ModelRegistry } from '../core/registry.js';
import { raceDeadline } from '../http/deadline.js';
import type { RequestState } from '../http/requestState.js';
import { decodeImage, type DecodedImage } from './decode.js';
import { DecodeAdmission } from './decodeAdmission.js';
import { demoAssets } from './demoAssets.js';
import { classifyExpressions, expressionCropMargin, facialExpressionTask, type Expression } from './expressions.js';
import { defaultFaceDetectionOptions, detectFaces, faceDetectionTask, imageBox, toFaceResult, type FaceDetectionOptions } from './faces.js';
import { round4, squareWithMargin, type Box } from './geometry.js';
import type { ExpressionLabel } from './labels.js';
import { defaultVisionLimits, type VisionLimits } from './limits.js';
import { MeteredModel } from './meteredModel.js';
import { defaultObjectDetectionOptions, detectObjects, objectDetectionTask } from './objects.js';
import { OptionReader } from './options.js';
import { readImageRequest } from './requestImage.js';
import { modelInfo } from './servingModel.js';
import { StageTimer } from './timing.js';

export interface VisionRouterDeps {
  registry: ModelRegistry;
  limits?: Partial<VisionLimits>;
  /** The runtime's memory budget, shared with the other routes; decodes are admitted by it. */
  memoryBudget?: MemoryBudget;
}

/** Upper bounds of the count options: more would only be noise from a detector, and costs classifier time. */
const maxFacesCap = 100;
const maxResultsCap = 100;

/**
 * The vision task APIs (`/v1/vision/faces`, `/v1/vision/facial-expressions`, `/v1/vision/objects`) and the demo
 * page (`/demo`). Each route takes the model that serves its task from the registry on every request, so a
 * model deployed to the pool for the task replaces the default without code changes.
 */
export function visionRouter(deps: VisionRouterDeps): Router<RequestState> {
  const limits: VisionLimits = { ...defaultVisionLimits, ...deps.limits };
  const router = new Router<RequestState>();
  const assets = demoAssets();
  const admission = new DecodeAdmission(limits, deps.memoryBudget);

  /**
   * Reads the image and options of a request. The timer starts once the body is in: upload time depends on
   * the client's network and is not the runtime's to report.
   */
  const begin = async (ctx: Context) => {
    const request = await readImageRequest(ctx, limits.maxBodyBytes, ctx.state.deadline as AbortSignal | undefined);
    const options = new OptionReader(ctx.query, request.fields);
    return { timer: new StageTimer(), request, options };
  };
  const withinDeadline = <T>(ctx: Context, work: Promise<T>): Promise<T> => {
    const deadline = ctx.state.deadline as AbortSignal | undefined;
    return deadline ? raceDeadline(work, deadline, 'the vision request') : work;
  };
  const decode = (ctx: Context, timer: StageTimer, bytes: Buffer): Promise<DecodedImage> =>
    timer.time('decode', () => decodeImage(bytes, limits, { gate: admission, signal: ctx.state.deadline as AbortSignal | undefined }));
  const faceOptions = (options: OptionReader): FaceDetectionOptions => ({
    minScore: options.number('minScore', defaultFaceDetectionOptions.minScore, 0, 1),
    maxFaces: options.integer('maxFaces', defaultFaceDetectionOptions.maxFaces, 1, maxFacesCap),
    iouThreshold: defaultFaceDetectionOptions.iouThreshold,
  });
  /** Labels the request's metrics and adds the engines' share (queueing in the worker pool included) to the timing. */
  const record = (ctx: Context, timer: StageTimer, answering: MeteredModel, used: MeteredModel[]): void => {
    const state = ctx.state as RequestState;
    const inferenceMs = used.reduce((s, m) => s + m.inferenceMs, 0);
    state.model = { name: answering.name, version: answering.version };
    state.inferenceSeconds = inferenceMs / 1000;
    timer.add('inference', inferenceMs);
  };

  router.post('/v1/vision/faces', async (ctx) => {
    const { timer, request, options } = await begin(ctx);
    const opts = faceOptions(options);
    const detector = new MeteredModel(deps.registry.forTask(faceDetectionTask));
    ctx.body = await withinDeadline(
      ctx,
      (async () => {
        const image = await decode(ctx, timer, request.bytes);
        const faces = await timer.time('detect', () => detectFaces(detector, image, opts));
        record(ctx, timer, detector, [detector]);
        return {
          faces: faces.map((f) => toFaceResult(f, image)),
          image: { width: image.width, height: image.height },
          models: [modelInfo(detector)],
          timing: timer.finish(),
        };
      })(),
    );
  });

  router.post('/v1/vision/facial-expressions', async (ctx) => {
    const { timer, request, options } = await begin(ctx);
    const crop = options.boolean('crop', true);
    const opts = faceOptions(options);
    const classifier = new MeteredModel(deps.registry.forTask(facialExpressionTask));
    const detector = crop ? new MeteredModel(deps.registry.forTask(faceDetectionTask)) : undefined;
    ctx.body = await withinDeadline(
      ctx,
      (async () => {
        const image = await decode(ctx, timer, request.bytes);
        let found: { box: Box; score: number | null; region: Box }[];
        if (detector) {
          const faces = await timer.time('detect', () => detectFaces(detector, image, opts));
          found = faces.map((f) => ({ box: imageBox(f.box, image), score: round4(f.score), region: squareWithMargin(f.box, expressionCropMargin) }));
        } else {
          const whole = { x: 0, y: 0, width: image.pixels.width, height: image.pixels.height };
          found = [{ box: { x: 0, y: 0, width: image.width, height: image.height }, score: null, region: whole }];
        }
        const run = await timer.time('classify', () => classifyExpressions(classifier, image.pixels, found.map((f) => f.region)));
        const used = [detector, classifier].filter((m): m is MeteredModel => m !== undefined && m.calls > 0);
        record(ctx, timer, classifier, used);
        return {
          faces: found.map((f, i) => ({ box: f.box, score: f.score, expression: run.results[i].expression, scores: run.results[i].scores })),
          image: { width: image.width, height: image.height },
          models: used.map(modelInfo),
          timing: timer.finish(),
        };
      })(),
    );
  });

  router.post('/v1/vision/objects', async (ctx) => {
    const { timer, request, options } = await begin(ctx);
    const opts = {
      minScore: options.number('minScore', defaultObjectDetectionOptions.minScore, 0, 1),
      maxResults: options.integer('maxResults', defaultObjectDetectionOptions.maxResults, 1, maxResultsCap),
      iouThreshold: defaultObjectDetectionOptions.iouThreshold,
    };
    const detector = new MeteredModel(deps.registry.forTask(objectDetectionTask));
    ctx.body = await withinDeadline(
      ctx,
      (async () => {
        const image = await decode(ctx, timer, request.bytes);
        const objects = await timer.time('detect', () => detectObjects(detector, image, opts));
        record(ctx, timer, detector, [detector]);
        return { objects, image: { width: image.width, height: image.height }, models: [modelInfo(detector)], timing: timer.finish() };
      })(),
    );
  });

  // The page refers to its files by absolute paths, so /demo and /demo/ both work.
  const serve = (ctx: Context, file: string): void => {
    const asset = assets.get(file);
    if (!asset) return;
    ctx.type = asset.type;
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = asset.body;
  };
  router.get('/demo', (ctx) => serve(ctx, 'index.html'));
  router.get('/demo/', (ctx) => serve(ctx, 'index.html'));
  router.get('/demo/:file', (ctx) => serve(ctx, ctx.params.file ?? ''));
  router.get('/demo/sdk/:file', (ctx) => serve(ctx, `sdk/${ctx.params.file ?? ''}`));

  return router;
}

/**
 * The demo page's URLs. They hold no data and run no model, so a runtime with API keys can leave them open:
 * the page asks its user for a key and sends it with its API calls.
 */
export function demoPagePaths(): string[] {
  return ['/demo', '/demo/', ...[...demoAssets().keys()].map((file) => `/demo/${file}`)];
}

export type { Expression, ExpressionLabel };
