/**
 * A small JSON client for the Kubernetes REST API over one keep-alive agent: the verbs the operator uses
 * (get, list, server-side apply, merge patch, create, update, delete) and a streaming watch.
 */
import http from 'node:http';
import https from 'node:https';
import type { ClusterConnection } from './connection.js';

/** A non-2xx answer from the API server, with the Status body's reason when there is one. */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export function isNotFound(err: unknown): boolean {
  return err instanceof ApiError && err.statusCode === 404;
}
export function isConflict(err: unknown): boolean {
  return err instanceof ApiError && err.statusCode === 409;
}
export function isGone(err: unknown): boolean {
  return err instanceof ApiError && err.statusCode === 410;
}

export type Query = Record<string, string | number | boolean | undefined>;

export interface WatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

export interface ListResult<T> {
  items: T[];
  resourceVersion: string;
}

interface StatusBody {
  kind?: string;
  reason?: string;
  message?: string;
  code?: number;
}

function toApiError(statusCode: number, text: string, method: string, path: string): ApiError {
  let status: StatusBody = {};
  try {
    status = JSON.parse(text) as StatusBody;
  } catch {
    // not a Status object (proxy error page, truncated body): keep the raw text
  }
  const reason = status.reason ?? http.STATUS_CODES[statusCode] ?? 'Unknown';
  const message = status.message ?? text.slice(0, 300);
  return new ApiError(statusCode, reason, `${method} ${path}: ${statusCode} ${reason}: ${message}`);
}

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  contentType?: string;
  /** Refuse an answer larger than this (bodies relayed from pods through the API server's proxy). */
  maxBytes?: number;
}

export interface KubeClientOptions {
  /** Longest a request may go without data (default 30 s). */
  requestTimeoutMs?: number;
  userAgent?: string;
  /**
   * Consulted at the start of every request: an aborted signal refuses it, a later abort cancels it in
   * flight. Leader election bounds a renewal by the renew deadline with it; the reconcilers' writes are
   * bound to the leadership term.
   */
  signal?: () => AbortSignal | undefined;
}

/** A request given up because its signal aborted (deadline passed, leadership lost, shutting down). */
export class RequestAbortedError extends Error {
  constructor(method: string, path: string, reason: unknown) {
    super(`${method} ${path}: aborted: ${reason instanceof Error ? reason.message : String(reason ?? 'aborted')}`);
    this.name = 'RequestAbortedError';
  }
}

export class KubeClient {
  private readonly requestTimeoutMs: number;
  private readonly userAgent: string;

  constructor(
    private readonly conn: ClusterConnection,
    private readonly opts: KubeClientOptions = {},
  ) {
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 30_000;
    this.userAgent = opts.userAgent ?? 'mloffload-operator';
  }

  /** The same client whose every request is also cancelled by `signal` (or by what it returns at the time). */
  withSignal(signal: AbortSignal | (() => AbortSignal | undefined)): KubeClient {
    const extra = typeof signal === 'function' ? signal : () => signal;
    const own = this.opts.signal;
    return new KubeClient(this.conn, {
      ...this.opts,
      signal: () => {
        const signals = [own?.(), extra()].filter((s): s is AbortSignal => s !== undefined);
        return signals.length > 1 ? AbortSignal.any(signals) : signals[0];
      },
    });
  }

  private url(path: string, query?: Query): URL {
    const url = new URL(this.conn.server + path);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    return url;
  }

