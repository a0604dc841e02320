import { expect } from 'chai';
import sharp from 'sharp';
import type { Box, FacesResponse, FacialExpressionsResponse, ObjectsResponse } from '../../../../clients/typescript/src/index.js';
import { pngHeaderOnly } from '../../../unit/inference-runtime/vision/imageFixtures.js';
import { sample, smilingFaces, visibleFaces } from './samples.js';
import { startVisionServer, type VisionServer } from './visionServer.js';

interface Answer<T> {
  status: number;
  body: T & { error?: string };
}

const contains = (b: Box, x: number, y: number) => x >= b.x && x <= b.x + b.width && y >= b.y && y <= b.y + b.height;
const centre = (b: Box) => ({ x: b.x + b.width / 2, y: b.y + b.height / 2 });

describe('vision task APIs (real models)', function () {
  this.timeout(300_000);
  let server: VisionServer;

  async function post<T>(path: string, body: BodyInit, type?: string): Promise<Answer<T>> {
    const headers: Record<string, string> = type ? { 'Content-Type': type } : {};
    const response = await fetch(`${server.url}${path}`, { method: 'POST', body, headers });
    return { status: response.status, body: (await response.json()) as T & { error?: string } };
  }
  const jpeg = (bytes: Buffer) => new Uint8Array(bytes);

  before(async () => {
    server = await startVisionServer();
  });
  after(async () => {
    await server?.close();
  });

  describe('POST /v1/vision/faces', () => {
    for (const [n, count] of Object.entries(visibleFaces)) {
      it(`finds the ${count} visible faces of sample${n}.jpg, boxed inside the image and around the eyes and mouth`, async () => {
        const { status, body } = await post<FacesResponse>('/v1/vision/faces', jpeg(sample(Number(n))), 'image/jpeg');
        expect(status, body.error).to.equal(200);
        expect(body.faces).to.have.length(count);
        for (const face of body.faces) {
          const b = face.box;
          expect(b.x).to.be.at.least(0);
          expect(b.y).to.be.at.least(0);
          expect(b.x + b.width).to.be.at.most(body.image.width);
          expect(b.y + b.height).to.be.at.most(body.image.height);
          // A face in these photos is 150-250 px: a box of that size that holds the eyes, nose and mouth covers it.
          expect(b.width).to.be.within(100, 400);
          for (const name of ['rightEye', 'leftEye', 'noseTip', 'mouthCenter'] as const) {
            expect(contains(b, face.landmarks[name].x, face.landmarks[name].y), `${name} inside the box`).to.equal(true);
          }
          expect(face.landmarks.rightEye.y).to.be.lessThan(face.landmarks.mouthCenter.y);
          expect(face.score).to.be.within(0.4, 1);
        }
        expect(body.image).to.deep.equal({ width: 1920, height: (await sharp(sample(Number(n))).metadata()).height });
        expect(body.models).to.deep.equal([{ name: 'face-detector', version: '1', task: 'vision/face-detection', backend: body.models[0].backend }]);
        expect(body.timing.decode).to.be.greaterThan(0);
        expect(body.timing.detect).to.be.greaterThan(0);
        expect(body.timing.total).to.be.at.least(body.timing.decode + (body.timing.detect ?? 0) - 0.05);
      });
    }

    it('finds the same faces in a photo stored sideways with an EXIF orientation that shows it upright', async () => {
      const upright = sample(3);
      // Pixels turned a quarter anticlockwise; orientation 6 asks viewers to turn them back clockwise.
      const stored = await sharp(upright).rotate(-90).withMetadata({ orientation: 6 }).jpeg({ quality: 92 }).toBuffer();
      const meta = await sharp(stored).metadata();
      expect([meta.width, meta.height, meta.orientation]).to.deep.equal([1350, 1920, 6]);
      const a = await post<FacesResponse>('/v1/vision/faces', jpeg(upright), 'image/jpeg');
      const b = await post<FacesResponse>('/v1/vision/faces', jpeg(stored), 'image/jpeg');
      expect(b.body.image).to.deep.equal(a.body.image);
      expect(b.body.faces).to.have.length(a.body.faces.length);
      const sorted = (r: FacesResponse) => [...r.faces].sort((p, q) => p.box.x - q.box.x);
      sorted(b.body).forEach((face, i) => {
        const other = sorted(a.body)[i];
        expect(Math.abs(centre(face.box).x - centre(other.box).x)).to.be.below(10);
        expect(Math.abs(centre(face.box).y - centre(other.box).y)).to.be.below(10);
        expect(Math.abs(face.box.width - other.box.width)).to.be.below(10);
      });
    });

    it('takes the image as multipart field "image" or JSON b64 as well, with options in the body', async () => {
      const bytes = sample(6);
      const raw = await post<FacesResponse>('/v1/vision/faces?maxFaces=2', jpeg(bytes), 'image/jpeg');
      expect(raw.body.faces).to.have.length(2);
      const form = new FormData();
      form.append('image', new Blob([jpeg(bytes)], { type: 'image/jpeg' }), 'sample6.jpg');
      form.append('maxFaces', '2');
      const multipart = await post<FacesResponse>('/v1/vision/faces', form);
      expect(multipart.status, multipart.body.error).to.equal(200);
      expect(multipart.body.faces).to.deep.equal(raw.body.faces);
      const json = await post<FacesResponse>('/v1/vision/faces', JSON.stringify({ image: { b64: bytes.toString('base64') }, maxFaces: 2 }), 'application/json');
      expect(json.status, json.body.error).to.equal(200);
      expect(json.body.faces).to.deep.equal(raw.body.faces);
    });

    it('returns an empty list for a photo without faces', async () => {
      const wall = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#6a7f96' } }).jpeg().toBuffer();
      const { status, body } = await post<FacesResponse>('/v1/vision/faces', jpeg(wall), 'image/jpeg');
      expect(status).to.equal(200);
      expect(body.faces).to.deep.equal([]);
    });

    it('applies minScore', async () => {
      const { body } = await post<FacesResponse>('/v1/vision/faces?minScore=0.99', jpeg(sample(2)), 'image/jpeg');
      expect(body.faces).to.deep.equal([]);
    });
  });

  describe('POST /v1/vision/facial-expressions', () => {
    for (const n of [1, 3, 4, 6]) {
      const smiling = smilingFaces.filter((s) => s.sample === n);
      it(`labels the clearly smiling face(s) of sample${n}.jpg happy (code 3), every face with all 7 scores`, async () => {
        const { status, body } = await post<FacialExpressionsResponse>('/v1/vision/facial-expressions', jpeg(sample(n)), 'image/jpeg');
        expect(status, body.error).to.equal(200);
        expect(body.faces).to.have.length(visibleFaces[n]);
        for (const s of smiling) {
          const face = body.faces.find((f) => contains(f.box, s.x, s.y));
          expect(face, `a face around (${s.x}, ${s.y})`).to.not.equal(undefined);
          expect(face!.expression).to.include({ code: 3, label: 'happy' });
          expect(face!.expression.confidence).to.be.greaterThan(0.5);
        }
        for (const face of body.faces) {
          expect(Object.keys(face.scores)).to.deep.equal(['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral']);
          const sum = Object.values(face.scores).reduce((a, v) => a + v, 0);
          expect(sum).to.be.closeTo(1, 0.01);
          expect(face.expression.confidence).to.equal(Math.max(...Object.values(face.scores)));
        }
        expect(body.models.map((m) => m.name)).to.deep.equal(['face-detector', 'facial-expression']);
        expect(Object.keys(body.timing)).to.include.members(['decode', 'detect', 'classify', 'total']);
      });
    }

    it('with crop=false classifies the whole image as one face', async () => {
      const full = await post<FacialExpressionsResponse>('/v1/vision/facial-expressions', jpeg(sample(6)), 'image/jpeg');
      const smiler = full.body.faces.find((f) => contains(f.box, 775, 502))!;
      const b = smiler.box;
      const side = Math.round(b.width * 1.4);
      const crop = await sharp(sample(6))
        .extract({ left: Math.round(b.x + b.width / 2 - side / 2), top: Math.round(b.y + b.height / 2 - side / 2), width: side, height: side })
        .png()
        .toBuffer();
      const { status, body } = await post<FacialExpressionsResponse>('/v1/vision/facial-expressions?crop=false', jpeg(crop), 'image/png');
      expect(status, body.error).to.equal(200);
      expect(body.faces).to.have.length(1);
      expect(body.faces[0].box).to.deep.equal({ x: 0, y: 0, width: side, height: side });
      expect(body.faces[0].score).to.equal(null);
      expect(body.faces[0].expression.code).to.equal(3);
      expect(body.models.map((m) => m.name)).to.deep.equal(['facial-expression']);
    });
  });

  describe('POST /v1/vision/objects', () => {
    it('finds the four people of a group photo with COCO labels, boxes inside the image', async () => {
      const { status, body } = await post<ObjectsResponse>('/v1/vision/objects', jpeg(sample(6)), 'image/jpeg');
      expect(status, body.error).to.equal(200);
      const people = body.objects.filter((o) => o.label === 'person');
      expect(people).to.have.length(4);
      // One box per object: no two answers share (nearly) the same box under different labels.
      for (const [i, a] of body.objects.entries()) {
        for (const b of body.objects.slice(i + 1)) expect(Math.abs(a.box.x - b.box.x) + Math.abs(a.box.y - b.box.y)).to.be.greaterThan(4);
      }
      for (const o of body.objects) {
        expect(o.box.x + o.box.width).to.be.at.most(body.image.width);
        expect(o.box.y + o.box.height).to.be.at.most(body.image.height);
        expect(o.score).to.be.at.least(0.25);
      }
      expect(body.models[0]).to.include({ name: 'object-detector', task: 'vision/object-detection' });
      const few = await post<ObjectsResponse>('/v1/vision/objects?maxResults=1', jpeg(sample(6)), 'image/jpeg');
      expect(few.body.objects).to.have.length(1);
    });
  });

  describe('metrics', () => {
    it('counts task requests by route, answering model and status, and records their inference time', async () => {
      await post<object>('/v1/vision/facial-expressions', jpeg(sample(3)), 'image/jpeg');
      await post<object>('/v1/vision/facial-expressions', 'not an image', 'image/jpeg');
      const text = await (await fetch(`${server.url}/metrics`)).text();
      const line = (pattern: RegExp) => text.split('\n').find((l) => pattern.test(l));
      expect(line(/^mloffload_http_requests_total\{.*route="\/v1\/vision\/facial-expressions".*model="facial-expression".*code="200"/)).to.not.equal(undefined);
      expect(line(/^mloffload_http_requests_total\{.*route="\/v1\/vision\/facial-expressions".*code="400"/)).to.not.equal(undefined);
      expect(line(/^mloffload_inference_duration_seconds_count\{model="facial-expression",version="1"\} [1-9]/)).to.not.equal(undefined);
    });
  });

  describe('bad input', () => {
    const route = '/v1/vision/facial-expressions';

    it('gets 400 for undecodable, truncated, empty and tiny images, with a message that says why', async () => {
      const full = sample(1);
      const one = await sharp({ create: { width: 1, height: 1, channels: 3, background: '#fff' } }).png().toBuffer();
      const cases: [string, BodyInit, string, RegExp][] = [
        ['truncated JPEG', jpeg(full.subarray(0, Math.floor(full.length * 0.7))), 'image/jpeg', /not a decodable image: the JPEG data is corrupt or truncated/],
        ['random bytes', jpeg(Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7919 + 17) % 256))), 'image/jpeg', /not a decodable image/],
        ['a text file sent as image/jpeg', 'name,score\nalice,3\n', 'image/jpeg', /not a decodable image/],
        ['a 1x1 image', jpeg(one), 'image/png', /1x1 pixels/],
        ['an empty body', new Uint8Array(0), 'image/jpeg', /empty body/],
        ['JSON without an image', JSON.stringify({ picture: 'x' }), 'application/json', /"image": \{"b64"/],
        ['a bad option', jpeg(full), 'image/jpeg', /minScore must be a number from 0 to 1/],
      ];
      for (const [name, body, type, message] of cases) {
        const path = name === 'a bad option' ? `${route}?minScore=2` : route;
        const answer = await post<object>(path, body, type);
        expect(answer.status, name).to.equal(400);
        expect(answer.body.error, name).to.match(message);
      }
    });

    it('gets 400 for a multipart form without a file field "image"', async () => {
      const form = new FormData();
      form.append('photo', new Blob([jpeg(sample(1))], { type: 'image/jpeg' }), 'sample1.jpg');
      const answer = await post<object>(route, form);
      expect(answer.status).to.equal(400);
      expect(answer.body.error).to.equal('multipart body has no file field "image" (found "photo")');
    });

    it('gets 400 for a multipart body with an empty boundary, where every CRLF-- in the image would end the part', async () => {
      const body = Buffer.concat([
        Buffer.from('--\r\nContent-Disposition: form-data; name="image"; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'),
        jpeg(sample(1)),
        Buffer.from('\r\n----\r\n'),
      ]);
      for (const type of ['multipart/form-data; boundary=', 'multipart/form-data; boundary=""']) {
        const answer = await post<object>(route, body, type);
        expect(answer.status, type).to.equal(400);
        expect(answer.body.error, type).to.match(/multipart boundary must be 1 to 70 characters/);
      }
    });

    it('gets 415 for a body that is not an image type', async () => {
      const answer = await post<object>(route, 'hello', 'text/plain');
      expect(answer.status).to.equal(415);
      expect(answer.body.error).to.match(/Content-Type text\/plain is not an image/);
    });

    it('gets 413 for a decompression bomb (20000x20000 PNG header) and for a body over the size cap', async () => {
      const bomb = await post<object>(route, jpeg(pngHeaderOnly(20000, 20000)), 'image/png');
      expect(bomb.status).to.equal(413);
      expect(bomb.body.error).to.match(/20000x20000 pixels; at most 40000000/);
      const huge = await post<object>(route, new Uint8Array(11 * 1024 * 1024), 'image/jpeg');
      expect(huge.status).to.equal(413);
    });
  });
});
