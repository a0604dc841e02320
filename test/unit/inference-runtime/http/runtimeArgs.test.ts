import { expect } from 'chai';
import { DEFAULT_CONNECTION_LIMITS } from '../../../../inference-runtime/http/connectionLimits.js';
import { parseRuntimeArgs, UsageError } from '../../../../inference-runtime/http/runtimeArgs.js';

describe('runtime command line', () => {
  it('defaults to port 8080, the built-in pool and no TLS or keys', () => {
    const args = parseRuntimeArgs([], {});
    expect(args).to.include({ port: 8080, protectMetrics: false, requestTimeoutMs: 30_000, shutdownTimeoutMs: 10_000 });
    expect(args.poolConfig).to.equal(undefined);
    expect(args.tlsCert).to.equal(undefined);
    expect(args.apiKeys).to.equal(undefined);
  });

  it('reads the environment, and flags win over it', () => {
    const env = { PORT: '9000', HOST: '127.0.0.1', MLOFFLOAD_POOL_CONFIG: '/etc/pool.yaml', MLOFFLOAD_API_KEYS: 'a,b', MLOFFLOAD_WORKERS: '2' };
    expect(parseRuntimeArgs([], env)).to.include({ port: 9000, host: '127.0.0.1', poolConfig: '/etc/pool.yaml', apiKeys: 'a,b', workers: 2 });
    expect(parseRuntimeArgs(['--port', '7000', '--config', 'p.json', '--protect-metrics'], env)).to.include({
      port: 7000,
      poolConfig: 'p.json',
      protectMetrics: true,
    });
  });

  it('refuses bad values and unknown flags with a usage error', () => {
    expect(() => parseRuntimeArgs(['--port', 'http'], {})).to.throw(UsageError, '--port');
    expect(() => parseRuntimeArgs(['--port', '70000'], {})).to.throw(UsageError, '65535');
    expect(() => parseRuntimeArgs(['--tls-cert', 'c.pem'], {})).to.throw(UsageError, 'go together');
    expect(() => parseRuntimeArgs(['--bogus'], {})).to.throw(UsageError);
    expect(() => parseRuntimeArgs(['--workers', '-1'], {})).to.throw(UsageError, '--workers');
    expect(parseRuntimeArgs(['--workers', '0'], {}).workers).to.equal(0);
  });
  it('re-reads mounted secrets every 2 s unless told otherwise, and not more often than every 100 ms', () => {
    expect(parseRuntimeArgs([], {}).secretReloadMs).to.equal(2000);
    expect(parseRuntimeArgs([], { MLOFFLOAD_SECRET_RELOAD_MS: '500' }).secretReloadMs).to.equal(500);
    expect(parseRuntimeArgs(['--secret-reload-ms', '250'], { MLOFFLOAD_SECRET_RELOAD_MS: '500' }).secretReloadMs).to.equal(250);
    expect(() => parseRuntimeArgs(['--secret-reload-ms', '10'], {})).to.throw(UsageError, '--secret-reload-ms');
  });

  it('reads the CORS origins: * by default, none, or a list of origins', () => {
    expect(parseRuntimeArgs([], {}).corsOrigins).to.deep.equal(['*']);
    expect(parseRuntimeArgs([], { MLOFFLOAD_CORS_ORIGINS: 'none' }).corsOrigins).to.deep.equal([]);
    expect(parseRuntimeArgs(['--cors-origins', 'https://a.example, http://b.example:8080'], {}).corsOrigins).to.deep.equal(['https://a.example', 'http://b.example:8080']);
    expect(() => parseRuntimeArgs(['--cors-origins', 'https://a.example/path'], {})).to.throw(UsageError, '--cors-origins');
  });
});

