// The informer's recovery logic against a scripted list/watch endpoint (protocol edge cases a real API
// server produces only by chance: 410 Gone in the stream, 500s, streams that end).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import type { KubeObject } from '../../../operator/api/types.js';
import type { ClusterConnection } from '../../../operator/kube/connection.js';
import { Informer } from '../../../operator/kube/informer.js';
import { KubeClient } from '../../../operator/kube/restClient.js';
import { MLMODELS } from '../../../operator/kube/resources.js';
import { silentLogger } from '../../../operator/logger.js';
import { eventually } from '../../helpers/eventually.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => void;

const obj = (name: string, rv: string): KubeObject => ({ metadata: { name, namespace: 'ns', resourceVersion: rv } });

describe('operator informer', () => {
  let server: http.Server;
  let handler: Handler;
  let client: KubeClient;
  let agent: http.Agent;
  const requests: URL[] = [];
  let informer: Informer<KubeObject> | undefined;

  beforeEach(async () => {
    requests.length = 0;
    server = http.createServer((req, res) => {
      const url = new URL(req.url!, 'http://x');
      requests.push(url);
      handler(req, res, url);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    agent = new http.Agent({ keepAlive: true });
    const conn: ClusterConnection = { server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, agent, headers: async () => ({}), close: () => agent.destroy() };
    client = new KubeClient(conn);
  });

  afterEach(async () => {
    await informer?.stop();
    informer = undefined;
    agent.destroy();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const list = (res: http.ServerResponse, rv: string, items: KubeObject[]) => res.end(JSON.stringify({ metadata: { resourceVersion: rv }, items }));
  const event = (res: http.ServerResponse, type: string, o: unknown) => res.write(JSON.stringify({ type, object: o }) + '\n');

  it('is synced after the first list, passes resourceVersion through as an opaque string, and applies watch events', async () => {
    handler = (_req, res, url) => {
      if (url.searchParams.get('watch') !== 'true') return list(res, 'rv-A7', [obj('a', 'x1')]);
      res.writeHead(200);
      event(res, 'ADDED', obj('b', 'x2'));
      event(res, 'MODIFIED', obj('a', 'x3'));
      event(res, 'DELETED', obj('b', 'x4'));
    };
    const seen: string[] = [];
    informer = new Informer(client, MLMODELS, { logger: silentLogger });
    informer.addHandlers({ onAdd: (o) => seen.push(`add ${o.metadata.name}`), onUpdate: (o) => seen.push(`update ${o.metadata.name}`), onDelete: (o) => seen.push(`delete ${o.metadata.name}`) });
    expect(informer.hasSynced()).to.equal(false);
    informer.start();
    await informer.waitForSync();
    await eventually(() => expect(seen).to.deep.equal(['add a', 'add b', 'update a', 'delete b']));
    expect(requests.find((u) => u.searchParams.get('watch') === 'true')!.searchParams.get('resourceVersion')).to.equal('rv-A7');
    expect(informer.get('ns', 'a')?.metadata.resourceVersion).to.equal('x3');
    expect(informer.list().map((o) => o.metadata.name)).to.deep.equal(['a']);
  });

  it('relists after 410 Gone in the watch stream, dropping objects deleted meanwhile', async () => {
    let lists = 0;
    handler = (_req, res, url) => {
      if (url.searchParams.get('watch') !== 'true') {
        lists++;
        return lists === 1 ? list(res, '10', [obj('a', '1'), obj('b', '2')]) : list(res, '20', [obj('a', '1')]);
      }
      res.writeHead(200);
      if (lists === 1) {
        event(res, 'ERROR', { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' });
        res.end();
      }
    };
    const deleted: string[] = [];
    informer = new Informer(client, MLMODELS, { logger: silentLogger, minBackoffMs: 5 });
    informer.addHandlers({ onDelete: (o) => deleted.push(o.metadata.name) });
    informer.start();
    await eventually(() => expect(lists).to.equal(2));
    await eventually(() => expect(deleted).to.deep.equal(['b']));
    expect(informer.list().map((o) => o.metadata.name)).to.deep.equal(['a']);
  });

  it('keeps retrying with backoff through server errors and recovers, never giving up', async () => {
    let failing = true;
    handler = (_req, res, url) => {
      if (failing) {
        res.writeHead(500).end(JSON.stringify({ kind: 'Status', code: 500, reason: 'InternalError', message: 'etcd unavailable' }));
        return;
      }
      if (url.searchParams.get('watch') !== 'true') return list(res, '5', [obj('a', '1')]);
      res.writeHead(200);
    };
    informer = new Informer(client, MLMODELS, { logger: silentLogger, minBackoffMs: 10, maxBackoffMs: 50 });
    informer.start();
    await eventually(() => expect(informer!.failures).to.be.at.least(3));
    expect(informer.hasSynced()).to.equal(false);
    failing = false;
    await informer.waitForSync();
    expect(informer.get('ns', 'a')).to.not.equal(undefined);
    await eventually(() => expect(informer!.failures).to.equal(0));
  });

  it('re-watches from the last resourceVersion when a stream ends', async () => {
    let watches = 0;
    handler = (_req, res, url) => {
      if (url.searchParams.get('watch') !== 'true') return list(res, '1', []);
      watches++;
      res.writeHead(200);
      event(res, 'ADDED', obj(`o${watches}`, `v${watches}`));
      // The stream stays open a little, as a watch the server times out does.
      setTimeout(() => res.end(), 1_100);
    };
    informer = new Informer(client, MLMODELS, { logger: silentLogger });
    informer.start();
    await eventually(() => expect(watches).to.be.at.least(2), { timeout: 5_000 });
    const watchRvs = requests.filter((u) => u.searchParams.get('watch') === 'true').map((u) => u.searchParams.get('resourceVersion'));
    expect(watchRvs.slice(0, 2)).to.deep.equal(['1', 'v1']);
    expect(requests.filter((u) => u.searchParams.get('watch') !== 'true')).to.have.length(1);
  });
});
