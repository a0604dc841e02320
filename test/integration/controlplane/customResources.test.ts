import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { ApiException, ApiextensionsV1Api, CustomObjectsApi, type V1CustomResourceDefinition } from '@kubernetes/client-node';
import { type TestControlPlane, controlPlaneStartTimeout, freshNamespace, kubectl, useControlPlane } from '../../helpers/controlPlane.js';
import { eventually } from '../../helpers/eventually.js';

const here = dirname(fileURLToPath(import.meta.url));
const fixtureCrd = join(here, 'fixtures', 'edgeprobes.crd.yaml');
const group = 'fixtures.mloffload.io';
const version = 'v1alpha1';
const plural = 'edgeprobes';

/** The project's own CRDs, when present: each must be accepted and become Established too. */
const projectCrdDir = resolve(here, '..', '..', '..', 'crds');
const projectCrds = existsSync(projectCrdDir)
  ? readdirSync(projectCrdDir)
      .filter((f) => /\.ya?ml$/.test(f))
      .map((f) => join(projectCrdDir, f))
  : [];

const established = (crd: V1CustomResourceDefinition): boolean =>
  crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ?? false;

/** Applies a YAML file with kubectl (server-side) and returns the names of the CRDs it holds. */
async function applyCrdFile(file: string): Promise<string[]> {
  const out = await kubectl(['apply', '--server-side', '--field-manager=mloffload-tests', '-f', file, '-o', 'name']);
  return out
    .split('\n')
    .filter((line) => line.startsWith('customresourcedefinition'))
    .map((line) => line.split('/')[1]!);
}

/** The Status message the API server sent with a failed request. */
function statusMessage(error: ApiException<unknown>): string {
  try {
    return (JSON.parse(String(error.body)) as { message?: string }).message ?? String(error.body);
  } catch {
    return String(error.body);
  }
}

async function rejection(promise: Promise<unknown>): Promise<ApiException<string>> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ApiException) return error as ApiException<string>;
    throw error;
  }
  throw new Error('the API server accepted an object it should have rejected');
}

describe('control plane: custom resources', function () {
  let cp: TestControlPlane;
  let crds: ApiextensionsV1Api;
  let custom: CustomObjectsApi;
  const appliedCrds: string[] = [];

  before(async function () {
    this.timeout(controlPlaneStartTimeout);
    cp = await useControlPlane();
    crds = cp.kubeConfig.makeApiClient(ApiextensionsV1Api);
    custom = cp.kubeConfig.makeApiClient(CustomObjectsApi);
  });

  after(async function () {
    this.timeout(60_000);
    // CRDs are cluster-scoped: namespace clean-up does not remove them.
    await Promise.all(appliedCrds.map((name) => crds.deleteCustomResourceDefinition({ name }).catch(() => undefined)));
  });

  async function waitEstablished(name: string): Promise<void> {
    await eventually(async () => expect(established(await crds.readCustomResourceDefinition({ name })), `${name} Established`).to.equal(true), {
      timeout: 30_000,
      interval: 200,
    });
  }

  it('establishes a CRD applied from a YAML file, serves it and applies schema defaults', async function () {
    this.timeout(60_000);
    const names = await applyCrdFile(fixtureCrd);
    appliedCrds.push(...names);
    expect(names).to.deep.equal([`${plural}.${group}`]);
    await waitEstablished(names[0]!);

    const namespace = await freshNamespace('crd');
    // Discovery may lag a moment behind Established; the first create is retried until it is served.
    const created = (await eventually(
      () =>
        custom.createNamespacedCustomObject({
          group,
          version,
          namespace,
          plural,
          body: { apiVersion: `${group}/${version}`, kind: 'EdgeProbe', metadata: { name: 'gateway' }, spec: { target: 'https://gateway.local' } },
        }),
      { timeout: 15_000, interval: 200 },
    )) as { spec: Record<string, unknown> };
    expect(created.spec).to.deep.equal({ target: 'https://gateway.local', protocol: 'https', intervalSeconds: 30, timeoutSeconds: 5 });

    const table = await kubectl(['get', 'edgeprobes', '-n', namespace]);
    expect(table).to.match(/NAME\s+TARGET\s+INTERVAL/).and.match(/gateway\s+https:\/\/gateway\.local\s+30/);
  });

  it('rejects objects that break the schema or its CEL rule, naming the offending field', async function () {
    this.timeout(60_000);
    appliedCrds.push(...(await applyCrdFile(fixtureCrd)));
    await waitEstablished(`${plural}.${group}`);
    const namespace = await freshNamespace('crd');
    const create = (name: string, spec: Record<string, unknown>) =>
      custom.createNamespacedCustomObject({
        group,
        version,
        namespace,
        plural,
        body: { apiVersion: `${group}/${version}`, kind: 'EdgeProbe', metadata: { name }, spec },
      });
    // Make sure the resource is served before asserting rejections.
    await eventually(() => create('valid', { target: 'https://ok.local' }), { timeout: 15_000, interval: 200 });

    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['missing-target', { intervalSeconds: 10 }, /spec\.target: Required value/],
      ['plain-http', { target: 'http://insecure.local' }, /spec\.target: Invalid value.*should match '\^https:\/\/'/],
      ['bad-protocol', { target: 'https://x.local', protocol: 'udp' }, /spec\.protocol: Unsupported value: "udp"/],
      ['too-often', { target: 'https://x.local', intervalSeconds: 0 }, /spec\.intervalSeconds: Invalid value: 0/],
      ['slow-timeout', { target: 'https://x.local', intervalSeconds: 10, timeoutSeconds: 10 }, /timeoutSeconds must be shorter than intervalSeconds/],
    ];
    for (const [name, spec, message] of cases) {
      const error = await rejection(create(name, spec));
      expect(error.code, name).to.equal(422);
      expect(statusMessage(error), name).to.match(message);
    }
    const stored = (await custom.listNamespacedCustomObject({ group, version, namespace, plural })) as { items: { metadata: { name: string } }[] };
    expect(stored.items.map((i) => i.metadata.name)).to.deep.equal(['valid']);
  });

  for (const file of projectCrds) {
    it(`establishes the project CRDs in crds/${file.split('/').pop()}`, async function () {
      this.timeout(60_000);
      const names = await applyCrdFile(file);
      appliedCrds.push(...names);
      expect(names, 'CustomResourceDefinitions in the file').to.have.length.greaterThan(0);
      for (const name of names) await waitEstablished(name);
    });
  }
});
