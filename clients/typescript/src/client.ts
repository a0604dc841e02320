import type * as Api from './api.js';
import { diffCatalogues, parseListing, type Catalogue, type CatalogueChange } from './catalogue.js';
import { normaliseUrl, parseDiscovery, type DiscoveryDocument, type Tier } from './discovery.js';
import { DEFAULT_BACKOFF, Endpoint, rankEndpoints, viewOf, type BackoffOptions, type EndpointView } from './endpoints.js';
import { ApiError, NoEndpointError } from './errors.js';
import { Emitter } from './events.js';
import { DEFAULT_HEDGE, hedgeBudget, NoAnswer, runHedged, type AttemptOutcome, type HedgeOptions } from './hedging.js';
import { imageType, toBase64, toBytes, type BinaryInput } from './media.js';
import { anySignal, globalFetch, type FetchLike, type ResponseLike } from './transport.js';
import { decodeInferResponse, encodeInferRequest, INFERENCE_HEADER, type V2InferOptions, type V2Input, type V2Result } from './v2Tensors.js';

export type EndpointInput = string | { url: string; tier?: Tier };

export interface ClientOptions {
  /** Runtime URLs (edge nodes first in mind; `tier: 'cloud'` for the fallback). */
  endpoints?: EndpointInput[];
  /** URLs of discovery documents whose `endpoints` list adds endpoints (read at start and at each probe round). */
  discovery?: string[];
  /** Sent as `Authorization: Bearer <key>`. */
  apiKey?: string;
  /** The HTTP primitive; default the global fetch. In Node with a private CA: `httpsFetch({ ca })` from `@mloffload/client/node`. */
  fetch?: FetchLike;
  /** Deadline of one call, hedges and failovers included (default 30 s). */
  timeoutMs?: number;
  /** Deadline of one discovery probe (default 2 s). */
  probeTimeoutMs?: number;
  /** Background re-probing of every endpoint; 0 turns it off (default 30 s). */
  probeIntervalMs?: number;
  /** Background catalogue sync of the nearest endpoint; 0 turns it off (default 60 s). */
  catalogueIntervalMs?: number;
  /** Hedged requests; false sends each request to one endpoint at a time (failover only). */
  hedge?: Partial<HedgeOptions> | false;
  /** How long a failing endpoint is put aside. */
  backoff?: Partial<BackoffOptions>;
}

export interface ClientEvents extends Record<string, unknown> {
  /** The nearest endpoint's model listing changed (models added, removed, or with another state). */
  catalogue: CatalogueChange;
  /** An endpoint failed and was put aside. */
  endpointDown: EndpointView;
  /** A put-aside endpoint answered again. */
  endpointUp: EndpointView;
  /** A request was sent to a second endpoint because the first had not answered within its budget. */
  hedge: { from: string; to: string; budgetMs: number };
}

export interface CallOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

interface RequestSpec {
  method: 'GET' | 'POST';
  path: string;
  body?: Uint8Array | string;
  contentType?: string;
  query?: Record<string, string | number | boolean | undefined>;
  /** Only endpoints whose discovery document shows these tasks, when it is known. */
  task?: string | readonly string[];
  headers?: Record<string, string>;
  /** Not safe to send twice: no hedge, no failover (one attempt on the nearest endpoint). */
  once?: boolean;
  /** The answer may be binary-framed (V2 binary tensors): read as bytes, split at Inference-Header-Content-Length. */
  binaryResponse?: boolean;
}

/** Upper bound on endpoints, whatever discovery documents say. */
const MAX_ENDPOINTS = 64;

const unref = (timer: ReturnType<typeof setTimeout>) => (timer as { unref?: () => void }).unref?.();

/**
 * A client of mloffload runtimes that sends each call to the nearest healthy edge node: it probes the
 * endpoints' round-trip time, hedges a call to the next endpoint when the first is slower than usual,
 * fails over (to the cloud last) when an endpoint fails, and keeps the node's model catalogue in sync.
 * The task APIs are free of side effects, which is what makes hedging and retrying them safe; the one call
 * that may carry state (a dialog message in a session) is sent once, to one endpoint.
 */
