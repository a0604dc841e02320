import { Router } from '@koa/router';
import { ModelNotFound } from '../../core/errors.js';
import { MemoryBudget } from '../../core/memoryBudget.js';
import type { ModelRegistry } from '../../core/registry.js';
import { expectedBodyBytes, jsonParseBytes } from '../../core/requestMemory.js';
import { DataPlane } from '../../dataplane/dataPlane.js';
import type { MountContext } from '../app.js';
import { JSON_TYPE, koaRoute, type DirectHandler, type DirectRoutes } from '../directRoutes.js';
import { runModelInference } from '../modelInference.js';
import type { HttpOptions } from '../options.js';
import { readJsonBytes } from '../requestBody.js';
import type { RequestState } from '../requestState.js';
import { parseFlatPredict } from './flatTensorJson.js';
import { parsePredictRequest, predictResponseJson } from './jsonTensor.js';
import { parseTfServingJson } from './jsonText.js';
import { modelMetadataResponse, modelStatusResponse } from './modelStatus.js';

/** TF Serving REST as one of the app's protocols. */
export function tfServingProtocol(context: MountContext): Router<RequestState>[] {
  return [tfServingRouter(context.plane, context.options, context.memoryBudget, context.direct)];
}

/**
 * TF Serving's REST API (model status, metadata, predict) as a codec + router over the data plane.
 * Versions are the pool's version strings; without one, the plane picks the version it serves. `:predict` is
 * registered in `direct` too, when given, to be served without koa (directRoutes.ts).
 */
export function tfServingRouter(
  registry: ModelRegistry,
  options: Pick<HttpOptions, 'maxBodyBytes' | 'maxRowsPerRequest'>,
  budget: MemoryBudget = new MemoryBudget(),
  direct?: DirectRoutes,
): Router<RequestState> {
  const plane = DataPlane.over(registry);
  const router = new Router<RequestState>();

  for (const path of ['/v1/models/:name', '/v1/models/:name/versions/:version']) {
    router.get(path, (ctx) => {
      ctx.body = modelStatusResponse(plane.list(), ctx.params.name!, ctx.params.version);
    });
    router.get(`${path}/metadata`, (ctx) => {
      const { name, version, signature, backend } = inTfServingTerms(() => plane.metadata(ctx.params.name!, ctx.params.version));
      ctx.body = modelMetadataResponse(name, version, signature, backend);
    });
    // A literal colon separates the model path from the verb, as in TF Serving's URLs.
    const predict = predictRoute(plane, options, budget);
    router.post(`${path}\\:predict`, koaRoute(predict));
    direct?.add({ path: `${path}\\:predict`, handle: predict });
  }
  return router;
}

/** `POST ...:predict`: rows or columns decoded against the model's inputs, one inference, the outputs as JSON. */
function predictRoute(plane: DataPlane, options: Pick<HttpOptions, 'maxBodyBytes' | 'maxRowsPerRequest'>, budget: MemoryBudget): DirectHandler {
  return async (req, params, state) => {
    const model = inTfServingTerms(() => plane.resolve(params.name!, params.version));
    state.model = { name: model.name, version: model.version };
    const signature = model.signature();
    // The parsed body is the first large allocation: claim it before reading, then trade the claim for the
    // engine's once the rows are known (the parsed JSON is garbage by then and counted in the RSS).
    const parsing = budget.admit(jsonParseBytes(expectedBodyBytes(req.headers, options.maxBodyBytes)), 'parsing the request body');
    let request;
    try {
      const body = await readJsonBytes({ req }, { maxBytes: options.maxBodyBytes, signal: state.deadline });
      request =
        parseFlatPredict(body, signature.inputs, options.maxRowsPerRequest) ??
        parsePredictRequest(parseTfServingJson(body.toString('utf8')), signature.inputs, body.length, options.maxRowsPerRequest);
    } finally {
      parsing.release();
    }
    const outputs = await runModelInference(plane, model, request.inputs, state, budget);
    return { contentType: JSON_TYPE, body: predictResponseJson(outputs, request.format, signature.outputs.map((o) => o.name)) };
  };
}

/** TF Serving's wording for an unknown model or version, as its clients match on it. */
function inTfServingTerms<T>(lookup: () => T): T {
  try {
    return lookup();
  } catch (error) {
    if (error instanceof ModelNotFound && error.lookup) {
      const { name, version } = error.lookup;
      throw new ModelNotFound(`Servable not found for request: ${version === undefined ? `Latest(${name})` : `Specific(${name}, ${version})`}`, error.lookup);
    }
    throw error;
  }
}
