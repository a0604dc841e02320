import { expect } from 'chai';
import { AppsV1Api, CoreV1Api, type KubeConfig, type V1ConfigMap, Watch } from '@kubernetes/client-node';
import {
  type TestControlPlane,
  controlPlaneStartTimeout,
  freshNamespace,
  startApiServer,
  stopApiServer,
  useControlPlane,
} from '../../helpers/controlPlane.js';
import { eventually } from '../../helpers/eventually.js';

/**
 * The smallest list-then-watch client that survives an API server outage: on any watch end it lists
 * again and resumes watching from the list's resourceVersion, retrying while the server is away.
 */
class ConfigMapWatcher {
  readonly seen = new Set<string>();
  watchErrors = 0;
  private stopped = false;
  private abort: AbortController | undefined;
  private readonly core: CoreV1Api;
  private readonly watch: Watch;
  private wake: (() => void) | undefined;

  constructor(
    kubeConfig: KubeConfig,
    private readonly namespace: string,
  ) {
    this.core = kubeConfig.makeApiClient(CoreV1Api);
    this.watch = new Watch(kubeConfig);
  }

  start(): void {
    void this.loop();
  }

  stop(): void {
    this.stopped = true;
    this.abort?.abort();
    this.wake?.();
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      try {
        const list = await this.core.listNamespacedConfigMap({ namespace: this.namespace });
        for (const cm of list.items) this.seen.add(cm.metadata!.name!);
        await new Promise<void>((resolveEnd) => {
          this.wake = resolveEnd;
          this.watch
            .watch(
              `/api/v1/namespaces/${this.namespace}/configmaps`,
              { resourceVersion: list.metadata?.resourceVersion, allowWatchBookmarks: true },
              (phase: string, cm: V1ConfigMap) => {
                if (phase === 'ADDED' || phase === 'MODIFIED') this.seen.add(cm.metadata!.name!);
              },
              (error: unknown) => {
                if (error) this.watchErrors++;
                resolveEnd();
              },
            )
            .then(
              (controller) => (this.abort = controller),
              () => {
                this.watchErrors++;
                resolveEnd();
              },
            );
        });
      } catch {
        // The API server is unreachable: retry after a short pause below.
      }
      if (!this.stopped) await new Promise<void>((r) => setTimeout(r, 200));
    }
  }
}

describe('control plane: kube-apiserver killed and restarted', function () {
  let cp: TestControlPlane;
  let core: CoreV1Api;

  before(async function () {
    this.timeout(controlPlaneStartTimeout);
    cp = await useControlPlane();
    core = cp.kubeConfig.makeApiClient(CoreV1Api);
  });

  it('keeps the data, and list and watch clients recover once it is back', async function () {
    this.timeout(120_000);
    const namespace = await freshNamespace('restart');
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'before-crash' }, data: { k: 'v' } } });
    const watcher = new ConfigMapWatcher(cp.kubeConfig, namespace);
    watcher.start();
    try {
      await eventually(() => expect(watcher.seen.has('before-crash')).to.equal(true), { timeout: 10_000 });

      await stopApiServer({ signal: 'SIGKILL' });
      await eventually(() => expect(watcher.watchErrors, 'watch broken by the crash').to.be.greaterThan(0), { timeout: 10_000 });
      let listError: unknown;
      await core.listNamespacedConfigMap({ namespace }).catch((error: unknown) => (listError = error));
      expect(listError, 'list while the API server is down').to.be.instanceOf(Error);

      await startApiServer();
      const names = await eventually(async () => (await core.listNamespacedConfigMap({ namespace })).items.map((c) => c.metadata!.name), {
        timeout: 30_000,
      });
      expect(names, 'objects written before the crash survive in etcd').to.include('before-crash');

      await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'after-restart' } } });
      await eventually(() => expect(watcher.seen.has('after-restart'), 'watch resumed').to.equal(true), { timeout: 30_000 });
    } finally {
      watcher.stop();
    }
  });

  it('keeps controllers, scheduler and simulated nodes working across a restart', async function () {
    this.timeout(150_000);
    await stopApiServer({ signal: 'SIGTERM' });
    await startApiServer();

    const namespace = await freshNamespace('after-restart');
    const apps = cp.kubeConfig.makeApiClient(AppsV1Api);
    await apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: 'resumed' },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: 'resumed' } },
          template: {
            metadata: { labels: { app: 'resumed' } },
            spec: {
              containers: [{ name: 'runtime', image: 'mloffload/inference-runtime:test' }],
              tolerations: [{ key: 'node-role.kubernetes.io/edge', operator: 'Exists', effect: 'NoSchedule' }],
            },
          },
        },
      },
    });
    await eventually(
      async () => {
        const status = (await apps.readNamespacedDeployment({ namespace, name: 'resumed' })).status;
        expect(status?.availableReplicas, 'available replicas').to.equal(2);
      },
      { timeout: 90_000, interval: 250, message: 'Deployment available after the restart' },
    );
    const pods = (await core.listNamespacedPod({ namespace })).items;
    expect(pods.map((p) => p.status?.phase)).to.deep.equal(['Running', 'Running']);
  });
});
