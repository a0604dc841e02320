/** The pool listing of a node (`GET /v1/models`), as the runtime publishes it. */
export interface CatalogueModel {
  name: string;
  version: string;
  task: string;
  framework: string;
  state: string;
  reason?: string;
  backend?: string;
  backendNote?: string;
  card?: {
    description?: string;
    license?: string;
    origin?: string;
    metrics?: Array<{ dataset?: string; metric?: string; value?: number | string; source?: string }>;
  };
  labels?: string[];
  benchmark?: ModelBenchmark;
}

/** The runtime's measurement of a model after warm-up. */
export interface ModelBenchmark {
  backend: string;
  runtimeVersion: string;
  node: string;
  measuredAt: string;
  iterations: number;
  latencyMs: { p50: number; p95: number };
  batchSize: number;
  throughputPerSec: number;
  threads: number;
}

export interface Catalogue {
  /** The endpoint the listing came from, and its node. */
  endpoint: string;
  node?: string;
  etag?: string;
  models: CatalogueModel[];
  /** When the listing was last confirmed (a 200 or a 304), ms since epoch. */
  checkedAt: number;
}

/** What changed between two listings: models added, removed, or with another version or state. */
export interface CatalogueChange {
  catalogue: Catalogue;
  added: string[];
  removed: string[];
  changed: string[];
}

const keyOf = (m: CatalogueModel) => `${m.name}@${m.version}`;

export function diffCatalogues(before: readonly CatalogueModel[] | undefined, after: Catalogue): CatalogueChange {
  const old = new Map((before ?? []).map((m) => [keyOf(m), m]));
  const now = new Map(after.models.map((m) => [keyOf(m), m]));
  return {
    catalogue: after,
    added: [...now.keys()].filter((k) => !old.has(k)),
    removed: [...old.keys()].filter((k) => !now.has(k)),
    changed: [...now.entries()].filter(([k, m]) => old.has(k) && (old.get(k)!.state !== m.state || old.get(k)!.backend !== m.backend)).map(([k]) => k),
  };
}

/** A listing body checked for shape; anything else is treated as an endpoint failure. */
export function parseListing(body: unknown): CatalogueModel[] | undefined {
  if (typeof body !== 'object' || body === null || !Array.isArray((body as { models?: unknown }).models)) return undefined;
  return ((body as { models: unknown[] }).models).filter(
    (m): m is CatalogueModel => typeof m === 'object' && m !== null && typeof (m as CatalogueModel).name === 'string' && typeof (m as CatalogueModel).task === 'string',
  );
}
