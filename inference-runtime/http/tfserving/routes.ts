import { Router } from '@koa/router';
import { MemoryBudget } from '../../core/memoryBudget.js';
import type { ModelRegistry } from '../../core/registry.js';
import { expectedBodyBytes, inferenceBytes, jsonParseBytes } from '../../core/requestMemory.js';
import { runModelInference } from '../modelInference.js';
import type { HttpOptions } from '../options.js';
import { readJsonBody } from '../requestBody.js';
import type { RequestState } from '../requestState.js';
import { parsePredictRequest, predictResponseJson } from './jsonTensor.js';
import { modelMetadataResponse, modelStatusResponse } from './modelStatus.js';

/**
 * TF Serving's REST API (model status, metadata, predict) as a thin adapter over the model registry.
 * Versions are the pool's version strings; without one, the registry picks the version it serves.
 */
export function tfServingRouter(
  registry: ModelRegistry,
  options: Pick<HttpOptions, 'maxBodyBytes' | 'maxRowsPerRequest'>,
  budget: MemoryBudget = new MemoryBudget(),
): Router<RequestState> {
  const router = new Router<RequestState>();

  for (const path of ['/v1/models/:name', '/v1/models/:name/versions/:version']) {
    router.get(path, (ctx) => {
      ctx.body = modelStatusResponse(registry.list(), ctx.params.name!, ctx.params.version);
    });
    router.get(`${path}/metadata`, (ctx) => {
      const model = registry.resolve(ctx.params.name!, ctx.params.version);
      const { backend, backendNote } = model.status();
      const engine = backend ? { name: backend, ...(backendNote ? { note: backendNote } : {}) } : undefined;
      ctx.body = modelMetadataResponse(model.name, model.version, model.signature(), engine);
    });
    // A literal colon separates the model path from the verb, as in TF Serving's URLs.
    router.post(`${path}\\:predict`, async (ctx) => {
      const model = registry.resolve(ctx.params.name!, ctx.params.version);
      ctx.state.model = { name: model.name, version: model.version };
      const signature = model.signature();
      // The parsed body is the first large allocation: claim it before reading, then trade the claim for the
      // engine's once the rows are known (the parsed JSON is garbage by then and counted in the RSS).
      const parsing = budget.admit(jsonParseBytes(expectedBodyBytes(ctx.req.headers, options.maxBodyBytes)), 'parsing the request body');
      let request;
      try {
        const { value, bytes } = await readJsonBody(ctx, { maxBytes: options.maxBodyBytes, signal: ctx.state.deadline });
        request = parsePredictRequest(value, signature.inputs, bytes, options.maxRowsPerRequest);
      } finally {
        parsing.release();
      }
      const outputs = await runModelInference(model, request.inputs, ctx.state, budget, inferenceBytes(request.inputs));
      ctx.type = 'application/json';
      ctx.body = predictResponseJson(outputs, request.format, signature.outputs.map((o) => o.name));
    });
  }
  return router;
}
