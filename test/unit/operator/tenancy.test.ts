import path from 'node:path';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import fc from 'fast-check';
import { load } from 'js-yaml';
import { imageAllowed, normaliseImagePattern, parseImageReference, repositoryOf } from '../../../operator/policy/imageReference.js';
import {
  DEFAULT_HOST_PATH_PREFIX,
  SECRET_KEY_PATTERN,
  checkTenancy,
  describeViolations,
  isNormalisedAbsolutePath,
  isUnderPrefix,
  tenancyPolicy,
} from '../../../operator/policy/tenancy.js';
import { service } from './fixtures.js';

const RUNTIME = 'mloffload/inference-runtime:0.1.0';
const defaults = tenancyPolicy({}, RUNTIME);
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

const component = fc.stringMatching(/^[a-z0-9]{1,6}([._-][a-z0-9]{1,4})?$/);
const tag = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}$/);
const digest = fc.stringMatching(/^[a-f0-9]{64}$/).map((h) => `sha256:${h}`);

describe('tenancy policy', () => {
  describe('image references', () => {
    it('normalises familiar names the way the kubelet pulls them', () => {
      expect(repositoryOf('nginx')).to.equal('docker.io/library/nginx');
      expect(repositoryOf('docker.io/nginx:1')).to.equal('docker.io/library/nginx');
      expect(repositoryOf('index.docker.io/mloffload/inference-runtime')).to.equal('docker.io/mloffload/inference-runtime');
      expect(repositoryOf('mloffload/inference-runtime:0.1.0')).to.equal('docker.io/mloffload/inference-runtime');
      expect(repositoryOf('localhost:5000/a/b@sha256:' + 'a'.repeat(64))).to.equal('localhost:5000/a/b');
      expect(parseImageReference('reg.example.com:443/team/rt:v1@sha256:' + 'b'.repeat(64))).to.deep.equal({
        repository: 'reg.example.com:443/team/rt',
        tag: 'v1',
        digest: 'sha256:' + 'b'.repeat(64),
      });
      for (const bad of ['', 'UPPER/case', 'a//b', 'a/../b', 'a/b:', ' a/b', 'a/b:tag with space', 'a/b@sha256:short', 'x'.repeat(600)]) {
        expect(repositoryOf(bad), bad).to.equal(undefined);
      }
    });

    it('allows every tag and digest of an allowed repository', () => {
      fc.assert(
        fc.property(fc.option(tag, { nil: undefined }), fc.option(digest, { nil: undefined }), (t, d) => {
          const ref = `mloffload/inference-runtime${t ? `:${t}` : ''}${d ? `@${d}` : ''}`;
          expect(imageAllowed(ref, defaults.allowedImages), ref).to.equal(true);
          expect(imageAllowed(`docker.io/${ref}`, defaults.allowedImages), ref).to.equal(true);
        }),
      );
    });

    it('refuses any other repository, including look-alikes of an allowed one', () => {
      fc.assert(
        fc.property(fc.array(component, { minLength: 1, maxLength: 4 }), fc.option(tag, { nil: undefined }), (parts, t) => {
          const repo = parts.join('/');
          fc.pre(repositoryOf(repo) !== 'docker.io/mloffload/inference-runtime');
          expect(imageAllowed(`${repo}${t ? `:${t}` : ''}`, defaults.allowedImages), repo).to.equal(false);
        }),
      );
      for (const ref of ['mloffload/inference-runtime-evil:1', 'mloffload/inference-runtime/sub:1', 'evil.io/mloffload/inference-runtime:1', 'mloffload/inference:1']) {
        expect(imageAllowed(ref, defaults.allowedImages), ref).to.equal(false);
      }
    });

    it('takes repository prefixes ending in /* and * from the operator settings', () => {
      const policy = tenancyPolicy({ allowedImages: ['registry.example.com/ml/*', 'mloffload/*'] }, RUNTIME);
      expect(policy.allowedImages).to.deep.equal(['registry.example.com/ml/*', 'docker.io/mloffload/*']);
      expect(imageAllowed('registry.example.com/ml/runtime:2', policy.allowedImages)).to.equal(true);
      expect(imageAllowed('registry.example.com/ml/a/b:2', policy.allowedImages)).to.equal(true);
      expect(imageAllowed('registry.example.com/mlx/runtime:2', policy.allowedImages)).to.equal(false);
      expect(imageAllowed('mloffload/anything', policy.allowedImages)).to.equal(true);
      expect(imageAllowed('mloffloadx/anything', policy.allowedImages)).to.equal(false);
      expect(imageAllowed('any.registry/x/y:1', tenancyPolicy({ allowedImages: ['*'] }, RUNTIME).allowedImages)).to.equal(true);
      expect(normaliseImagePattern('registry.example.com/*')).to.equal('registry.example.com/*');
      expect(() => tenancyPolicy({ allowedImages: ['Not An Image'] }, RUNTIME)).to.throw(/allowed images/);
    });

    it('defaults the allow-list to the repository of the operator runtime image', () => {
      expect(tenancyPolicy({}, 'registry.example.com/edge/runtime:3').allowedImages).to.deep.equal(['registry.example.com/edge/runtime']);
    });
  });

  describe('host paths', () => {
    const segment = fc.oneof(fc.constantFrom('', '.', '..', '...', 'models', 'mloffload', 'lib', 'var', '%2e%2e', '..a'), fc.stringMatching(/^[a-z.]{1,5}$/));

    it('accepts only normalised absolute paths: no empty, . or .. segment', () => {
      fc.assert(
        fc.property(fc.array(segment, { maxLength: 6 }), (segs) => {
          const p = `/${segs.join('/')}`;
          const normal = path.posix.normalize(p) === p && !(p.length > 1 && p.endsWith('/'));
          expect(isNormalisedAbsolutePath(p), p).to.equal(normal);
        }),
        { numRuns: 2000 },
      );
      expect(isNormalisedAbsolutePath('relative/path')).to.equal(false);
    });

    it('never lets an accepted path resolve outside the prefix', () => {
      fc.assert(
        fc.property(fc.array(segment, { maxLength: 6 }), fc.boolean(), (segs, underPrefix) => {
          const p = `${underPrefix ? DEFAULT_HOST_PATH_PREFIX : ''}/${segs.join('/')}`;
          const svc = service('x', { modelCache: { hostPath: { path: p } } });
          const ok = checkTenancy(svc, defaults).length === 0;
          const resolved = path.posix.resolve(p);
          if (ok) expect(resolved === DEFAULT_HOST_PATH_PREFIX || resolved.startsWith(`${DEFAULT_HOST_PATH_PREFIX}/`), p).to.equal(true);
          if (ok) expect(resolved).to.equal(p);
        }),
        { numRuns: 2000 },
      );
    });

    it('names the field and the prefix when a path lies outside it', () => {
      for (const p of ['/etc', '/var/lib/mloffloadx', '/var/lib/mloffload/../../etc', '/', '/var/lib']) {
        const v = checkTenancy(service('x', { modelCache: { hostPath: { path: p } } }), defaults);
        expect(v, p).to.have.length(1);
        expect(v[0]!.field).to.equal('spec.modelCache.hostPath.path');
        expect(describeViolations(v)).to.contain('spec.modelCache.hostPath.path').and.to.contain(JSON.stringify(p));
      }
      expect(isUnderPrefix('/var/lib/mloffload', '/var/lib/mloffload')).to.equal(true);
      expect(checkTenancy(service('x', { modelCache: { hostPath: { path: '/var/lib/mloffload/models' } } }), defaults)).to.deep.equal([]);
      expect(checkTenancy(service('x', { modelCache: { hostPath: {} } }), defaults)).to.deep.equal([]);
    });

    it("forbids hostPath caches, including the CRD's default one, with an empty prefix; emptyDir stays allowed", () => {
      const none = tenancyPolicy({ hostPathPrefix: '' }, RUNTIME);
      expect(checkTenancy(service('x', { modelCache: { hostPath: { path: '/var/lib/mloffload/models' } } }), none)[0]?.field).to.equal('spec.modelCache.hostPath');
      expect(checkTenancy(service('x'), none)).to.have.length(1);
      expect(checkTenancy(service('x', { modelCache: { emptyDir: {} } }), none)).to.deep.equal([]);
      expect(() => tenancyPolicy({ hostPathPrefix: '/var/lib/../x' }, RUNTIME)).to.throw(/host path prefix/);
    });
  });

  describe('placement', () => {
    it('allows the edge role key by default and nothing else', () => {
      const ok = service('x', { placement: { edgeOnly: true, nodeSelector: { 'node-role.kubernetes.io/edge': '' }, tolerations: [{ key: 'node-role.kubernetes.io/edge', operator: 'Exists' }] } });
      expect(checkTenancy(ok, defaults)).to.deep.equal([]);
      const bad = service('x', {
        placement: {
          nodeSelector: { 'kubernetes.io/hostname': 'cloud-1' },
          tolerations: [{ key: 'node-role.kubernetes.io/edge', operator: 'Exists' }, { key: 'node-role.kubernetes.io/control-plane', operator: 'Exists' }, { operator: 'Exists' }],
        },
      });
      expect(checkTenancy(bad, defaults).map((v) => v.field)).to.deep.equal([
        'spec.placement.tolerations[1].key',
        'spec.placement.tolerations[2].key',
        'spec.placement.nodeSelector["kubernetes.io/hostname"]',
      ]);
      expect(describeViolations(checkTenancy(bad, defaults))).to.contain('every taint');
    });

    it('takes exact keys, prefixes and * from the settings; a toleration of every taint needs *', () => {
      const p = tenancyPolicy({ allowedTolerationKeys: ['example.com/*'], allowedNodeSelectorKeys: ['*'] }, RUNTIME);
      expect(checkTenancy(service('x', { placement: { tolerations: [{ key: 'example.com/gpu', operator: 'Exists' }], nodeSelector: { any: 'x' } } }), p)).to.deep.equal([]);
      expect(checkTenancy(service('x', { placement: { tolerations: [{ operator: 'Exists' }] } }), p)).to.have.length(1);
      const all = tenancyPolicy({ allowedTolerationKeys: ['*'] }, RUNTIME);
      expect(checkTenancy(service('x', { placement: { tolerations: [{ operator: 'Exists' }] } }), all)).to.deep.equal([]);
      expect(() => tenancyPolicy({ allowedTolerationKeys: ['bad key'] }, RUNTIME)).to.throw(/toleration/);
    });
  });

  it('passes a default MLService and an allowed image override', () => {
    expect(checkTenancy(service('x'), defaults)).to.deep.equal([]);
    expect(checkTenancy(service('x', { image: 'mloffload/inference-runtime@sha256:' + 'c'.repeat(64) }), defaults)).to.deep.equal([]);
    const v = checkTenancy(service('x', { image: 'evil/miner:latest' }), defaults);
    expect(v).to.deep.equal([{ field: 'spec.image', message: `image "evil/miner:latest" is not in the operator's allowed runtime images (docker.io/mloffload/inference-runtime)` }]);
  });

  it('checks the API-key Secret key with the same pattern as the CRD', () => {
    const crd = load(readFileSync(path.join(repoRoot, 'crds/mlservices.mloffload.io.yaml'), 'utf8')) as {
      spec: { versions: { schema: { openAPIV3Schema: { properties: { spec: { properties: { auth: { properties: { apiKeySecretKey: { pattern: string } } } } } } } } }[] };
    };
    expect(crd.spec.versions[0]!.schema.openAPIV3Schema.properties.spec.properties.auth.properties.apiKeySecretKey.pattern).to.equal(SECRET_KEY_PATTERN);
    for (const key of ['..', '.', 'a/b', '../token', '']) {
      expect(checkTenancy(service('x', { auth: { apiKeySecretName: 's', apiKeySecretKey: key } }), defaults), key).to.have.length(1);
    }
    expect(checkTenancy(service('x', { auth: { apiKeySecretName: 's', apiKeySecretKey: 'keys.txt' } }), defaults)).to.deep.equal([]);
  });
});