  private async open(method: string, url: URL, contentType: string | undefined, signal?: AbortSignal): Promise<http.ClientRequest> {
    const headers: Record<string, string> = { ...(await this.conn.headers()), Accept: 'application/json', 'User-Agent': this.userAgent };
    if (contentType) headers['Content-Type'] = contentType;
    const mod = url.protocol === 'http:' ? http : https;
    return mod.request(url, { method, headers, agent: this.conn.agent, signal });
  }

  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const url = this.url(path, opts.query);
    const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const signal = this.opts.signal?.();
    if (signal?.aborted) throw new RequestAbortedError(method, path, signal.reason);
    const req = await this.open(method, url, payload === undefined ? undefined : (opts.contentType ?? 'application/json'), signal);
    return new Promise<T>((resolve, reject) => {
      req.setTimeout(this.requestTimeoutMs, () => req.destroy(new Error(`${method} ${path}: timed out after ${this.requestTimeoutMs} ms`)));
      req.on('error', (err) => reject(signal?.aborted ? new RequestAbortedError(method, path, signal.reason) : err));
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (opts.maxBytes !== undefined && size > opts.maxBytes) {
            res.destroy();
            req.destroy(new Error(`${method} ${path}: answer larger than ${opts.maxBytes} bytes`));
            return;
          }
          chunks.push(c);
        });
        res.on('error', (err) => reject(signal?.aborted ? new RequestAbortedError(method, path, signal.reason) : err));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const code = res.statusCode ?? 0;
          if (code < 200 || code >= 300) return reject(toApiError(code, text, method, path));
          try {
            resolve((text ? JSON.parse(text) : undefined) as T);
          } catch (err) {
            reject(err);
          }
        });
      });
      req.end(payload);
    });
  }

  async get<T>(path: string): Promise<T | undefined> {
    try {
      return await this.request<T>('GET', path);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Lists in pages so a large collection never arrives as one huge body. */
  async list<T>(path: string, query: Query = {}, pageSize = 500): Promise<ListResult<T>> {
    const items: T[] = [];
    let cont: string | undefined;
    let resourceVersion = '';
    do {
      const page = await this.request<{ items?: T[]; metadata?: { resourceVersion?: string; continue?: string } }>('GET', path, {
        query: { ...query, limit: pageSize, continue: cont },
      });
      items.push(...(page.items ?? []));
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
      cont = page.metadata?.continue || undefined;
    } while (cont);
    return { items, resourceVersion };
  }

  /** Server-side apply: the object is the full intent of `fieldManager`; force takes over conflicting fields. */
  apply<T>(path: string, obj: unknown, fieldManager: string): Promise<T> {
    return this.request<T>('PATCH', path, {
      query: { fieldManager, force: true },
      body: obj,
      contentType: 'application/apply-patch+yaml',
    });
  }

  mergePatch<T>(path: string, patch: unknown, fieldManager?: string): Promise<T> {
    return this.request<T>('PATCH', path, { query: { fieldManager }, body: patch, contentType: 'application/merge-patch+json' });
  }

  create<T>(path: string, obj: unknown, fieldManager?: string): Promise<T> {
    return this.request<T>('POST', path, { query: { fieldManager }, body: obj });
  }

  replace<T>(path: string, obj: unknown, fieldManager?: string): Promise<T> {
    return this.request<T>('PUT', path, { query: { fieldManager }, body: obj });
  }

  /** Deletes; a missing object is not an error. */
  async delete(path: string, query: Query = {}): Promise<void> {
    try {
      await this.request('DELETE', path, { query });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /**
   * Streams a watch until the server ends it (resolves) or it fails (rejects; a 410 Gone, in the body or as
   * the status, rejects with ApiError 410). `idleTimeoutMs` guards against a half-open connection.
   */
  async watch<T>(path: string, query: Query, onEvent: (ev: WatchEvent<T>) => void, signal: AbortSignal, idleTimeoutMs: number): Promise<void> {
    const url = this.url(path, { ...query, watch: true });
    const req = await this.open('GET', url, undefined, signal);
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const finish = (err?: unknown) => {
        if (settled) return;
        settled = true;
        if (err) reject(err);
        else resolve();
        req.destroy();
      };
      req.setTimeout(idleTimeoutMs, () => finish(new Error(`watch ${path}: no data for ${idleTimeoutMs} ms`)));
      req.on('error', (err) => finish(signal.aborted ? undefined : err));
      req.on('response', (res) => {
        const code = res.statusCode ?? 0;
        if (code !== 200) {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => finish(toApiError(code, Buffer.concat(chunks).toString('utf8'), 'WATCH', path)));
          res.on('error', finish);
          return;
        }
        let buffered = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffered += chunk;
          let nl: number;
          while ((nl = buffered.indexOf('\n')) >= 0) {
            const line = buffered.slice(0, nl).trim();
            buffered = buffered.slice(nl + 1);
            if (!line) continue;
            let ev: WatchEvent<T>;
            try {
              ev = JSON.parse(line) as WatchEvent<T>;
            } catch (err) {
              return finish(new Error(`watch ${path}: undecodable event: ${(err as Error).message}`));
            }
            if (ev.type === 'ERROR') {
              const st = ev.object as unknown as StatusBody;
              return finish(new ApiError(st.code ?? 500, st.reason ?? 'WatchError', `watch ${path}: ${st.message ?? 'error event'}`));
            }
            onEvent(ev);
          }
        });
        res.on('end', () => finish());
        res.on('error', (err) => finish(signal.aborted ? undefined : err));
        res.on('aborted', () => finish(signal.aborted ? undefined : new Error(`watch ${path}: connection aborted`)));
      });
      req.end();
    });
  }
}