export class MLOffloadClient extends Emitter<ClientEvents> {
  private readonly list: Endpoint[] = [];
  private readonly fetchFn: FetchLike;
  private readonly hedge: HedgeOptions;
  private readonly backoff: BackoffOptions;
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private readonly catalogues = new Map<string, Catalogue>();
  private readonly recoveryProbes = new Set<Endpoint>();
  private started?: Promise<void>;
  private closed = false;

  readonly vision = {
    faces: (image: BinaryInput, options: Api.FaceOptions = {}, call?: CallOptions) =>
      this.postBinary<Api.FacesResponse>('/v1/vision/faces', image, options, 'vision/face-detection', call),
    facialExpressions: (image: BinaryInput, options: Api.ExpressionOptions = {}, call?: CallOptions) =>
      this.postBinary<Api.FacialExpressionsResponse>(
        '/v1/vision/facial-expressions',
        image,
        options,
        // Finding the faces first takes the face detector too.
        options.crop === false ? ['vision/facial-expression'] : ['vision/facial-expression', 'vision/face-detection'],
        call,
      ),
    objects: (image: BinaryInput, options: Api.ObjectOptions = {}, call?: CallOptions) =>
      this.postBinary<Api.ObjectsResponse>('/v1/vision/objects', image, options, 'vision/object-detection', call),
    text: (image: BinaryInput, options: Api.TextOptions = {}, call?: CallOptions) =>
      this.postBinary<Api.TextResponse>('/v1/vision/text', image, options, ['vision/text-detection', 'vision/text-recognition'], call),
  };

  readonly translation = {
    translate: (request: Api.TranslationRequest, call?: CallOptions) =>
      this.send<Api.TranslationResponse>({ ...jsonBody(request), method: 'POST', path: '/v1/translation/translations', task: 'translation/text' }, call),
    languages: (call?: CallOptions) => this.send<Api.LanguagesResponse>({ method: 'GET', path: '/v1/translation/languages', task: 'translation/text' }, call),
  };

  readonly speech = {
    transcribe: (audio: BinaryInput, options: Api.SpeechOptions = {}, call?: CallOptions) =>
      this.postAudio<Api.TranscriptionResponse>('/v1/speech/transcriptions', audio, options, {}, 'speech/recognition', false, call),
  };

  /**
   * A message with a `sessionId` advances that session's turn counter on the node that answers it: a hedged
   * or failed-over duplicate would count a turn twice (and land on a node that does not hold the session),
   * so such a message is sent once, to the nearest endpoint. Without a session, a message is side-effect free.
   */
  readonly dialog = {
    message: (message: Api.DialogMessage, call?: CallOptions) =>
      this.send<Api.DialogResponse>({ ...jsonBody(message), method: 'POST', path: '/v1/dialog/messages', task: 'dialog/intent', once: message.sessionId !== undefined }, call),
    voice: (audio: BinaryInput, options: Api.VoiceOptions = {}, call?: CallOptions) => {
      const { sessionId, ...speech } = options;
      return this.postAudio<Api.VoiceDialogResponse>('/v1/dialog/voice', audio, speech, { sessionId }, ['speech/recognition', 'dialog/intent'], sessionId !== undefined, call);
    },
  };

  /** TF Serving REST. */
  readonly tfServing = {
    predict: (model: string, request: Api.PredictRequest, version?: string, call?: CallOptions) =>
      this.postJson<Api.PredictResponse>(`${modelPath('/v1/models', model, version)}:predict`, request, call),
    status: (model: string, version?: string, call?: CallOptions) => this.send<Api.ModelStatusResponse>({ method: 'GET', path: modelPath('/v1/models', model, version) }, call),
    metadata: (model: string, version?: string, call?: CallOptions) => this.send<unknown>({ method: 'GET', path: `${modelPath('/v1/models', model, version)}/metadata` }, call),
  };

