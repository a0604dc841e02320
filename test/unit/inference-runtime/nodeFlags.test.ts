import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { missingNodeFlags, RUNTIME_NODE_FLAGS } from '../../../inference-runtime/nodeFlags.js';

describe('the Node options the runtime is started with', () => {
  it('are what npm start passes to node, before the runtime entry', () => {
    const start = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts.start;
    const node = /\bnode\s+((?:--\S+\s+)*)dist\/inference-runtime\/main\.js/.exec(start);
    expect(node, start).to.not.equal(null);
    expect(node![1].trim().split(/\s+/).filter(Boolean)).to.deep.equal(RUNTIME_NODE_FLAGS);
  });

  it('are named in the starting log when missing, and only then', () => {
    expect(missingNodeFlags([...RUNTIME_NODE_FLAGS, '--import', 'tsx'])).to.deep.equal([]);
    expect(missingNodeFlags(['--import', 'tsx'])).to.deep.equal(RUNTIME_NODE_FLAGS);
  });
});
