import { Router } from '@koa/router';
import { MemoryBudget, type Reservation } from '../../core/memoryBudget.js';
import type { ModelRegistry, ServingModel } from '../../core/registry.js';
import { expectedBodyBytes, inferenceBytes, jsonParseBytes } from '../../core/requestMemory.js';
import { raceDeadline } from '../deadline.js';
import type { HttpOptions } from '../options.js';
import { readJsonBytes } from '../requestBody.js';
import type { RequestState } from '../requestState.js';
import { parseFlatPredict } from './flatTensorJson.js';
import { parsePredictRequest, predictResponseJson } from './jsonTensor.js';
import { parseTfServingJson } from './jsonText.js';
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
        const body = await readJsonBytes(ctx, { maxBytes: options.maxBodyBytes, signal: ctx.state.deadline });
        request =
          parseFlatPredict(body, signature.inputs, options.maxRowsPerRequest) ??
          parsePredictRequest(parseTfServingJson(body.toString('utf8')), signature.inputs, body.length, options.maxRowsPerRequest);
      } finally {
        parsing.release();
      }
      const running = budget.admit(inferenceBytes(request.inputs), `inference on ${model.name}`);
      const outputs = await timedInference(model, request.inputs, ctx.state, running);
      ctx.type = 'application/json';
      ctx.body = predictResponseJson(outputs, request.format, signature.outputs.map((o) => o.name));
    });
  }
  return router;
}

async function timedInference(model: ServingModel, inputs: Parameters<ServingModel['infer']>[0], state: RequestState, claim: Reservation) {
  const start = process.hrtime.bigint();
  try {
    // The inputs were built for this call alone, so their buffers can move to the inference thread.
    let work: ReturnType<ServingModel['infer']>;
    try {
      work = model.infer(inputs, { signal: state.deadline, transfer: true });
    } catch (error) {
      claim.release();
      throw error;
    }
    // The engine keeps its memory until the work ends, even when the client has been answered (deadline).
    work.then(claim.release, claim.release);
    return await raceDeadline(work, state.deadline, `inference on ${model.name}`);
  } finally {
    state.inferenceSeconds = Number(process.hrtime.bigint() - start) / 1e9;
  }
}
