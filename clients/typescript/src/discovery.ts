/**
 * The discovery document: what a runtime says about itself at `GET /v1/discovery` (its node, the tasks
 * and models it serves with their measured latency), and optionally a list of endpoints, so that one
 * document hosted anywhere (for instance rendered from the MLService's `status.endpoints`) can name every
 * edge and cloud endpoint an app may use.
 */
export type Tier = 'edge' | 'cloud';

export interface DiscoveredModel {
  name: string;
  version: string;
  task: string;
  state: string;
  backend?: string;
  /** Measured by the runtime after warm-up: single-inference latency and throughput. */
  latencyMs?: { p50: number; p95: number };
  throughputPerSec?: number;
}

export interface DiscoveredEndpoint {
  url: string;
  tier?: Tier;
  node?: string;
}

export interface DiscoveryDocument {
  node?: string;
  runtimeVersion?: string;
  ready?: boolean;
  tasks?: string[];
  models?: DiscoveredModel[];
  endpoints?: DiscoveredEndpoint[];
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const str = (x: unknown): string | undefined => (typeof x === 'string' ? x : undefined);
const num = (x: unknown): number | undefined => (typeof x === 'number' && Number.isFinite(x) ? x : undefined);

/** The absolute http(s) URL without a trailing slash, or undefined for anything else. */
export function normaliseUrl(value: string, base?: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value, base);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  url.hash = '';
  url.search = '';
  return url.toString().replace(/\/+$/, '');
}

/**
 * Reads a discovery document defensively: unknown fields are ignored, malformed entries dropped, lists
 * capped, so a bad or hostile document cannot crash the app or make it probe thousands of hosts.
 */
export function parseDiscovery(body: unknown, base?: string, maxEntries = 64): DiscoveryDocument {
  if (!isObject(body)) return {};
  const doc: DiscoveryDocument = {};
  if (str(body.node)) doc.node = str(body.node);
  if (str(body.runtimeVersion)) doc.runtimeVersion = str(body.runtimeVersion);
  if (typeof body.ready === 'boolean') doc.ready = body.ready;
  if (Array.isArray(body.tasks)) doc.tasks = body.tasks.filter((t): t is string => typeof t === 'string').slice(0, maxEntries * 4);
  if (Array.isArray(body.models)) {
    doc.models = body.models
      .filter(isObject)
      .slice(0, maxEntries * 4)
      .flatMap((m): DiscoveredModel[] => {
        const name = str(m.name);
        const task = str(m.task);
        if (!name || !task) return [];
        const model: DiscoveredModel = { name, version: str(m.version) ?? '', task, state: str(m.state) ?? 'UNKNOWN' };
        if (str(m.backend)) model.backend = str(m.backend);
        // The runtime publishes its measurement as `benchmark`.
        const measured = isObject(m.benchmark) ? m.benchmark : m;
        if (isObject(measured.latencyMs) && num(measured.latencyMs.p50) !== undefined && num(measured.latencyMs.p95) !== undefined) {
          model.latencyMs = { p50: num(measured.latencyMs.p50)!, p95: num(measured.latencyMs.p95)! };
        }
        if (num(measured.throughputPerSec) !== undefined) model.throughputPerSec = num(measured.throughputPerSec);
        return [model];
      });
  }
  if (Array.isArray(body.endpoints)) {
    doc.endpoints = body.endpoints
      .filter(isObject)
      .flatMap((e): DiscoveredEndpoint[] => {
        const url = str(e.url) === undefined ? undefined : normaliseUrl(str(e.url)!, base);
        if (!url) return [];
        const endpoint: DiscoveredEndpoint = { url };
        if (e.tier === 'edge' || e.tier === 'cloud') endpoint.tier = e.tier;
        if (str(e.node)) endpoint.node = str(e.node);
        return [endpoint];
      })
      .slice(0, maxEntries);
  }
  return doc;
}
