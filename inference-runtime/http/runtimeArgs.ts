import { parseArgs } from 'node:util';
import { checkConnectionLimits, DEFAULT_CONNECTION_LIMITS, type ConnectionLimits } from './connectionLimits.js';
import { DEFAULT_MEMORY_BUDGET_FRACTION } from '../core/memoryBudget.js';
import { defaultVisionLimits } from '../vision/limits.js';
import { DEFAULT_HTTP_OPTIONS } from './options.js';

/** The runtime's command line, each flag backed by an environment variable (flags win). */
export interface RuntimeArgs {
  port: number;
  host?: string;
  poolConfig?: string;
  tlsCert?: string;
  tlsKey?: string;
  apiKeysFile?: string;
  /** Keys given directly (MLOFFLOAD_API_KEYS). */
  apiKeys?: string;
  protectMetrics: boolean;
  /** Allowed cross-origin callers (MLOFFLOAD_CORS_ORIGINS, comma separated; `none` for none). */
  corsOrigins: string[];
  modelCache?: string;
  workers?: number;
  maxBodyBytes: number;
  requestTimeoutMs: number;
  shutdownTimeoutMs: number;
  /** How often the API-keys file and the TLS files are re-read to pick up a rotated Secret. */
  secretReloadMs: number;
  /** Connection timeouts and cap (--headers-timeout-ms, --body-timeout-ms, --keep-alive-timeout-ms, --max-connections). */
  connectionLimits: ConnectionLimits;
  help: boolean;

  // Memory limits
  /** Memory budget in bytes (0: none); undefined: a fraction of the container's cgroup limit. */
  memoryBudgetBytes?: number;
  memoryBudgetFraction: number;
  maxRowsPerRequest: number;
  maxDecodeBytes: number;
  maxConcurrentDecodes: number;
  maxWaitingDecodes: number;
}

/** A few small reads per period; the kubelet itself takes up to a minute or more to update a Secret volume. */
export const DEFAULT_SECRET_RELOAD_MS = 2_000;

export class UsageError extends Error {
  override name = 'UsageError';
}

export const USAGE = `Usage: mloffload-runtime [options]

  --port <n>                 listening port (PORT, default 8080; 0 picks a free port)
  --host <addr>              listening address (HOST, default all interfaces)
  --config <file>            pool file, YAML or JSON, replacing the built-in pool (MLOFFLOAD_POOL_CONFIG)
  --tls-cert <file>          PEM certificate; HTTPS with --tls-key (MLOFFLOAD_TLS_CERT)
  --tls-key <file>           PEM private key (MLOFFLOAD_TLS_KEY)
  --api-keys-file <file>     API keys, one per line (keys themselves: MLOFFLOAD_API_KEYS, comma separated)
  --protect-metrics          require an API key for /metrics too (MLOFFLOAD_PROTECT_METRICS=1)
  --cors-origins <list>      origins of browser apps allowed to call the API, comma separated, or none
                             (MLOFFLOAD_CORS_ORIGINS, default *: keys are sent as headers, never cookies)
  --model-cache <dir>        where fetched models are kept (MLOFFLOAD_MODEL_CACHE)
  --workers <n>              inference worker threads; 0 runs inference in-process (MLOFFLOAD_WORKERS)
  --max-body-bytes <n>       largest request body (MLOFFLOAD_MAX_BODY_BYTES, default ${DEFAULT_HTTP_OPTIONS.maxBodyBytes})
  --request-timeout-ms <n>   time budget of a request (MLOFFLOAD_REQUEST_TIMEOUT_MS, default ${DEFAULT_HTTP_OPTIONS.requestTimeoutMs})
  --shutdown-timeout-ms <n>  how long SIGTERM waits for in-flight requests (MLOFFLOAD_SHUTDOWN_TIMEOUT_MS, default 10000)
  --secret-reload-ms <n>     how often the keys file and TLS files are re-read for rotation (MLOFFLOAD_SECRET_RELOAD_MS, default ${DEFAULT_SECRET_RELOAD_MS})
  --headers-timeout-ms <n>   time to send the request headers (MLOFFLOAD_HEADERS_TIMEOUT_MS, default ${DEFAULT_CONNECTION_LIMITS.headersTimeoutMs})
  --body-timeout-ms <n>      time to send a whole request, body included (MLOFFLOAD_BODY_TIMEOUT_MS, default ${DEFAULT_CONNECTION_LIMITS.bodyTimeoutMs})
  --keep-alive-timeout-ms <n> idle time of a keep-alive connection (MLOFFLOAD_KEEP_ALIVE_TIMEOUT_MS, default ${DEFAULT_CONNECTION_LIMITS.keepAliveTimeoutMs})
  --max-connections <n>      connections open at once; more get 503 (MLOFFLOAD_MAX_CONNECTIONS, default ${DEFAULT_CONNECTION_LIMITS.maxConnections})
  --help                     this text

Memory limits (sizes in bytes, or with a Ki, Mi or Gi suffix):
  --memory-budget <size>         RSS the runtime keeps under: work that would exceed it gets 503 + Retry-After;
                                 0 turns it off (MLOFFLOAD_MEMORY_BUDGET, default a fraction of the container's
                                 cgroup memory limit, none without a limit)
  --memory-budget-fraction <f>   that fraction (MLOFFLOAD_MEMORY_BUDGET_FRACTION, default ${DEFAULT_MEMORY_BUDGET_FRACTION})
  --max-rows-per-request <n>     rows (batch) of one inference request (MLOFFLOAD_MAX_ROWS_PER_REQUEST, default ${DEFAULT_HTTP_OPTIONS.maxRowsPerRequest})
  --max-decode-bytes <size>      memory one image decode may need (MLOFFLOAD_MAX_DECODE_BYTES, default ${defaultVisionLimits.maxDecodeBytes})
  --max-concurrent-decodes <n>   image decodes at once (MLOFFLOAD_MAX_CONCURRENT_DECODES, default: the cores)
  --max-waiting-decodes <n>      decodes waiting for a turn before 503 (MLOFFLOAD_MAX_WAITING_DECODES, default ${defaultVisionLimits.maxWaitingDecodes})
`;

