import { expect } from 'chai';
import { ocrModels } from '../../../../inference-runtime/config/defaultPool.js';
import type { TextResponse } from '../../../../inference-runtime/tasks/vision/textRouter.js';
import { renderText } from '../../../helpers/textImages.js';
import { startRuntimeProcess, type ReadyRuntime } from '../../../helpers/runtimeProcess.js';

/** The OCR models served by a real runtime process from a pool file, as an MLService's ConfigMap gives them. */
describe('text recognition in a runtime process (pool file with the OCR models)', function () {
  this.timeout(300_000);
  let runtime: ReadyRuntime | undefined;

  afterEach(async () => {
    await runtime?.stop();
    runtime = undefined;
  });

  it('serves POST /v1/vision/text and lists the three models with their cards and the recogniser\'s CTC labels', async () => {
    runtime = await startRuntimeProcess({ pool: { models: ocrModels() }, nodeName: 'edge-ocr', args: ['--workers', '1'] });
    const png = await renderText({ width: 640, height: 160 }, [{ text: 'Invoice No. 4711', x: 40, y: 90, font: 'Liberation Serif', size: 30 }]);
    const response = await fetch(`${runtime.url}/v1/vision/text`, { method: 'POST', body: new Uint8Array(png), headers: { 'Content-Type': 'image/png' } });
    const body = (await response.json()) as TextResponse & { error?: string };
    expect(response.status, body.error).to.equal(200);
    expect(body.text).to.equal('Invoice No. 4711');

    const listing = (await (await fetch(`${runtime.url}/v1/models`)).json()) as {
      models: { name: string; task: string; state: string; backend?: string; card?: { license?: string }; labels?: string[] }[];
    };
    expect(listing.models.map((m) => [m.name, m.task, m.state, m.backend, m.card?.license])).to.deep.equal([
      ['text-detector', 'vision/text-detection', 'AVAILABLE', 'onnx', 'Apache-2.0'],
      ['text-orientation', 'vision/text-orientation', 'AVAILABLE', 'onnx', 'Apache-2.0'],
      ['text-recognizer', 'vision/text-recognition', 'AVAILABLE', 'onnx', 'Apache-2.0'],
    ]);
    expect(listing.models[2].labels).to.have.length(6625);
  });

  it('leaves a recogniser whose entry lacks its labels UNAVAILABLE at load, naming the reason, and answers 503 instead of misreading', async () => {
    const models = ocrModels().map((m) => (m.task === 'vision/text-recognition' ? { ...m, labels: undefined } : m));
    runtime = await startRuntimeProcess({ pool: { models }, nodeName: 'edge-ocr', args: ['--workers', '1'], settledEvent: 'models_settled_with_failures' });
    const listing = (await (await fetch(`${runtime.url}/v1/models`)).json()) as { models: { name: string; state: string; reason?: string }[] };
    const recognizer = listing.models.find((m) => m.name === 'text-recognizer');
    expect(recognizer).to.include({ state: 'UNAVAILABLE' });
    expect(recognizer?.reason).to.match(/labels must list the CTC classes/);
    const png = await renderText({ width: 320, height: 100 }, [{ text: 'Exit', x: 40, y: 60, font: 'DejaVu Sans', size: 30 }]);
    const response = await fetch(`${runtime.url}/v1/vision/text`, { method: 'POST', body: new Uint8Array(png), headers: { 'Content-Type': 'image/png' } });
    expect(response.status).to.equal(503);
  });
});
