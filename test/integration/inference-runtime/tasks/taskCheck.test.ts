/**
 * A model that cannot serve its task is UNAVAILABLE when it loads, with a reason naming the mismatch, instead
 * of a 500 at its first request. Real models from the built-in pool, declared for tasks they do not fit.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { FACE_DETECTOR, FACIAL_EXPRESSION, OBJECT_DETECTOR } from '../../../../inference-runtime/config/defaultPool.js';
import type { PoolModel } from '../../../../inference-runtime/config/types.js';
import { NotReady } from '../../../../inference-runtime/core/errors.js';
import { createModelRegistry, type PoolModelRegistry } from '../../../../inference-runtime/dataplane/modelRegistry.js';
import { tasks } from '../../../../inference-runtime/tasks/table.js';

describe('task checks at load (real models)', function () {
  this.timeout(180_000);
  let cacheDir: string;
  let registry: PoolModelRegistry;

  const models: PoolModel[] = [
    FACIAL_EXPRESSION,
    // The expression classifier declared as an object detector: a grey 64x64 input and [batch, 7] scores.
    { ...FACIAL_EXPRESSION, name: 'expression-as-objects', task: 'vision/object-detection', labels: undefined, preprocessing: undefined },
    // Labels that are not the FER2013 expressions, and a count that does not match the outputs.
    { ...FACIAL_EXPRESSION, name: 'moods', labels: ['calm', 'bored', 'angry', 'happy', 'sad', 'surprise', 'fear'] },
    { ...FACIAL_EXPRESSION, name: 'five-labels', labels: ['angry', 'fear', 'happy', 'sad', 'neutral'] },
    // The face detector declared as an expression classifier: BlazeFace's outputs are no class scores.
    { ...FACE_DETECTOR, name: 'faces-as-expressions', task: 'vision/facial-expression', preprocessing: { width: 256, height: 256, colour: 'rgb', range: [-1, 1] } },
    // A task no module serves: served through the protocols, without task checks.
    { ...FACIAL_EXPRESSION, name: 'custom-task', task: 'custom/anything', labels: undefined },
  ];

  before(async () => {
    cacheDir = mkdtempSync(path.join(os.tmpdir(), 'mloffload-taskcheck-'));
    registry = createModelRegistry({ models }, { workers: 0, benchmark: false, repository: { cacheDir }, tasks, logger: { info: () => undefined, warn: () => undefined } });
    await registry.whenSettled();
  });

  after(async () => {
    await registry?.close();
    rmSync(cacheDir, { recursive: true, force: true });
  });

  const status = (name: string) => registry.list().find((s) => s.name === name)!;

  it('serves models that fit their task, and those of tasks without a module', () => {
    expect(status(FACIAL_EXPRESSION.name).state).to.equal('AVAILABLE');
    expect(status('custom-task').state).to.equal('AVAILABLE');
  });

  it('leaves a model whose input and outputs do not fit its task UNAVAILABLE, naming both', () => {
    const s = status('expression-as-objects');
    expect(s.state).to.equal('UNAVAILABLE');
    expect(s.reason).to.contain('cannot serve task vision/object-detection');
    expect(s.reason).to.match(/takes 1 channel\(s\) but colour rgb gives 3/);
    expect(s.reason).to.match(/outputs .*\[-1, 7\] do not fit vision\/object-detection: expected one float32 \[1, k, 6\] detections tensor/);
  });

  it('names the labels that do not fit the facial-expression task', () => {
    expect(status('moods').state).to.equal('UNAVAILABLE');
    expect(status('moods').reason).to.match(/label 'bored' is not a FER2013 expression/);
    expect(status('five-labels').state).to.equal('UNAVAILABLE');
    expect(status('five-labels').reason).to.match(/lists 5 labels for 7 outputs/);
  });

  it('refuses a detector declared as a classifier, by its outputs', () => {
    const s = status('faces-as-expressions');
    expect(s.state).to.equal('UNAVAILABLE');
    expect(s.reason).to.match(/do not fit vision\/facial-expression: expected one float32 \[batch, classes\] tensor/);
  });

  it('answers requests for a refused model with 503 and the reason, and holds nothing of it in the engine', async () => {
    expect(() => registry.resolve('moods').signature()).to.throw(NotReady, /bored/);
    const [engine] = await registry.engineStats();
    expect(engine.models.sort()).to.deep.equal([`${FACIAL_EXPRESSION.name}@1`, 'custom-task@1'].sort());
    expect(registry.isReady()).to.equal(false);
  });

  it('publishes the object detector check on a real detector as fitting', () => {
    // The check reads signatures only: a detector's declared outputs pass it without loading the model.
    const problems = tasks.get('vision/object-detection')!.checkModel({
      config: OBJECT_DETECTOR,
      signature: { inputs: [{ name: 'x', dtype: 'float32', shape: [1, 512, 512, 3] }], outputs: [{ name: 'detections', dtype: 'float32', shape: [1, 100, 6] }] },
    });
    expect(problems).to.deep.equal([]);
  });
});
