import { expect } from 'chai';
import sharp from 'sharp';
import { pngHeaderOnly } from '../../../unit/inference-runtime/vision/imageFixtures.js';
import { sample, singleFace640x480 } from './samples.js';
import { startVisionServer, type VisionServer } from './visionServer.js';

interface Call {
  path: string;
  body: Uint8Array<ArrayBuffer> | string;
  type: string;
  status: number;
}

describe('vision task APIs: engine memory under mixed traffic', function () {
  this.timeout(600_000);
  let server: VisionServer;

  before(async () => {
    server = await startVisionServer();
  });
  after(async () => {
    await server?.close();
  });

  const tensorsInEngines = async (): Promise<number> =>
    (await server.registry.engineStats()).reduce((sum, s) => sum + Object.values(s.memory).reduce((n, m) => n + m.numTensors, 0), 0);

  it('holds the same number of engine tensors after 500 mixed good and bad requests', async () => {
    const face = new Uint8Array(await singleFace640x480());
    const group = new Uint8Array(await sharp(sample(5)).resize(800).jpeg().toBuffer());
    const small = new Uint8Array(await sharp(sample(4)).resize(480).png().toBuffer());
    const wall = new Uint8Array(await sharp({ create: { width: 320, height: 240, channels: 3, background: '#777' } }).webp().toBuffer());
    const truncated = face.subarray(0, Math.floor(face.length * 0.6));
    const calls: Call[] = [
      { path: '/v1/vision/facial-expressions', body: face, type: 'image/jpeg', status: 200 },
      { path: '/v1/vision/facial-expressions', body: group, type: 'image/jpeg', status: 200 },
      { path: '/v1/vision/facial-expressions?crop=false', body: face, type: 'image/jpeg', status: 200 },
      { path: '/v1/vision/faces', body: small, type: 'image/png', status: 200 },
      { path: '/v1/vision/faces', body: wall, type: 'image/webp', status: 200 },
      { path: '/v1/vision/facial-expressions', body: truncated, type: 'image/jpeg', status: 400 },
      { path: '/v1/vision/faces', body: 'not an image', type: 'image/jpeg', status: 400 },
      { path: '/v1/vision/facial-expressions', body: new Uint8Array(pngHeaderOnly(20000, 20000)), type: 'image/png', status: 413 },
      { path: '/v1/vision/faces?maxFaces=0', body: small, type: 'image/png', status: 400 },
      { path: '/v1/vision/facial-expressions', body: face, type: 'text/plain', status: 415 },
    ];
    const objects: Call = { path: '/v1/vision/objects', body: small, type: 'image/png', status: 200 };
    const send = async (c: Call): Promise<number> => {
      const r = await fetch(`${server.url}${c.path}`, { method: 'POST', body: c.body, headers: { 'Content-Type': c.type } });
      await r.arrayBuffer();
      return r.status;
    };

    // Warm every path once so lazily created engine state is not counted as a leak.
    for (const c of [...calls, objects]) expect(await send(c), c.path).to.equal(c.status);
    const before = await tensorsInEngines();
    expect(before).to.be.greaterThan(0);

    const total = 500;
    const plan = Array.from({ length: total }, (_, i) => (i % 25 === 0 ? objects : calls[i % calls.length]));
    const statuses = new Map<string, number>();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < plan.length) {
        const c = plan[next++];
        const status = await send(c);
        expect(status, `${c.path} ${c.type}`).to.equal(c.status);
        statuses.set(String(status), (statuses.get(String(status)) ?? 0) + 1);
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);

    expect([...statuses.values()].reduce((a, b) => a + b, 0)).to.equal(total);
    expect(statuses.get('200')).to.be.greaterThan(250);
    expect(await tensorsInEngines()).to.equal(before);
  });
});
