import { parseArgs } from 'node:util';
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
  help: boolean;
}

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
  --help                     this text
`;

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
        help: { type: 'boolean' },
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
    help: values.help ?? false,
  };
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