describe('runtime command line: connection limits', () => {
  it('defaults to the documented limits, reads the environment, and flags win', () => {
    expect(parseRuntimeArgs([], {}).connectionLimits).to.deep.equal(DEFAULT_CONNECTION_LIMITS);
    const env = { MLOFFLOAD_HEADERS_TIMEOUT_MS: '2000', MLOFFLOAD_BODY_TIMEOUT_MS: '9000', MLOFFLOAD_KEEP_ALIVE_TIMEOUT_MS: '700', MLOFFLOAD_MAX_CONNECTIONS: '64' };
    expect(parseRuntimeArgs([], env).connectionLimits).to.deep.equal({ headersTimeoutMs: 2000, bodyTimeoutMs: 9000, keepAliveTimeoutMs: 700, maxConnections: 64 });
    expect(parseRuntimeArgs(['--max-connections', '8', '--headers-timeout-ms', '1000'], env).connectionLimits).to.include({ maxConnections: 8, headersTimeoutMs: 1000 });
  });

  it('refuses a zero or non-numeric limit, and a headers timeout longer than the body timeout', () => {
    expect(() => parseRuntimeArgs(['--max-connections', '0'], {})).to.throw(UsageError, '--max-connections');
    expect(() => parseRuntimeArgs(['--keep-alive-timeout-ms', 'soon'], {})).to.throw(UsageError, '--keep-alive-timeout-ms');
    expect(() => parseRuntimeArgs(['--headers-timeout-ms', '5000', '--body-timeout-ms', '1000'], {})).to.throw(UsageError, 'must not exceed the body timeout');
  });
});

describe('runtime command line: memory limits', () => {
  it('has defaults: the budget from the container limit, 64 rows, decode bytes of an 8-bit RGBA 40 MP image', () => {
    const args = parseRuntimeArgs([], {});
    expect(args.memoryBudgetBytes).to.equal(undefined);
    expect(args).to.include({ memoryBudgetFraction: 0.8, maxRowsPerRequest: 64, maxWaitingDecodes: 8 });
    expect(args.maxDecodeBytes).to.be.at.least(40_000_000 * 4);
    expect(args.maxConcurrentDecodes).to.be.at.least(1);
  });

  it('reads sizes with Ki/Mi/Gi from flags and the environment (flags win), and 0 turns the budget off', () => {
    const env = { MLOFFLOAD_MEMORY_BUDGET: '1536Mi', MLOFFLOAD_MAX_ROWS_PER_REQUEST: '16', MLOFFLOAD_MAX_DECODE_BYTES: '64Mi', MLOFFLOAD_MAX_CONCURRENT_DECODES: '3', MLOFFLOAD_MAX_WAITING_DECODES: '0', MLOFFLOAD_MEMORY_BUDGET_FRACTION: '0.5' };
    expect(parseRuntimeArgs([], env)).to.include({
      memoryBudgetBytes: 1536 * 2 ** 20,
      maxRowsPerRequest: 16,
      maxDecodeBytes: 64 * 2 ** 20,
      maxConcurrentDecodes: 3,
      maxWaitingDecodes: 0,
      memoryBudgetFraction: 0.5,
    });
    expect(parseRuntimeArgs(['--memory-budget', '2Gi', '--max-rows-per-request', '8'], env)).to.include({ memoryBudgetBytes: 2 * 2 ** 30, maxRowsPerRequest: 8 });
    expect(parseRuntimeArgs(['--memory-budget', '0'], env).memoryBudgetBytes).to.equal(0);
  });

  it('refuses malformed sizes, fractions and counts', () => {
    expect(() => parseRuntimeArgs(['--memory-budget', '1.5G'], {})).to.throw(UsageError, '--memory-budget');
    expect(() => parseRuntimeArgs(['--memory-budget-fraction', '2'], {})).to.throw(UsageError, '(0, 1]');
    expect(() => parseRuntimeArgs(['--max-rows-per-request', '0'], {})).to.throw(UsageError, '--max-rows-per-request');
    expect(() => parseRuntimeArgs(['--max-concurrent-decodes', '0'], {})).to.throw(UsageError, '--max-concurrent-decodes');
  });
});