const SIZE_UNITS: Record<string, number> = { '': 1, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30 };

export function parseRuntimeArgs(argv: readonly string[], env: NodeJS.ProcessEnv): RuntimeArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        config: { type: 'string' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        'api-keys-file': { type: 'string' },
        'protect-metrics': { type: 'boolean' },
        'cors-origins': { type: 'string' },
        'model-cache': { type: 'string' },
        workers: { type: 'string' },
        'max-body-bytes': { type: 'string' },
        'request-timeout-ms': { type: 'string' },
        'shutdown-timeout-ms': { type: 'string' },
        'secret-reload-ms': { type: 'string' },
        'headers-timeout-ms': { type: 'string' },
        'body-timeout-ms': { type: 'string' },
        'keep-alive-timeout-ms': { type: 'string' },
        'max-connections': { type: 'string' },
        help: { type: 'boolean' },
        'memory-budget': { type: 'string' },
        'memory-budget-fraction': { type: 'string' },
        'max-rows-per-request': { type: 'string' },
        'max-decode-bytes': { type: 'string' },
        'max-concurrent-decodes': { type: 'string' },
        'max-waiting-decodes': { type: 'string' },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const text = (flag: string | undefined, variable: string): string | undefined => {
    const value = flag ?? env[variable];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  };
  const integer = (name: string, value: string | undefined, fallback: number, min: number): number => {
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`${name} must be an integer >= ${min}, got "${value}"`);
    return n;
  };

  const size = (name: string, value: string | undefined, fallback: number, min: number): number => {
    if (value === undefined) return fallback;
    const match = /^(\d+)(Ki|Mi|Gi)?$/.exec(value);
    const n = match ? Number(match[1]) * SIZE_UNITS[match[2] ?? ''] : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`${name} must be a size in bytes >= ${min} (a whole number, optionally with Ki, Mi or Gi), got "${value}"`);
    return n;
  };
  const fraction = (name: string, value: string | undefined, fallback: number): number => {
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!(n > 0 && n <= 1)) throw new UsageError(`${name} must be a number in (0, 1], got "${value}"`);
    return n;
  };

  const args: RuntimeArgs = {
    port: integer('--port', text(values.port, 'PORT'), 8080, 0),
    host: text(values.host, 'HOST'),
    poolConfig: text(values.config, 'MLOFFLOAD_POOL_CONFIG'),
    tlsCert: text(values['tls-cert'], 'MLOFFLOAD_TLS_CERT'),
    tlsKey: text(values['tls-key'], 'MLOFFLOAD_TLS_KEY'),
    apiKeysFile: text(values['api-keys-file'], 'MLOFFLOAD_API_KEYS_FILE'),
    apiKeys: text(undefined, 'MLOFFLOAD_API_KEYS'),
    protectMetrics: values['protect-metrics'] ?? ['1', 'true', 'yes'].includes((env.MLOFFLOAD_PROTECT_METRICS ?? '').toLowerCase()),
    corsOrigins: corsOrigins(text(values['cors-origins'], 'MLOFFLOAD_CORS_ORIGINS')),
    modelCache: text(values['model-cache'], 'MLOFFLOAD_MODEL_CACHE'),
    maxBodyBytes: integer('--max-body-bytes', text(values['max-body-bytes'], 'MLOFFLOAD_MAX_BODY_BYTES'), DEFAULT_HTTP_OPTIONS.maxBodyBytes, 1),
    requestTimeoutMs: integer(
      '--request-timeout-ms',
      text(values['request-timeout-ms'], 'MLOFFLOAD_REQUEST_TIMEOUT_MS'),
      DEFAULT_HTTP_OPTIONS.requestTimeoutMs,
      1,
    ),
    shutdownTimeoutMs: integer('--shutdown-timeout-ms', text(values['shutdown-timeout-ms'], 'MLOFFLOAD_SHUTDOWN_TIMEOUT_MS'), 10_000, 0),
    secretReloadMs: integer('--secret-reload-ms', text(values['secret-reload-ms'], 'MLOFFLOAD_SECRET_RELOAD_MS'), DEFAULT_SECRET_RELOAD_MS, 100),
    connectionLimits: {
      headersTimeoutMs: integer('--headers-timeout-ms', text(values['headers-timeout-ms'], 'MLOFFLOAD_HEADERS_TIMEOUT_MS'), DEFAULT_CONNECTION_LIMITS.headersTimeoutMs, 1),
      bodyTimeoutMs: integer('--body-timeout-ms', text(values['body-timeout-ms'], 'MLOFFLOAD_BODY_TIMEOUT_MS'), DEFAULT_CONNECTION_LIMITS.bodyTimeoutMs, 1),
      keepAliveTimeoutMs: integer(
        '--keep-alive-timeout-ms',
        text(values['keep-alive-timeout-ms'], 'MLOFFLOAD_KEEP_ALIVE_TIMEOUT_MS'),
        DEFAULT_CONNECTION_LIMITS.keepAliveTimeoutMs,
        1,
      ),
      maxConnections: integer('--max-connections', text(values['max-connections'], 'MLOFFLOAD_MAX_CONNECTIONS'), DEFAULT_CONNECTION_LIMITS.maxConnections, 1),
    },
    help: values.help ?? false,
    memoryBudgetFraction: fraction('--memory-budget-fraction', text(values['memory-budget-fraction'], 'MLOFFLOAD_MEMORY_BUDGET_FRACTION'), DEFAULT_MEMORY_BUDGET_FRACTION),
    maxRowsPerRequest: integer('--max-rows-per-request', text(values['max-rows-per-request'], 'MLOFFLOAD_MAX_ROWS_PER_REQUEST'), DEFAULT_HTTP_OPTIONS.maxRowsPerRequest, 1),
    maxDecodeBytes: size('--max-decode-bytes', text(values['max-decode-bytes'], 'MLOFFLOAD_MAX_DECODE_BYTES'), defaultVisionLimits.maxDecodeBytes, 1),
    maxConcurrentDecodes: integer('--max-concurrent-decodes', text(values['max-concurrent-decodes'], 'MLOFFLOAD_MAX_CONCURRENT_DECODES'), defaultVisionLimits.maxConcurrentDecodes, 1),
    maxWaitingDecodes: integer('--max-waiting-decodes', text(values['max-waiting-decodes'], 'MLOFFLOAD_MAX_WAITING_DECODES'), defaultVisionLimits.maxWaitingDecodes, 0),
  };
  try {
    checkConnectionLimits(args.connectionLimits);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const budget = text(values['memory-budget'], 'MLOFFLOAD_MEMORY_BUDGET');
  if (budget !== undefined) args.memoryBudgetBytes = size('--memory-budget', budget, 0, 0);
  const workers = text(values.workers, 'MLOFFLOAD_WORKERS');
  if (workers !== undefined) args.workers = integer('--workers', workers, 1, 0);
  if (args.port > 65535) throw new UsageError(`--port must be at most 65535, got ${args.port}`);
  if ((args.tlsCert === undefined) !== (args.tlsKey === undefined)) {
    throw new UsageError('--tls-cert and --tls-key go together: give both for HTTPS, or neither');
  }
  return args;
}

function corsOrigins(value: string | undefined): string[] {
  if (value === undefined) return [...DEFAULT_HTTP_OPTIONS.corsOrigins];
  if (value === 'none') return [];
  const origins = value.split(',').map((o) => o.trim()).filter(Boolean);
  for (const origin of origins) {
    if (origin !== '*' && !/^https?:\/\/[^/\s]+$/.test(origin)) throw new UsageError(`--cors-origins takes origins like https://app.example.com, * or none; got "${origin}"`);
  }
  return origins;
}
