// The client SDK in headless Chromium: its built ES modules, loaded from a runtime like the demo page loads
// them, calling two runtimes of different origins (CORS) behind delaying proxies: it picks the nearer one,
// reads the catalogue with its ETag, runs V2 inference with binary tensors, fails over when that runtime goes away, and reports 4xx as ApiError.
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { Registry } from 'prom-client';
import { FACIAL_EXPRESSION } from '../../../../inference-runtime/config/defaultPool.js';
import { createModelRegistry, type PoolModelRegistry } from '../../../../inference-runtime/dataplane/modelRegistry.js';
import { createApp } from '../../../../inference-runtime/http/app.js';
import { startServer, type RunningServer } from '../../../../inference-runtime/server.js';
import { demoPagePaths, visionRouter } from '../../../../inference-runtime/tasks/vision/visionRouter.js';
import { startDelayProxy, type DelayProxy } from '../../../helpers/delayProxy.js';
import { faceCrop } from '../../../helpers/edgeLab.js';
import { launchChromium } from '../../../helpers/headlessChromium.js';
import { buildSdk } from '../../../helpers/sdkBuild.js';

const CACHE_DIR = path.join(os.tmpdir(), 'mloffload-http-test-cache');
const KEY = 'browser-test-key';

interface BrowserReport {
  first: string;
  order: string[];
  answer: { faces: number; label: string; models: string[] };
  etag: string | undefined;
  sameEtag: boolean;
  catalogueEvents: number;
  failover: { errors: string[]; answered: number; first: string; nearDown: boolean };
  apiError: { name: string; status: number } | string;
  noDetector: string;
  v2: { binaryType: string; equal: boolean; length: number };
}

describe('client SDK in headless Chromium', function () {
  this.timeout(300_000);
  let registry: PoolModelRegistry;
  const servers: RunningServer[] = [];
  const proxies: DelayProxy[] = [];
  let browser: BrowserContext;
  let profile: string;

  before(async () => {
    await buildSdk();
    registry = createModelRegistry({ models: [FACIAL_EXPRESSION] }, { repository: { cacheDir: CACHE_DIR }, workers: 0, benchmark: false });
    await registry.whenSettled();
    for (let i = 0; i < 2; i++) {
      const app = createApp({ registry, metrics: new Registry(), options: { apiKeys: [KEY] }, routers: [visionRouter({ registry })], publicPaths: demoPagePaths() });
      servers.push(await startServer(app.callback(), { port: 0, host: '127.0.0.1' }));
    }
    // The page's own node is far (60 ms); the other origin is near (2 ms).
    proxies.push(await startDelayProxy({ target: { host: '127.0.0.1', port: servers[0]!.port }, rttMs: 60 }));
    proxies.push(await startDelayProxy({ target: { host: '127.0.0.1', port: servers[1]!.port }, rttMs: 2 }));
    profile = mkdtempSync(path.join(os.tmpdir(), 'mloffload-sdk-browser-'));
    browser = await launchChromium(profile);
  });
  after(async () => {
    await browser?.close();
    await Promise.all(proxies.map((p) => p.close()));
    await Promise.all(servers.map((s) => s.close()));
    await registry?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('selects the nearer origin, syncs the catalogue, fails over and reports API errors, in the browser', async () => {
    const [far, near] = proxies.map((p) => p.url) as [string, string];
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${far}/demo`);
    const crop = Buffer.from(await faceCrop()).toString('base64');

    const nearPort = proxies[1]!.port;
    // The near runtime goes away mid-run: its address refuses connections from then on.
    await page.exposeFunction('stopNear', () => proxies[1]!.close());
    const report: BrowserReport = await page.evaluate(
      async ({ far, near, key, crop, nearPort }) => {
        const sdk = (await import('/demo/sdk/index.js' as string)) as typeof import('../../../../clients/typescript/src/index.js');
        const client = new sdk.MLOffloadClient({ endpoints: [far, near], apiKey: key, probeIntervalMs: 0, catalogueIntervalMs: 0, backoff: { baseMs: 60_000, maxMs: 60_000 } });
        await client.ready();
        for (let i = 0; i < 3; i++) await client.probe();
        const order = client.endpoints().map((e) => e.url);
        const image = new Blob([Uint8Array.from(atob(crop), (c) => c.charCodeAt(0))], { type: 'image/jpeg' });
        const result = await client.vision.facialExpressions(image, { crop: false });
        // V2 binary tensors across origins: the framing header must be exposed by CORS for the page to read it.
        const zeros = [{ name: 'input_1', shape: [1, 64, 64, 1], datatype: 'FP32' as const, data: new Float32Array(4096) }];
        const binary = (await client.v2.infer('facial-expression', zeros)).outputs[0]!.data;
        const json = (await client.v2.infer('facial-expression', zeros, { binary: false })).outputs[0]!.data;
        const v2 = { binaryType: binary.constructor.name, equal: JSON.stringify(Array.from(binary as Float32Array)) === JSON.stringify(json), length: binary.length };
        let catalogueEvents = 0;
        client.on('catalogue', () => catalogueEvents++);
        const one = await client.catalogue();
        const two = await client.catalogue();
        await (window as unknown as { stopNear: () => Promise<void> }).stopNear();
        const errors: string[] = [];
        let answered = 0;
        for (let i = 0; i < 6; i++) {
          try {
            await client.vision.facialExpressions(image, { crop: false });
            answered++;
          } catch (error) {
            errors.push(String(error));
          }
        }
        const after = client.endpoints();
        // This pool has no face detector: a call that needs one has nowhere to go, without a request.
        let noDetector = '';
        await client.vision.facialExpressions(image).catch((error: Error) => (noDetector = `${error.name}: ${error.message}`));
        let apiError: { name: string; status: number } | string;
        try {
          await client.vision.facialExpressions(new Blob(['not an image'], { type: 'image/jpeg' }), { crop: false });
          apiError = 'no error';
        } catch (error) {
          apiError = error instanceof sdk.ApiError ? { name: error.name, status: error.status } : String(error);
        }
        client.close();
        return {
          first: order[0]!,
          order,
          answer: { faces: result.faces.length, label: result.faces[0]?.expression.label ?? '', models: result.models.map((m) => `${m.name}@${m.version}`) },
          etag: one.etag,
          sameEtag: one.etag === two.etag && one === two,
          catalogueEvents,
          failover: { errors, answered, first: after[0]!.url, nearDown: after.some((e) => e.url.endsWith(`:${nearPort}`) && !e.up) },
          apiError,
          noDetector,
          v2,
        };
      },
      { far, near, key: KEY, crop, nearPort },
    );
    expect(pageErrors).to.deep.equal([]);
    expect(report.order).to.deep.equal([near, far]);
    expect(report.first).to.equal(near);
    expect(report.answer.faces).to.equal(1);
    expect(report.answer.label).to.equal('happy');
    expect(report.answer.models).to.deep.equal(['facial-expression@1']);
    // The ETag crossed origins (exposed by CORS) and the second look was a 304 that kept the same listing.
    expect(report.etag).to.match(/^"/);
    expect(report.sameEtag).to.equal(true);
    expect(report.catalogueEvents).to.equal(1);
    expect(report.failover).to.deep.equal({ errors: [], answered: 6, first: far, nearDown: true });
    expect(report.apiError).to.deep.equal({ name: 'ApiError', status: 400 });
    expect(report.v2).to.deep.equal({ binaryType: 'Float32Array', equal: true, length: 7 });
    expect(report.noDetector).to.equal('NoEndpointError: no endpoint serves vision/facial-expression and vision/face-detection');
  });
});