  /** Open Inference Protocol V2 (KServe V2 / Triton HTTP), with the binary tensor data extension. */
  readonly v2 = {
    /** Binary tensors both ways unless `binary: false`; outputs come back with their elements decoded. */
    infer: async (model: string, inputs: readonly V2Input[], options: V2InferOptions = {}, call?: CallOptions): Promise<V2Result> => {
      const { body, contentType, headers } = encodeInferRequest(inputs, options);
      await this.ready();
      const answer = await this.run({ method: 'POST', path: `${modelPath('/v2/models', model, options.version)}/infer`, body, contentType, headers, binaryResponse: true }, call);
      return decodeInferResponse(answer.body as Api.V2InferResponse, answer.binary);
    },
    metadata: (model: string, version?: string, call?: CallOptions) => this.send<Api.V2ModelMetadata>({ method: 'GET', path: modelPath('/v2/models', model, version) }, call),
    /** `{ready: true}`; a model still loading or failed answers 503 with the reason, which the call throws. */
    ready: (model: string, version?: string, call?: CallOptions) =>
      this.send<{ name: string; ready: boolean }>({ method: 'GET', path: `${modelPath('/v2/models', model, version)}/ready` }, call),
    /** `GET /v2`: the server's name, version and protocol extensions. */
    server: (call?: CallOptions) => this.send<{ name: string; version: string; extensions: string[] }>({ method: 'GET', path: '/v2' }, call),
  };

  constructor(private readonly options: ClientOptions) {
    super();
    this.fetchFn = options.fetch ?? globalFetch;
    this.hedge = options.hedge === false ? { ...DEFAULT_HEDGE, enabled: false } : { ...DEFAULT_HEDGE, ...options.hedge };
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    for (const e of options.endpoints ?? []) this.addEndpoint(typeof e === 'string' ? e : e.url, typeof e === 'string' ? undefined : e.tier);
    if (this.list.length === 0 && !(options.discovery?.length)) throw new TypeError('give at least one endpoint or discovery document URL');
  }

  /** Reads the discovery documents and probes every endpoint once; calls wait for it on their own. */
  ready(): Promise<void> {
    this.started ??= (async () => {
      await this.discover();
      // Two probes: the first one pays for the connection set-up, which is not the network's RTT.
      await this.probe();
      await this.probe();
      this.schedule(() => this.probeLoop(), this.options.probeIntervalMs ?? 30_000);
      this.schedule(() => this.catalogueLoop(), this.options.catalogueIntervalMs ?? 60_000);
    })();
    return this.started;
  }

  /** Endpoints in the order a call tries them, with what the client measured. */
  endpoints(task?: string | readonly string[]): EndpointView[] {
    const now = Date.now();
    return rankEndpoints(this.list, now, task).map((e) => viewOf(e, now, this.hedge.enabled ? hedgeBudget(e, this.hedge) : undefined));
  }

  /** Probes every endpoint now (`GET /v1/discovery`), returning the new ranking. */
  async probe(): Promise<EndpointView[]> {
    await Promise.all(this.list.map((e) => this.probeOne(e)));
    return this.endpoints();
  }

  /**
   * The nearest endpoint's model listing, revalidated with `If-None-Match` (a 304 costs no body). Emits
   * `catalogue` when it differs from the last one seen from that endpoint.
   */
  async catalogue(call?: CallOptions): Promise<Catalogue> {
    await this.ready();
    const result = await this.run(
      { method: 'GET', path: '/v1/models' },
      call,
      (endpoint): Record<string, string> => {
        const cached = this.catalogues.get(endpoint.url);
        return cached?.etag ? { 'If-None-Match': cached.etag } : {};
      },
      true,
    );
    const endpoint = this.list.find((e) => e.url === result.endpoint)!;
    const previous = this.catalogues.get(endpoint.url);
    if (result.status === 304 && previous) {
      previous.checkedAt = Date.now();
      return previous;
    }
    const models = parseListing(result.body) ?? [];
    const next: Catalogue = { endpoint: endpoint.url, node: endpoint.node, etag: result.etag, models, checkedAt: Date.now() };
    this.catalogues.set(endpoint.url, next);
    const change = diffCatalogues(previous?.models, next);
    if (!previous || change.added.length || change.removed.length || change.changed.length) this.emit('catalogue', change);
    return next;
  }

