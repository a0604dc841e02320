import type { MountContext } from '../app.js';
import { Router } from '@koa/router';
import { NotReady } from '../../core/errors.js';
import { MemoryBudget } from '../../core/memoryBudget.js';
import { expectedBodyBytes, jsonParseBytes } from '../../core/requestMemory.js';
import type { ModelRegistry } from '../../core/registry.js';
import { DataPlane } from '../../dataplane/dataPlane.js';
import { runModelInference } from '../modelInference.js';
import type { HttpOptions } from '../options.js';
import { readBody } from '../requestBody.js';
import type { RequestState } from '../requestState.js';
import { decodeInferRequest } from './inferRequest.js';
import { INFERENCE_HEADER, inferenceHeaderLength } from './inferenceHeader.js';
import { encodeInferResponse } from './inferResponse.js';
import { modelMetadata, serverMetadata } from './metadata.js';
import { assertModelReady, findModel, modelVersions } from './models.js';

/** V2 as one of the app's protocol mounts, over the data plane. */
export function v2Protocol(context: MountContext): Router<RequestState>[] {
  return [v2Router(context.plane, context.options, context.memoryBudget, context.draining)];
}

/**
 * The Open Inference Protocol (KServe V2 / Triton HTTP) REST API with the binary tensor data extension, as a
 * thin codec + router over the data plane. Errors are the protocol's `{"error": "..."}` bodies with their
 * status, from the app's error middleware.
 */
export function v2Router(
  registry: ModelRegistry,
  options: Pick<HttpOptions, 'maxBodyBytes' | 'maxRowsPerRequest'>,
  budget: MemoryBudget = new MemoryBudget(),
  draining?: AbortSignal,
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
    router.post(`${path}/infer`, async (ctx) => {
      const model = findModel(plane, ctx.params.name!, ctx.params.version);
      ctx.state.model = { name: model.name, version: model.version };
      const signature = model.signature();
      const headerLength = inferenceHeaderLength(ctx.req.headers[INFERENCE_HEADER.toLowerCase()]);
      // Claim what reading the body will hold before reading it: the body itself, and the parsed form of its
      // JSON part (all of it without the binary extension), which the tensors replace once decoded.
      const bodyBytes = expectedBodyBytes(ctx.req.headers, options.maxBodyBytes);
      const jsonBytes = headerLength === undefined ? bodyBytes : Math.min(headerLength, bodyBytes);
      const parsing = budget.admit(bodyBytes + jsonParseBytes(jsonBytes), 'parsing the request body');
      let request;
      try {
        const body = await readBody(ctx.req, { maxBytes: options.maxBodyBytes, signal: ctx.state.deadline });
        request = decodeInferRequest(body, headerLength, { name: model.name, signature }, options.maxRowsPerRequest);
      } finally {
        parsing.release();
      }
      const outputs = await runModelInference(plane, model, request.inputs, ctx.state, budget);
      const response = encodeInferResponse(model, request.id, outputs, request.outputs);
      if (response.headerLength === undefined) {
        ctx.type = 'application/json';
      } else {
        ctx.set(INFERENCE_HEADER, String(response.headerLength));
        ctx.type = 'application/octet-stream';
      }
      ctx.body = response.body;
    });
  }
  return router;
}
