import { expect } from 'chai';
import fc from 'fast-check';
import { APERTIUM_SIGNATURE } from '../../../../../inference-runtime/backends/apertium/apertiumBackend.js';
import { DIALOG_SMART_HOME, SPEECH_RECOGNISER, TRANSLATION_ENG_SPA } from '../../../../../inference-runtime/config/defaultPool.js';
import type { ModelSignature } from '../../../../../inference-runtime/core/backend.js';
import { dialogSignature } from '../../../../../inference-runtime/dialog/signature.js';
import { speechSignature } from '../../../../../inference-runtime/speech/signature.js';
import { dialogIntentTask } from '../../../../../inference-runtime/tasks/dialog/intent.js';
import { speechRecognitionTask } from '../../../../../inference-runtime/tasks/speech/recognition.js';
import { translationTextTask } from '../../../../../inference-runtime/tasks/translation/text.js';

/** The tasks served by process engines with fixed string signatures, with the model and signature their engine publishes. */
const cases = [
  { task: speechRecognitionTask, config: SPEECH_RECOGNISER, signature: speechSignature() },
  { task: dialogIntentTask, config: DIALOG_SMART_HOME, signature: dialogSignature() },
  { task: translationTextTask, config: TRANSLATION_ENG_SPA, signature: APERTIUM_SIGNATURE },
];

describe('fixed-signature tasks check models at load by one rule', () => {
  for (const { task, config, signature } of cases) {
    it(`${task.id}: accepts its engine's signature, refuses one missing, retyped or unfed tensor by name`, () => {
      expect(task.checkModel({ config, signature })).to.deep.equal([]);
      const tensors = [...signature.inputs.map((t, i) => ['inputs', i, t.name] as const), ...signature.outputs.map((t, i) => ['outputs', i, t.name] as const)];
      fc.assert(
        fc.property(fc.constantFrom(...tensors), fc.constantFrom('drop', 'retype', 'rerank', 'extra input'), ([kind, index, name], change) => {
          const changed: ModelSignature = { inputs: [...signature.inputs], outputs: [...signature.outputs] };
          const list = changed[kind];
          if (change === 'drop') list.splice(index, 1);
          if (change === 'retype') list[index] = { ...list[index], dtype: list[index].dtype === 'string' ? 'float32' : 'string' };
          if (change === 'rerank') list[index] = { ...list[index], shape: [...list[index].shape, 1] };
          if (change === 'extra input') changed.inputs.push({ name: `${name}_extra`, dtype: 'string', shape: [-1] });
          const problems = task.checkModel({ config, signature: changed });
          expect(problems, change).to.have.length(1);
          expect(problems[0]).to.contain(change === 'extra input' ? `${name}_extra` : name).and.contain(task.id);
        }),
      );
    });
  }
});