  /** Any call of the runtime's HTTP API through the same selection, hedging and failover. */
  request<T>(method: 'GET' | 'POST', path: string, body?: unknown, call?: CallOptions): Promise<T> {
    return body === undefined ? this.send<T>({ method, path }, call) : this.postJson<T>(path, body, call);
  }

  /** Stops background probing and catalogue sync. */
  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private addEndpoint(url: string, tier: Tier = 'edge'): void {
    const normal = normaliseUrl(url);
    if (!normal) throw new TypeError(`not an http(s) URL: ${url}`);
    if (this.list.some((e) => e.url === normal) || this.list.length >= MAX_ENDPOINTS) return;
    this.list.push(new Endpoint(normal, tier));
  }

  private async discover(): Promise<void> {
    await Promise.all(
      (this.options.discovery ?? []).map(async (source) => {
        try {
          const response = await this.fetchFn(source, { method: 'GET', headers: this.headers(), signal: AbortSignal.timeout(this.options.probeTimeoutMs ?? 2000) });
          if (!response.ok) return;
          const doc = parseDiscovery(JSON.parse(await response.text()), source);
          for (const e of doc.endpoints ?? []) this.addEndpoint(e.url, e.tier);
        } catch {
          // An unreachable discovery document leaves the endpoints already known.
        }
      }),
    );
  }

  private async probeOne(endpoint: Endpoint): Promise<void> {
    const started = now();
    try {
      const response = await this.fetchFn(`${endpoint.url}/v1/discovery`, {
        method: 'GET',
        headers: this.headers(),
        signal: AbortSignal.timeout(this.options.probeTimeoutMs ?? 2000),
      });
      const text = await response.text();
      if (response.status >= 500) throw new Error(`discovery answered ${response.status}`);
      endpoint.rtt.add(now() - started);
      if (response.ok) {
        let doc: DiscoveryDocument = {};
        try {
          doc = parseDiscovery(JSON.parse(text), endpoint.url);
        } catch {
          // not JSON: the endpoint answers, but says nothing about itself
        }
        endpoint.discovery = doc;
      }
      this.markUp(endpoint);
    } catch (error) {
      this.markDown(endpoint, error instanceof Error ? error.message : String(error));
    }
  }

  private async probeLoop(): Promise<void> {
    await this.discover();
    await this.probe();
    this.schedule(() => this.probeLoop(), this.options.probeIntervalMs ?? 30_000);
  }

  private async catalogueLoop(): Promise<void> {
    try {
      await this.catalogue();
    } catch {
      // No endpoint answered: the next round tries again.
    }
    this.schedule(() => this.catalogueLoop(), this.options.catalogueIntervalMs ?? 60_000);
  }

