import { expect } from 'chai';
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

  it('reads the CORS origins: * by default, none, or a list of origins', () => {
    expect(parseRuntimeArgs([], {}).corsOrigins).to.deep.equal(['*']);
    expect(parseRuntimeArgs([], { MLOFFLOAD_CORS_ORIGINS: 'none' }).corsOrigins).to.deep.equal([]);
    expect(parseRuntimeArgs(['--cors-origins', 'https://a.example, http://b.example:8080'], {}).corsOrigins).to.deep.equal(['https://a.example', 'http://b.example:8080']);
    expect(() => parseRuntimeArgs(['--cors-origins', 'https://a.example/path'], {})).to.throw(UsageError, '--cors-origins');
  });
});
