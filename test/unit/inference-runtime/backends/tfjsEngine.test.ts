import { expect } from 'chai';
import { tfjsEngine } from '../../../../inference-runtime/core/tfjsEngine.js';

describe('tfjs engine start-up', function () {
  this.timeout(60_000);

  it('leaves process-wide error listeners as they were, so a stray rejection cannot crash the server', async () => {
    const before = {
      rejection: process.listeners('unhandledRejection').length,
      exception: process.listeners('uncaughtException').length,
    };
    const engine = await tfjsEngine({ allowNode: false });
    expect(engine.name).to.equal('tfjs-wasm');
    expect(process.listeners('unhandledRejection')).to.have.length(before.rejection);
    expect(process.listeners('uncaughtException')).to.have.length(before.exception);
  });
});
