import type { MountContext } from '../app.js';
import { Router } from '@koa/router';
import { NotReady } from '../../core/errors.js';
import { MemoryBudget } from '../../core/memoryBudget.js';
import { expectedBodyBytes, jsonParseBytes } from '../../core/requestMemory.js';
import type { ModelRegistry } from '../../core/registry.js';
import { DataPlane } from '../../dataplane/dataPlane.js';
import { koaRoute, JSON_TYPE, OCTET_STREAM_TYPE, type DirectHandler, type DirectRoutes } from '../directRoutes.js';
import { runModelInference } from '../modelInference.js';
import type { HttpOptions } from '../options.js';
import { readBody } from '../requestBody.js';
import type { RequestState } from '../requestState.js';
import { decodeInferRequest } from './inferRequest.js';
import { INFERENCE_HEADER, inferenceHeaderLength } from './inferenceHeader.js';
import { encodeInferResponse } from './inferResponse.js';
import { modelMetadata, serverMetadata } from './metadata.js';
import { assertModelReady, findModel, modelVersions } from './models.js';

const INFERENCE_HEADER_KEY = INFERENCE_HEADER.toLowerCase();

/** V2 as one of the app's protocol mounts, over the data plane. */
export function v2Protocol(context: MountContext): Router<RequestState>[] {
  return [v2Router(context.plane, context.options, context.memoryBudget, context.draining, context.direct)];
}

/**
 * The Open Inference Protocol (KServe V2 / Triton HTTP) REST API with the binary tensor data extension, as a
 * thin codec + router over the data plane. Errors are the protocol's `{"error": "..."}` bodies with their
 * status, from the app's error middleware. `/infer` is registered in `direct` too, when given, to be served
 * without koa (directRoutes.ts).
 */
export function v2Router(
  registry: ModelRegistry,
  options: Pick<HttpOptions, 'maxBodyBytes' | 'maxRowsPerRequest'>,
  budget: MemoryBudget = new MemoryBudget(),
  draining?: AbortSignal,
  direct?: DirectRoutes,
): Router<RequestState> {
  const plane = DataPlane.over(registry);
  const router = new Router<RequestState>();

  router.get('/v2', (ctx) => {
    ctx.body = serverMetadata();
  });
  router.get('/v2/health/live', (ctx) => {
    ctx.body = { live: true };
  });
  router.get('/v2/health/ready', (ctx) => {
    if (draining?.aborted) throw new NotReady('the server is shutting down');
    if (!plane.isReady()) throw new NotReady('not every model of the pool is loaded yet');
    ctx.body = { ready: true };
  });

  for (const path of ['/v2/models/:name', '/v2/models/:name/versions/:version']) {
    router.get(path, (ctx) => {
      const model = findModel(plane, ctx.params.name!, ctx.params.version);
      ctx.body = modelMetadata(model.name, modelVersions(plane, model.name), model.config.framework, model.signature());
    });
    router.get(`${path}/ready`, (ctx) => {
      const model = findModel(plane, ctx.params.name!, ctx.params.version);
      assertModelReady(model);
      ctx.body = { name: model.name, ready: true };
    });
    const infer = inferRoute(plane, options, budget);
    router.post(`${path}/infer`, koaRoute(infer));
    direct?.add({ path: `${path}/infer`, handle: infer });
  }
  return router;
}

/** `POST .../infer`: the request decoded against its model, one inference, the response in the framing asked for. */
function inferRoute(plane: DataPlane, options: Pick<HttpOptions, 'maxBodyBytes' | 'maxRowsPerRequest'>, budget: MemoryBudget): DirectHandler {
  return async (req, params, state) => {
    const model = findModel(plane, params.name!, params.version);
    state.model = { name: model.name, version: model.version };
    const signature = model.signature();
    const headerLength = inferenceHeaderLength(req.headers[INFERENCE_HEADER_KEY]);
    // Claim what reading the body will hold before reading it: the body itself, and the parsed form of its
    // JSON part (all of it without the binary extension), which the tensors replace once decoded.
    const bodyBytes = expectedBodyBytes(req.headers, options.maxBodyBytes);
    const jsonBytes = headerLength === undefined ? bodyBytes : Math.min(headerLength, bodyBytes);
    const parsing = budget.admit(bodyBytes + jsonParseBytes(jsonBytes), 'parsing the request body');
    let request;
    try {
      const body = await readBody(req, { maxBytes: options.maxBodyBytes, signal: state.deadline });
      request = decodeInferRequest(body, headerLength, { name: model.name, signature }, options.maxRowsPerRequest);
    } finally {
      parsing.release();
    }
    const outputs = await runModelInference(plane, model, request.inputs, state, budget);
    const response = encodeInferResponse(model, request.id, outputs, request.outputs);
    if (response.headerLength === undefined) return { contentType: JSON_TYPE, body: response.body };
    return { contentType: OCTET_STREAM_TYPE, headers: { [INFERENCE_HEADER]: String(response.headerLength) }, body: response.body };
  };
}
