import { expect } from 'chai';
import type { Box, FacesResponse, FacialExpressionsResponse, ObjectsResponse } from '../../../../clients/typescript/src/index.js';
import { sample, visibleFaces } from './samples.js';
import { startVisionServer, type VisionServer } from './visionServer.js';

const COMPILED = 'onnx (compiled from tfjs-graph)';
const samples = Object.keys(visibleFaces).map(Number);

/** Boxes in input-image pixels (1920 px photos): engines that agree to 1e-3 of the output range agree to a pixel or two. */
function expectSameBox(what: string, a: Box, b: Box, px = 2): void {
  for (const k of ['x', 'y', 'width', 'height'] as const) expect(Math.abs(a[k] - b[k]), `${what} ${k}: ${a[k]} vs ${b[k]}`).to.be.at.most(px);
}

const byPosition = <T extends { box: Box }>(xs: T[]): T[] => [...xs].sort((p, q) => p.box.x - q.box.x || p.box.y - q.box.y);

/**
 * The task APIs must answer the same whichever engine runs the models: the same pool served once with every
 * model forced onto tfjs-wasm and once with the verified compiled ONNX models (`auto`), on face-api's photos.
 */
describe('vision task APIs: same answers on tfjs-wasm and on compiled ONNX', function () {
  this.timeout(600_000);
  let tfjs: VisionServer;
  let compiled: VisionServer;

  async function both<T>(path: string, body: Buffer): Promise<[T, T]> {
    const ask = async (server: VisionServer): Promise<T> => {
      const response = await fetch(`${server.url}${path}`, { method: 'POST', body: new Uint8Array(body), headers: { 'Content-Type': 'image/jpeg' } });
      const json = (await response.json()) as T & { error?: string };
      expect(response.status, json.error).to.equal(200);
      return json;
    };
    return [await ask(tfjs), await ask(compiled)];
  }

  before(async () => {
    [tfjs, compiled] = await Promise.all([startVisionServer({ backend: 'tfjs' }), startVisionServer({ backend: 'auto' })]);
  });
  after(async () => {
    await Promise.all([tfjs?.close(), compiled?.close()]);
  });

  it('serves every model of the pool compiled under auto, and on tfjs-wasm when tfjs is forced', () => {
    expect(compiled.registry.list().map((m) => [m.name, m.backend])).to.deep.equal([
      ['face-detector', COMPILED],
      ['facial-expression', COMPILED],
      ['object-detector', COMPILED],
    ]);
    expect(new Set(tfjs.registry.list().map((m) => m.backend))).to.deep.equal(new Set(['tfjs-wasm']));
  });

  it('names the engine in the pool listing and in each model\'s metadata', async () => {
    const listing = (await (await fetch(`${compiled.url}/v1/models`)).json()) as { models: { name: string; backend: string; backendNote?: string }[] };
    expect(listing.models.map((m) => [m.name, m.backend])).to.deep.equal([
      ['face-detector', COMPILED],
      ['facial-expression', COMPILED],
      ['object-detector', COMPILED],
    ]);
    expect(listing.models[2].backendNote).to.match(/^batch fixed at 1: /);
    for (const [server, backend] of [
      [compiled, COMPILED],
      [tfjs, 'tfjs-wasm'],
    ] as const) {
      const meta = (await (await fetch(`${server.url}/v1/models/facial-expression/metadata`)).json()) as { metadata: { backend: { name: string } } };
      expect(meta.metadata.backend.name).to.equal(backend);
    }
  });

  for (const n of samples) {
    it(`sample${n}.jpg: the same faces, landmarks and expressions`, async () => {
      const [a, b] = await both<FacialExpressionsResponse>('/v1/vision/facial-expressions', sample(n));
      expect(a.models.map((m) => m.backend)).to.deep.equal(['tfjs-wasm', 'tfjs-wasm']);
      expect(b.models.map((m) => m.backend)).to.deep.equal([COMPILED, COMPILED]);
      expect(b.faces).to.have.length(a.faces.length);
      expect(a.faces).to.have.length(visibleFaces[n]);
      const [fa, fb] = [byPosition(a.faces), byPosition(b.faces)];
      fa.forEach((face, i) => {
        const other = fb[i];
        expectSameBox(`face ${i}`, other.box, face.box);
        expect(other.score ?? 0, `face ${i} score`).to.be.closeTo(face.score ?? 0, 2e-3);
        expect(other.expression.code, `face ${i} expression`).to.equal(face.expression.code);
        expect(other.expression.confidence, `face ${i} confidence`).to.be.closeTo(face.expression.confidence, 2e-3);
        for (const [label, p] of Object.entries(face.scores)) expect(other.scores[label as keyof typeof face.scores], label).to.be.closeTo(p, 2e-3);
      });

      const [da, db] = await both<FacesResponse>('/v1/vision/faces', sample(n));
      expect(db.faces).to.have.length(da.faces.length);
      const [la, lb] = [byPosition(da.faces), byPosition(db.faces)];
      la.forEach((face, i) => {
        for (const [name, p] of Object.entries(face.landmarks)) {
          const q = lb[i].landmarks[name as keyof typeof face.landmarks];
          expect(Math.hypot(q.x - p.x, q.y - p.y), `face ${i} ${name}`).to.be.at.most(2);
        }
      });
    });
  }

  for (const n of samples) {
    it(`sample${n}.jpg: the same objects`, async () => {
      const [a, b] = await both<ObjectsResponse>('/v1/vision/objects', sample(n));
      expect(a.objects.length).to.be.greaterThan(0);
      // An object scoring right at the cut-off (0.25) may fall either side of it; everything clear of it must
      // be found by both, with the same label, box and score.
      const clear = (o: { score: number }) => o.score >= 0.27;
      for (const [mine, theirs, side] of [
        [a.objects, b.objects, 'compiled'],
        [b.objects, a.objects, 'tfjs'],
      ] as const) {
        for (const o of mine.filter(clear)) {
          const match = theirs.find((t) => t.label === o.label && Math.abs(t.box.x - o.box.x) <= 3 && Math.abs(t.box.y - o.box.y) <= 3);
          expect(match, `${o.label} at ${Math.round(o.box.x)},${Math.round(o.box.y)} found on ${side}`).to.not.equal(undefined);
          expectSameBox(o.label, match!.box, o.box, 3);
          expect(match!.score, `${o.label} score`).to.be.closeTo(o.score, 5e-3);
        }
      }
    });
  }

  it('leaves the engines holding the same tensors after repeated requests on the compiled models', async () => {
    const held = async () => (await compiled.registry.engineStats()).reduce((n, s) => n + Object.values(s.memory).reduce((k, m) => k + m.numTensors, 0), 0);
    const before = await held();
    expect(before).to.be.greaterThan(0);
    for (let i = 0; i < 30; i++) {
      const path = ['/v1/vision/facial-expressions', '/v1/vision/faces', '/v1/vision/objects'][i % 3];
      const response = await fetch(`${compiled.url}${path}`, { method: 'POST', body: new Uint8Array(sample((i % 6) + 1)), headers: { 'Content-Type': 'image/jpeg' } });
      expect(response.status).to.equal(200);
      await response.arrayBuffer();
    }
    expect(await held()).to.equal(before);
  });
});