  private schedule(fn: () => Promise<void>, ms: number): void {
    if (this.closed || !(ms > 0)) return;
    // Jitter, so that many apps started together do not probe in step.
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void fn();
    }, ms * (0.9 + Math.random() * 0.2));
    unref(timer);
    this.timers.add(timer);
  }

  private markUp(endpoint: Endpoint): void {
    const wasDown = endpoint.failures > 0;
    endpoint.succeeded();
    if (wasDown) this.emit('endpointUp', viewOf(endpoint, Date.now()));
  }

  private markDown(endpoint: Endpoint, error: string, retryAfterMs?: number): void {
    endpoint.failed(error, Date.now(), this.backoff, retryAfterMs);
    this.emit('endpointDown', viewOf(endpoint, Date.now()));
    // Probe it when its pause ends, so it earns traffic back by answering, not by the clock (one probe
    // pending per endpoint, however many calls failed on it meanwhile).
    if (this.recoveryProbes.has(endpoint)) return;
    this.recoveryProbes.add(endpoint);
    this.schedule(async () => {
      this.recoveryProbes.delete(endpoint);
      await this.probeOne(endpoint);
    }, Math.max(1, endpoint.downUntil - Date.now()));
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    const headers: Record<string, string> = { Accept: 'application/json', ...extra };
    if (this.options.apiKey) headers.Authorization = `Bearer ${this.options.apiKey}`;
    return headers;
  }

  private async postBinary<T>(path: string, input: BinaryInput, query: object, task: string | readonly string[] | undefined, call?: CallOptions): Promise<T> {
    const body = await toBytes(input);
    const sniffed = imageType(body);
    const blobType = typeof Blob !== 'undefined' && input instanceof Blob ? input.type : '';
    const contentType = sniffed !== 'application/octet-stream' ? sniffed : blobType || sniffed;
    return this.send<T>({ method: 'POST', path, body, contentType, query: query as RequestSpec['query'], task }, call);
  }

  private postJson<T>(path: string, value: unknown, call?: CallOptions): Promise<T> {
    return this.send<T>({ ...jsonBody(value), method: 'POST', path }, call);
  }

  /**
   * WAV bytes as the body, `mode` in the query; a phrase list or grammar (too long for a URL) makes the body
   * JSON with the audio in base64, the runtime's other accepted form.
   */
  private async postAudio<T>(path: string, input: BinaryInput, options: Api.SpeechOptions, query: Record<string, string | undefined>, task: string | readonly string[], once: boolean, call?: CallOptions): Promise<T> {
    const audio = await toBytes(input);
    const q = { ...query, mode: options.mode };
    if (options.phrases === undefined && options.grammar === undefined) {
      return this.send<T>({ method: 'POST', path, body: audio, contentType: 'audio/wav', query: q, task, once }, call);
    }
    const body = { audio: { b64: toBase64(audio) }, phrases: options.phrases, grammar: options.grammar };
    return this.send<T>({ ...jsonBody(body), method: 'POST', path, query: q, task, once }, call);
  }

  private async send<T>(spec: RequestSpec, call?: CallOptions): Promise<T> {
    await this.ready();
    const result = await this.run(spec, call);
    return result.body as T;
  }

  /** One logical request over the ranked endpoints, hedged and failed over; `extraHeaders` per endpoint (conditional requests). */
  private async run(
    spec: RequestSpec,
    call: CallOptions | undefined,
    extraHeaders?: (endpoint: Endpoint) => Record<string, string>,
    allowNotModified = false,
  ): Promise<Answer> {
    const ranked = rankEndpoints(this.list, Date.now(), spec.task);
    const candidates = spec.once ? ranked.slice(0, 1) : ranked;
    if (candidates.length === 0) throw new NoEndpointError(`no endpoint serves ${[spec.task ?? spec.path].flat().join(' and ')}`, []);
    const deadline = anySignal([call?.signal, AbortSignal.timeout(call?.timeoutMs ?? this.options.timeoutMs ?? 30_000)]);
    const search = new URLSearchParams();
    for (const [k, v] of Object.entries(spec.query ?? {})) if (v !== undefined) search.set(k, String(v));
    const suffix = search.size > 0 ? `?${search}` : '';
    try {
      return await runHedged<Answer>({
        candidates,
        hedging: this.hedge.enabled && !spec.once,
        maxInFlight: Math.max(1, this.hedge.maxInFlight),
        signal: deadline.signal,
        now,
        budget: (e) => hedgeBudget(e, this.hedge),
        onHedge: (from, to) => this.emit('hedge', { from: from.url, to: to.url, budgetMs: hedgeBudget(from, this.hedge) }),
        onSuccess: (e, ms) => {
          e.latency.add(ms);
          e.answers++;
          this.markUp(e);
        },
        onFailure: (e, error, retryAfterMs) => this.markDown(e, error, retryAfterMs),
        attempt: async (endpoint, signal): Promise<AttemptOutcome<Answer>> => {
          const headers = this.headers({ ...spec.headers, ...extraHeaders?.(endpoint) });
          if (spec.contentType) headers['Content-Type'] = spec.contentType;
          let response: ResponseLike;
          let text: string;
          let binary: Uint8Array | undefined;
          try {
            response = await this.fetchFn(`${endpoint.url}${spec.path}${suffix}`, { method: spec.method, headers, body: spec.body, signal });
            const headerLength = spec.binaryResponse ? response.headers.get(INFERENCE_HEADER) : null;
            if (headerLength === null) text = await response.text();
            else {
              const framed = splitFramed(new Uint8Array(await response.arrayBuffer()), headerLength);
              if (typeof framed === 'string') return { kind: 'retry', error: framed };
              [text, binary] = framed;
            }
          } catch (error) {
            return { kind: 'retry', error: error instanceof Error ? error.message : String(error) };
          }
          const outcome = classify(response, text, endpoint.url, allowNotModified);
          if (outcome.kind === 'answer' && binary) outcome.value.binary = binary;
          return outcome;
        },
      });
    } catch (error) {
      if (error instanceof NoAnswer) throw new NoEndpointError('no endpoint answered', error.failures);
      throw error;
    } finally {
      deadline.dispose();
    }
  }
}

