// The examples/facial-expression manifests as they run on a real edge node of the test cluster, and HTTPS
// to a runtime pod at its IP. Shared by the real-node end-to-end test and bench/realNode.ts.
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { dump, loadAll } from 'js-yaml';
import { repoRoot } from '../env/cacheLayout.js';
import { EDGE_ROLE_LABEL } from '../../operator/builders/metadata.js';
import { type RealNodeRecord, realNodeLabel } from '../env/realEdgeNode.js';

export const exampleDir = join(repoRoot, 'examples', 'facial-expression');
export const EXAMPLE_SERVICE = 'facial-expressions';
export const EXAMPLE_POD_SELECTOR = `mloffload.io/service=${EXAMPLE_SERVICE}`;

interface Manifest {
  kind: string;
  metadata: { name: string };
  spec: Record<string, unknown> & { source?: { uri: string }; card?: { description?: string }; placement?: Record<string, unknown> };
}

/** What the operator must allow an MLService for exampleOnRealNode(): its nodeSelector and toleration keys. */
export const realNodeTenancy = { allowedNodeSelectorKeys: [EDGE_ROLE_LABEL, realNodeLabel], allowedTolerationKeys: [EDGE_ROLE_LABEL, realNodeLabel] };

/**
 * models.yaml and service.yaml with three changes: the pods go to the real node (nodeSelector and the
 * real-node taint's toleration), the hostPath
 * cache lies in the node's own folder (this machine's / is shared), and optionally the expression model comes
 * from another source or carries another description.
 */
export function exampleOnRealNode(options: { node: RealNodeRecord; cacheDir: string; expressionSource?: string; description?: string }): string {
  const docs = ['models.yaml', 'service.yaml'].flatMap((f) => loadAll(readFileSync(join(exampleDir, f), 'utf8')) as Manifest[]);
  for (const doc of docs) {
    if (doc.kind === 'MLModel' && doc.metadata.name === 'facial-expression') {
      if (options.expressionSource) doc.spec.source = { ...doc.spec.source!, uri: options.expressionSource };
      if (options.description) doc.spec.card = { ...doc.spec.card, description: options.description };
    }
    if (doc.kind === 'MLService') {
      doc.spec.modelCache = { hostPath: { path: options.cacheDir } };
      doc.spec.placement = {
        ...doc.spec.placement,
        nodeSelector: { [realNodeLabel]: 'true' },
        tolerations: [{ key: realNodeLabel, operator: 'Exists', effect: 'NoSchedule' }],
      };
    }
  }
  return docs.map((d) => dump(d)).join('---\n');
}

export interface PodAnswer {
  status: number;
  body: string;
}

/** HTTPS to a runtime pod at its IP, checking its certificate against the Service name in-cluster clients use. */
export function podHttps(
  target: { podIp: string; namespace: string; ca: Buffer; agent?: https.Agent },
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: Buffer } = {},
): Promise<PodAnswer> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: target.podIp,
        port: 8443,
        path,
        method: options.method ?? 'GET',
        ca: target.ca,
        servername: `${EXAMPLE_SERVICE}.${target.namespace}.svc`,
        headers: options.headers,
        timeout: 60_000,
        agent: target.agent ?? false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${target.podIp}${path}: timed out`)));
    req.on('error', reject);
    req.end(options.body);
  });
}
