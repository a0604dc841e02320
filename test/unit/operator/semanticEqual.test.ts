import { expect } from 'chai';
import { isUpToDate, stamp } from '../../../operator/kube/apply.js';
import { containsDesired, parseQuantity, stableStringify } from '../../../operator/kube/semanticEqual.js';

describe('comparing desired and live objects', () => {
  it('parses Kubernetes quantities', () => {
    expect(parseQuantity('500m')).to.equal(0.5);
    expect(parseQuantity('1Gi')).to.equal(2 ** 30);
    expect(parseQuantity('2e3')).to.equal(2000);
    expect(parseQuantity('1.5k')).to.equal(1500);
    expect(parseQuantity('abc')).to.equal(undefined);
  });

  it('treats server defaults as extra fields and quantities by value', () => {
    const desired = { spec: { containers: [{ name: 'a', resources: { requests: { cpu: '1000m', memory: '1Gi' } } }] } };
    const live = { spec: { containers: [{ name: 'a', terminationMessagePath: '/dev/termination-log', resources: { requests: { cpu: '1', memory: '1073741824' } } }] }, status: {} };
    expect(containsDesired(live, desired)).to.equal(true);
  });

  it('sees an edited field, a removed list entry and an added one', () => {
    const desired = { spec: { replicas: 2, args: ['--port', '8080'] } };
    expect(containsDesired({ spec: { replicas: 3, args: ['--port', '8080'] } }, desired)).to.equal(false);
    expect(containsDesired({ spec: { replicas: 2, args: ['--port'] } }, desired)).to.equal(false);
    expect(containsDesired({ spec: { replicas: 2, args: ['--port', '8080', '--x'] } }, desired)).to.equal(false);
    expect(containsDesired({ spec: { replicas: 2, args: ['--port', '8080'] }, metadata: {} }, desired)).to.equal(true);
  });

  it('hashes content independently of key order, and detects a dropped field through the hash', () => {
    expect(stableStringify({ b: 1, a: [{ d: 1, c: 2 }] })).to.equal(stableStringify({ a: [{ c: 2, d: 1 }], b: 1 }));
    const v1 = stamp({ metadata: { name: 'x', namespace: 'n' } as { name: string; namespace: string; annotations?: Record<string, string> }, spec: { nodeSelector: { zone: 'a', disk: 'ssd' } } });
    const v2 = stamp({ metadata: { name: 'x', namespace: 'n' }, spec: { nodeSelector: { zone: 'a' } } });
    const live = { metadata: { name: 'x', namespace: 'n', annotations: v1.metadata.annotations }, spec: { nodeSelector: { zone: 'a', disk: 'ssd' } } };
    expect(isUpToDate(live, v1)).to.equal(true);
    // The live object is a superset of v2, but it was applied from v1: v2 must be applied to drop `disk`.
    expect(isUpToDate(live, v2)).to.equal(false);
  });
});