/** An answer of one endpoint: its status, JSON body and ETag. */
interface Answer {
  endpoint: string;
  status: number;
  body: unknown;
  etag?: string;
  /** The bytes after the JSON part of a binary-framed answer. */
  binary?: Uint8Array;
}

/** The JSON text and the bytes after it, or why the framing does not add up (then it is not the runtime's answer). */
function splitFramed(bytes: Uint8Array, headerLength: string): [string, Uint8Array] | string {
  const length = /^\d{1,10}$/.test(headerLength.trim()) ? Number(headerLength) : NaN;
  if (!(length <= bytes.length)) return `${INFERENCE_HEADER} ${headerLength.slice(0, 20)} does not fit a body of ${bytes.length} bytes`;
  return [new TextDecoder().decode(bytes.subarray(0, length)), bytes.subarray(length)];
}

function jsonBody(value: unknown): Pick<RequestSpec, 'body' | 'contentType'> {
  return { body: JSON.stringify(value), contentType: 'application/json' };
}

function classify(response: ResponseLike, text: string, endpoint: string, allowNotModified: boolean): AttemptOutcome<Answer> {
  const status = response.status;
  if (status === 304 && allowNotModified) return { kind: 'answer', value: { endpoint, status, body: undefined } };
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (status >= 200 && status < 300) {
    // A 2xx that is not JSON comes from something in the path, not from the runtime.
    if (body === undefined) return { kind: 'retry', error: `${status} without a JSON body` };
    return { kind: 'answer', value: { endpoint, status, body, etag: response.headers.get('ETag') ?? undefined } };
  }
  const message = typeof (body as { error?: unknown } | undefined)?.error === 'string' ? (body as { error: string }).error : text.slice(0, 200) || `HTTP ${status}`;
  // Overload, unreadiness, timeouts and server faults are the endpoint's; another one may answer.
  if (status === 408 || status === 429 || status >= 500) {
    return { kind: 'retry', error: `${status}: ${message}`, retryAfterMs: retryAfter(response.headers.get('Retry-After')) };
  }
  return { kind: 'final', error: new ApiError(status, message, endpoint) };
}

function retryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds, 3600) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.min(at - Date.now(), 3_600_000));
}

function modelPath(prefix: string, model: string, version?: string): string {
  return `${prefix}/${encodeURIComponent(model)}${version ? `/versions/${encodeURIComponent(version)}` : ''}`;
}

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());
