import { expect } from 'chai';
import { DIALOG_SMART_HOME, SPEECH_RECOGNISER, TRANSLATION_ENG_SPA } from '../../../../inference-runtime/config/defaultPool.js';
import { planEngine } from '../../../../inference-runtime/backends/enginePlan.js';
import type { ModelFiles } from '../../../../inference-runtime/core/backend.js';

describe('planEngine', () => {
  it('plans every engine of the table: the process and corpus engines too, not only the tensor ones', async () => {
    const files = { entryPath: '/nonexistent/entry', sha256: '0'.repeat(64) } as ModelFiles;
    const kinds = await Promise.all([TRANSLATION_ENG_SPA, SPEECH_RECOGNISER, DIALOG_SMART_HOME].map(async (m) => (await planEngine(m, files)).plan.kind));
    expect(kinds).to.deep.equal(['apertium', 'pocketsphinx', 'nlpjs']);
  });
});
