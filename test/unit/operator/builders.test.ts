import { expect } from 'chai';
import { load } from 'js-yaml';
import { validatePoolConfig } from '../../../inference-runtime/config/poolConfig.js';
import type { MLServiceSpec } from '../../../operator/api/types.js';
import type { PoolConfig } from '../../../inference-runtime/config/types.js';
import { configMapFor } from '../../../operator/builders/configMap.js';
import fc from 'fast-check';
import { deploymentFor, poolHashFor, resourcesFor } from '../../../operator/builders/deployment.js';
import { parseQuantity } from '../../../operator/kube/semanticEqual.js';
import { hpaFor } from '../../../operator/builders/hpa.js';
import { endpointFor, POOL_HASH_ANNOTATION } from '../../../operator/builders/metadata.js';
import { serviceFor } from '../../../operator/builders/service.js';
import { model, service } from './fixtures.js';

const runtime = { image: 'mloffload/inference-runtime:0.1.0' };
const models = [model('facial-expression'), model('face-detector', { task: 'vision/face-detection', labels: undefined, source: { uri: 'npm:@vladmandic/human/models/blazeface.json' } })];

describe('operator builders', () => {
  describe('configMapFor', () => {
    it('renders the pool file from the referenced MLModels in spec order, with batching', () => {
      const svc = service('faces', { models: [{ name: 'face-detector' }, { name: 'facial-expression' }], batching: { maxBatchSize: 8, maxDelayMs: 5 } });
      const cm = configMapFor(svc, models);
      expect(cm.metadata?.name).to.equal('faces');
      expect(cm.metadata?.namespace).to.equal('edge');
      expect(cm.metadata?.ownerReferences).to.deep.equal([
        { apiVersion: 'mloffload.io/v1alpha1', kind: 'MLService', name: 'faces', uid: 'uid-faces', controller: true, blockOwnerDeletion: true },
      ]);
      const pool = load(cm.data!['pool.yaml']!) as PoolConfig;
      expect(pool.models.map((m) => m.name)).to.deep.equal(['face-detector', 'facial-expression']);
      expect(pool.models[1]).to.deep.include({ task: 'vision/facial-expression', framework: 'tfjs-graph', version: '1.0.0' });
      expect(pool.models[1]!.labels).to.have.length(7);
      expect(pool.models[1]!.source).to.deep.equal({ uri: 'npm:@vladmandic/human/models/emotion.json' });
      expect(pool.batching).to.deep.equal({ maxBatchSize: 8, maxDelayMs: 5 });
    });

    it('carries source digests (entry file and weight shards) and preprocessing into the pool file', () => {
      const digest = 'a'.repeat(64);
      const pinned = model('facial-expression', {
        source: { uri: 'npm:@vladmandic/human/models/emotion.json', sha256: digest, shards: { 'emotion.bin': 'b'.repeat(64) } },
        preprocessing: { width: 64, height: 64, colour: 'grayscale', range: [-1, 1], grayscaleWeights: [0.2989, 0.587, 0.114] },
      });
      const pool = load(configMapFor(service('faces', { models: [{ name: 'facial-expression' }] }), [pinned]).data!['pool.yaml']!) as PoolConfig;
      expect(pool.models[0]!.source).to.deep.equal({ uri: 'npm:@vladmandic/human/models/emotion.json', sha256: digest, shards: { 'emotion.bin': 'b'.repeat(64) } });
      expect(pool.models[0]!.preprocessing?.grayscaleWeights).to.deep.equal([0.2989, 0.587, 0.114]);
    });

    it('carries the redirect host allow-list into the pool file, in the shape the pool schema accepts', () => {
      const remote = model('facial-expression', {
        source: { uri: 'https://models.example.org/emotion/model.json', allowedRedirectHosts: ['objects.example.net', 'cdn.example.org:8443'] },
      });
      const pool = load(configMapFor(service('faces', { models: [{ name: 'facial-expression' }] }), [remote]).data!['pool.yaml']!) as PoolConfig;
      expect(pool.models[0]!.source.allowedRedirectHosts).to.deep.equal(['objects.example.net', 'cdn.example.org:8443']);
      expect(() => validatePoolConfig(pool)).not.to.throw();
    });

    it('refuses to render a pool with a model it was not given', () => {
      expect(() => configMapFor(service('x', { models: [{ name: 'missing' }] }), models)).to.throw(/missing/);
    });
  });

  describe('deploymentFor', () => {
    const svc = service('faces');
    const dep = deploymentFor(svc, models, runtime);
    const pod = dep.spec!.template.spec!;
    const c = pod.containers[0]!;

    it('runs the runtime image with the pool file, port and model cache flags', () => {
      expect(c.image).to.equal('mloffload/inference-runtime:0.1.0');
      expect(c.args).to.deep.equal(['--config', '/etc/mloffload/pool.yaml', '--host', '0.0.0.0', '--port', '8080', '--model-cache', '/var/cache/mloffload/models']);
      expect(dep.spec!.replicas).to.equal(2);
      expect(c.ports).to.deep.equal([{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
    });

    it('probes /healthz for liveness and /readyz for readiness', () => {
      expect(c.livenessProbe?.httpGet).to.deep.equal({ path: '/healthz', port: 'http', scheme: 'HTTP' });
      expect(c.readinessProbe?.httpGet).to.deep.equal({ path: '/readyz', port: 'http', scheme: 'HTTP' });
      expect(c.startupProbe?.httpGet?.path).to.equal('/healthz');
    });

    it('gives every probe 2 s to answer, not the kubelet default of 1 s that a loading runtime overran on a real node', () => {
      for (const probe of [c.startupProbe, c.livenessProbe, c.readinessProbe]) expect(probe?.timeoutSeconds).to.equal(2);
    });

    it('runs locked down: non-root, read-only root, no privilege escalation, no capabilities, RuntimeDefault seccomp', () => {
      expect(c.securityContext).to.deep.equal({
        runAsNonRoot: true,
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(pod.securityContext?.runAsNonRoot).to.equal(true);
      expect(pod.securityContext?.runAsUser).to.be.a('number').and.not.equal(0);
      expect(pod.automountServiceAccountToken).to.equal(false);
    });

    it('mounts the pool, a hostPath model cache and a writable /tmp', () => {
      expect(pod.volumes).to.deep.include({ name: 'model-cache', hostPath: { path: '/var/lib/mloffload/models', type: 'DirectoryOrCreate' } });
      expect(pod.volumes).to.deep.include({ name: 'pool', configMap: { name: 'faces', items: [{ key: 'pool.yaml', path: 'pool.yaml' }] } });
      expect(pod.volumes!.find((v) => v.name === 'tmp')?.emptyDir).to.deep.equal({ sizeLimit: '1Gi' });
      expect(c.volumeMounts!.map((m) => m.mountPath)).to.have.members(['/etc/mloffload/pool.yaml', '/var/cache/mloffload/models', '/tmp']);
    });

    it('uses an emptyDir cache when asked', () => {
      const d = deploymentFor(service('faces', { modelCache: { emptyDir: { sizeLimit: '2Gi' } } }), models, runtime);
      expect(d.spec!.template.spec!.volumes).to.deep.include({ name: 'model-cache', emptyDir: { sizeLimit: '2Gi' } });
    });

    it('places pods on edge nodes only, tolerating their taint, by default', () => {
      const terms = pod.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
      expect(terms).to.deep.equal([{ matchExpressions: [{ key: 'node-role.kubernetes.io/edge', operator: 'Exists' }] }]);
      expect(pod.tolerations).to.deep.include({ key: 'node-role.kubernetes.io/edge', operator: 'Exists', effect: 'NoSchedule' });
    });

    it('drops the edge affinity and toleration when edgeOnly is false, keeping extra placement', () => {
      const d = deploymentFor(
        service('faces', { placement: { edgeOnly: false, nodeSelector: { zone: 'a' }, tolerations: [{ key: 'gpu', operator: 'Exists', effect: 'NoSchedule' }] } }),
        models,
        runtime,
      );
      const p = d.spec!.template.spec!;
      expect(p.affinity).to.equal(undefined);
      expect(p.nodeSelector).to.deep.equal({ zone: 'a' });
      expect(p.tolerations).to.deep.equal([{ key: 'gpu', operator: 'Exists', effect: 'NoSchedule' }]);
    });

    it('mounts TLS and API-key secrets and points the flags and probes at them', () => {
      const d = deploymentFor(service('faces', { port: 8443, tls: { secretName: 'faces-tls' }, auth: { apiKeySecretName: 'faces-keys' } }), models, runtime);
      const ctr = d.spec!.template.spec!.containers[0]!;
      expect(ctr.args).to.include.members(['--tls-cert', '/etc/mloffload/tls/tls.crt', '--tls-key', '/etc/mloffload/tls/tls.key', '--api-keys-file', '/etc/mloffload/auth/api-keys']);
      expect(ctr.args!.slice(ctr.args!.indexOf('--port'), ctr.args!.indexOf('--port') + 2)).to.deep.equal(['--port', '8443']);
      expect(ctr.readinessProbe?.httpGet?.scheme).to.equal('HTTPS');
      const vols = d.spec!.template.spec!.volumes!;
      // Only the keys the runtime reads: a Secret with other keys (a token, a CA key) never reaches the pod.
      expect(vols.find((v) => v.name === 'tls')?.secret).to.deep.include({ secretName: 'faces-tls', items: [{ key: 'tls.crt', path: 'tls.crt' }, { key: 'tls.key', path: 'tls.key' }] });
      expect(vols.filter((v) => v.secret).every((v) => v.secret!.items?.length)).to.equal(true);
      expect(vols.find((v) => v.name === 'api-keys')?.secret).to.deep.include({ secretName: 'faces-keys', items: [{ key: 'api-keys', path: 'api-keys' }] });
    });

    it('uses the MLService image override and the given resources', () => {
      const d = deploymentFor(service('faces', { image: 'registry.local/rt:dev', resources: { requests: { cpu: '1', memory: '1Gi' }, limits: { memory: 2147483648 } } }), models, runtime);
      const ctr = d.spec!.template.spec!.containers[0]!;
      expect(ctr.image).to.equal('registry.local/rt:dev');
      expect(ctr.resources).to.deep.equal({ requests: { cpu: '1', memory: '1Gi' }, limits: { memory: '2147483648' } });
      expect(d.spec!.template.spec!.initContainers![0]!.image).to.equal('registry.local/rt:dev');
    });

    it('gives a container without memory settings the default 1536Mi limit and 768Mi request', () => {
      expect(c.resources).to.deep.equal({ requests: { cpu: '250m', memory: '768Mi' }, limits: { memory: '1536Mi' } });
      const cpuOnly = deploymentFor(service('faces', { resources: { limits: { cpu: '2' } } }), models, runtime).spec!.template.spec!.containers[0]!;
      expect(cpuOnly.resources).to.deep.equal({ requests: { memory: '768Mi' }, limits: { cpu: '2', memory: '1536Mi' } });
    });

    it('keeps memory defaults consistent with what the MLService sets: request <= limit', () => {
      const res = (r: NonNullable<Parameters<typeof resourcesFor>[0]['spec']['resources']>, memory?: { limit?: string; request?: string }) => resourcesFor(service('faces', { resources: r }), memory);
      expect(res({ requests: { memory: '2Gi' } })).to.deep.equal({ requests: { memory: '2Gi' }, limits: { memory: '2Gi' } });
      expect(res({ limits: { memory: '256Mi' } })).to.deep.equal({ requests: { memory: '256Mi' }, limits: { memory: '256Mi' } });
      expect(res({ requests: { memory: '700Mi' } })).to.deep.equal({ requests: { memory: '700Mi' }, limits: { memory: '1536Mi' } });
      expect(res({}, { limit: '3Gi', request: '1Gi' })).to.deep.equal({ requests: { memory: '1Gi' }, limits: { memory: '3Gi' } });
      expect(res({}, { limit: '', request: '' })).to.deep.equal({});
      fc.assert(
        fc.property(fc.option(fc.integer({ min: 1, max: 8192 }), { nil: undefined }), fc.option(fc.integer({ min: 1, max: 8192 }), { nil: undefined }), (req, lim) => {
          fc.pre(req === undefined || lim === undefined || req <= lim);
          const r = res({ ...(req ? { requests: { memory: `${req}Mi` } } : {}), ...(lim ? { limits: { memory: `${lim}Mi` } } : {}) });
          const q = (x?: string) => parseQuantity(x!)!;
          expect(q(r.requests?.memory)).to.be.at.most(q(r.limits?.memory));
          if (req) expect(r.requests?.memory).to.equal(`${req}Mi`);
          if (lim) expect(r.limits?.memory).to.equal(`${lim}Mi`);
        }),
      );
    });

    it('starts no more inference workers than the CPU limit and the memory limit (768Mi each) allow', () => {
      const workers = (r?: MLServiceSpec['resources'], memory?: { limit?: string; request?: string }) =>
        deploymentFor(service('faces', r ? { resources: r } : {}), models, { ...runtime, memory }).spec!.template.spec!.containers[0]!.env!.find((e) => e.name === 'MLOFFLOAD_WORKERS');
      // The default 1536Mi limit holds two workers, whatever the node's core count; 1Gi holds one.
      expect(workers()).to.deep.equal({ name: 'MLOFFLOAD_WORKERS', value: '2' });
      expect(workers({ limits: { cpu: '2', memory: '1Gi' } })?.value).to.equal('1');
      expect(workers({ limits: { cpu: '8', memory: '1536Mi' } })?.value).to.equal('2');
      expect(workers({ limits: { cpu: '8', memory: '3Gi' } })?.value).to.equal('4');
      expect(workers({ limits: { cpu: '500m', memory: '4Gi' } })?.value).to.equal('1');
      expect(workers({ limits: { memory: '256Mi' } })?.value).to.equal('1');
      expect(workers({ limits: { cpu: '3' } }, { limit: '' })?.value).to.equal('3');
      // Neither limit: one per CPU of the node, as the kubelet resolves limits.cpu without a limit.
      expect(workers({}, { limit: '' })?.valueFrom?.resourceFieldRef).to.deep.equal({ containerName: 'runtime', resource: 'limits.cpu', divisor: '1' });
    });

    it('hands a hostPath cache to the runtime user with an init container, not an emptyDir one', () => {
      expect(pod.initContainers?.map((i) => i.name)).to.deep.equal(['prepare-cache']);
      expect(pod.initContainers![0]!.image).to.equal(c.image);
      const withOverride = deploymentFor(service('faces', { image: 'mloffload/inference-runtime:dev' }), models, runtime).spec!.template.spec!;
      expect(withOverride.initContainers![0]!.image).to.equal('mloffload/inference-runtime:dev');
      expect(deploymentFor(service('faces', { modelCache: { emptyDir: {} } }), models, runtime).spec!.template.spec!.initContainers).to.equal(undefined);
      expect(deploymentFor(service('faces'), models, { ...runtime, prepareCache: false }).spec!.template.spec!.initContainers).to.equal(undefined);
    });

    it('leaves replicas to the HPA when autoscaling is set', () => {
      const d = deploymentFor(service('faces', { autoscaling: { minReplicas: 1, maxReplicas: 5 } }), models, runtime);
      expect(d.spec!.replicas).to.equal(undefined);
    });

    it('puts a pool hash in the pod template that changes with a model version and only then', () => {
      const hash = dep.spec!.template.metadata!.annotations![POOL_HASH_ANNOTATION];
      expect(hash).to.match(/^[0-9a-f]{16}$/);
      expect(deploymentFor(svc, models, runtime).spec!.template.metadata!.annotations![POOL_HASH_ANNOTATION]).to.equal(hash);
      const bumped = [model('facial-expression', { version: '1.1.0' }), models[1]!];
      expect(poolHashFor(svc, bumped)).to.not.equal(hash);
      // A replica change is not a pool change.
      expect(deploymentFor({ ...svc, spec: { ...svc.spec, replicas: 5 } }, models, runtime).spec!.template.metadata!.annotations![POOL_HASH_ANNOTATION]).to.equal(hash);
    });
  });

  describe('serviceFor, hpaFor, endpointFor', () => {
    it('exposes the runtime port by name', () => {
      const s = serviceFor(service('faces', { port: 9000 }));
      expect(s.spec?.selector).to.deep.equal({ 'app.kubernetes.io/name': 'mloffload-inference-runtime', 'app.kubernetes.io/instance': 'faces' });
      expect(s.spec?.ports).to.deep.equal([{ name: 'http', port: 9000, targetPort: 'http', protocol: 'TCP', appProtocol: 'http' }]);
    });

    it('builds a CPU HPA only when autoscaling is set', () => {
      expect(hpaFor(service('faces'))).to.equal(undefined);
      const h = hpaFor(service('faces', { autoscaling: { minReplicas: 2, maxReplicas: 6, targetCPUUtilizationPercentage: 70 } }))!;
      expect(h.spec).to.deep.equal({
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'faces' },
        minReplicas: 2,
        maxReplicas: 6,
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }],
      });
    });

    it('gives the in-cluster URL with the right scheme', () => {
      expect(endpointFor(service('faces'))).to.equal('http://faces.edge.svc:8080');
      expect(endpointFor(service('faces', { port: 8443, tls: { secretName: 't' } }))).to.equal('https://faces.edge.svc:8443');
    });
  });
});
