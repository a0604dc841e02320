/**
 * How the operator reaches the API server: base URL, one keep-alive agent carrying the TLS material, and
 * the auth headers. A client-node KubeConfig can be adapted (tests hand one in); the CLI reads kubeconfig
 * files itself because importing client-node costs ~75 MB of RSS, half the operator's memory budget.
 */
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { load } from 'js-yaml';

export interface ClusterConnection {
  readonly server: string;
  readonly agent: http.Agent;
  headers(): Promise<Record<string, string>>;
  close(): void;
}

/** The part of @kubernetes/client-node's KubeConfig the operator uses. */
export interface KubeConfigLike {
  getCurrentCluster(): { server: string; skipTLSVerify?: boolean } | null;
  applyToHTTPSOptions(opts: https.RequestOptions): Promise<void>;
}

const HEADER_TTL_MS = 60_000;

function makeAgent(server: string, tls: https.AgentOptions): http.Agent {
  const common = { keepAlive: true, maxSockets: 32, maxFreeSockets: 8, scheduling: 'lifo' as const };
  return server.startsWith('http:') ? new http.Agent(common) : new https.Agent({ ...tls, ...common });
}

export async function connectionFromKubeConfig(kc: KubeConfigLike): Promise<ClusterConnection> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig has no current cluster');
  const probe: https.RequestOptions = {};
  await kc.applyToHTTPSOptions(probe);
  const tls: https.AgentOptions = {
    ca: probe.ca, cert: probe.cert, key: probe.key, servername: probe.servername,
    rejectUnauthorized: probe.rejectUnauthorized,
  };
  const agent = makeAgent(cluster.server, tls);
  let cached: { at: number; headers: Record<string, string> } | undefined;
  return {
    server: cluster.server.replace(/\/+$/, ''),
    agent,
    async headers() {
      // Exec and OIDC credentials expire: re-derive them now and then rather than once.
      if (cached && Date.now() - cached.at < HEADER_TTL_MS) return cached.headers;
      const opts: https.RequestOptions = {};
      await kc.applyToHTTPSOptions(opts);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(opts.headers ?? {})) if (typeof v === 'string') headers[k] = v;
      if (opts.auth) headers.Authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
      cached = { at: Date.now(), headers };
      return headers;
    },
    close() { agent.destroy(); },
  };
}

interface RawKubeconfig {
  'current-context'?: string;
  contexts?: { name: string; context: { cluster: string; user: string } }[];
  clusters?: { name: string; cluster: Record<string, unknown> }[];
  users?: { name: string; user?: Record<string, unknown> }[];
}

function fileOrData(base: string, file: unknown, data: unknown): Buffer | undefined {
  if (typeof data === 'string' && data) return Buffer.from(data, 'base64');
  if (typeof file === 'string' && file) return fs.readFileSync(path.resolve(base, file));
  return undefined;
}

function staticConnection(server: string, tls: https.AgentOptions, readHeaders: () => Record<string, string>): ClusterConnection {
  const agent = makeAgent(server, tls);
  return {
    server: server.replace(/\/+$/, ''),
    agent,
    async headers() { return readHeaders(); },
    close() { agent.destroy(); },
  };
}

function tokenReader(token: string | undefined, tokenFile: string | undefined): () => Record<string, string> {
  let cached: { at: number; value: string } | undefined;
  return (): Record<string, string> => {
    if (token) return { Authorization: `Bearer ${token}` };
    if (!tokenFile) return {};
    // Projected service-account tokens rotate; re-read the file once a minute.
    if (!cached || Date.now() - cached.at > HEADER_TTL_MS) cached = { at: Date.now(), value: fs.readFileSync(tokenFile, 'utf8').trim() };
    return { Authorization: `Bearer ${cached.value}` };
  };
}

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * Reads $KUBECONFIG (first entry), ~/.kube/config, or the in-cluster service account. Kubeconfigs using exec
 * or auth-provider plugins are handed to client-node, which implements them.
 */
export async function loadConnection(kubeconfigPath = process.env.KUBECONFIG?.split(path.delimiter)[0]): Promise<ClusterConnection> {
  const file = kubeconfigPath || path.join(os.homedir(), '.kube', 'config');
  if (!kubeconfigPath && !fs.existsSync(file) && process.env.KUBERNETES_SERVICE_HOST) {
    const host = process.env.KUBERNETES_SERVICE_HOST;
    const port = process.env.KUBERNETES_SERVICE_PORT ?? '443';
    const server = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
    return staticConnection(server, { ca: fs.readFileSync(path.join(SA_DIR, 'ca.crt')) }, tokenReader(undefined, path.join(SA_DIR, 'token')));
  }
  const raw = load(fs.readFileSync(file, 'utf8')) as RawKubeconfig;
  const ctx = raw.contexts?.find((c) => c.name === raw['current-context'])?.context ?? raw.contexts?.[0]?.context;
  if (!ctx) throw new Error(`${file}: no context`);
  const cluster = raw.clusters?.find((c) => c.name === ctx.cluster)?.cluster;
  const user = raw.users?.find((u) => u.name === ctx.user)?.user ?? {};
  if (!cluster || typeof cluster.server !== 'string') throw new Error(`${file}: cluster ${ctx.cluster} has no server`);
  if (user.exec || user['auth-provider']) {
    const { KubeConfig } = await import('@kubernetes/client-node');
    const kc = new KubeConfig();
    kc.loadFromFile(file);
    return connectionFromKubeConfig(kc);
  }
  const base = path.dirname(file);
  const tls: https.AgentOptions = {
    ca: fileOrData(base, cluster['certificate-authority'], cluster['certificate-authority-data']),
    cert: fileOrData(base, user['client-certificate'], user['client-certificate-data']),
    key: fileOrData(base, user['client-key'], user['client-key-data']),
  };
  if (cluster['insecure-skip-tls-verify'] === true) tls.rejectUnauthorized = false;
  if (typeof cluster['tls-server-name'] === 'string') tls.servername = cluster['tls-server-name'];
  const basic = typeof user.username === 'string' ? `Basic ${Buffer.from(`${user.username}:${String(user.password ?? '')}`).toString('base64')}` : undefined;
  const tokenFile = typeof user.tokenFile === 'string' ? path.resolve(base, user.tokenFile) : undefined;
  const readToken = tokenReader(typeof user.token === 'string' ? user.token : undefined, tokenFile);
  return staticConnection(cluster.server, tls, () => (basic ? { Authorization: basic } : readToken()));
}
