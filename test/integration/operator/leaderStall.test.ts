// Leader election when the API server stops answering the leader (a stalled server or a partition):
// the leader must stop leading, and stop writing, within its renew deadline, which is before a standby may
// take the Lease (leaseDuration after the last renewal it saw). The leader reaches the API server through
// a loopback proxy the test stalls; the standby talks to it directly.
import { expect } from 'chai';
import { controlPlaneStartTimeout, freshNamespace, useControlPlane } from '../../helpers/controlPlane.js';
import { consistently, eventually } from '../../helpers/eventually.js';
import { StallableProxy } from '../../helpers/stallableProxy.js';
import type { MLService } from '../../../operator/api/types.js';
import { type ClusterConnection, connectionFromKubeConfig } from '../../../operator/kube/connection.js';
import { DEPLOYMENTS, LEASES, MLMODELS, MLSERVICES, objectPath } from '../../../operator/kube/resources.js';
import { KubeClient, RequestAbortedError } from '../../../operator/kube/restClient.js';
import { silentLogger } from '../../../operator/logger.js';
import { type OperatorHandle, startOperator } from '../../../operator/operator.js';
import { create, emotionModel, installCrds, metricValue, mlService, mustRead, patch, read } from './support.js';

const LEASE_MS = 6_000;
const RENEW_DEADLINE_MS = 4_000;
const RETRY_MS = 500;
/** Timer latency on a loaded two-core machine. */
const SLACK_MS = 750;

interface Lease {
  metadata: { name: string };
  spec: { holderIdentity?: string; acquireTime?: string };
}

/** A connection of its own (own agent, own sockets) that reaches the API server through `proxy`. */
async function connectionVia(proxy: StallableProxy): Promise<ClusterConnection> {
  const conn = await connectionFromKubeConfig((await useControlPlane()).kubeConfig);
  const url = new URL(conn.server);
  return { server: `${url.protocol}//${url.hostname}:${proxy.port}`, agent: conn.agent, headers: () => conn.headers(), close: () => conn.close() };
}

/** Records when `op` starts and stops leading, polling often enough to time it within a few tens of ms. */
function watchLeadership(op: OperatorHandle): { startedAt?: number; stoppedAt?: number; stop(): void } {
  const record: { startedAt?: number; stoppedAt?: number; stop(): void } = { stop: () => clearInterval(timer) };
  let was = op.isLeader();
  const timer = setInterval(() => {
    const now = op.isLeader();
    if (now && !was) record.startedAt = Date.now();
    if (!now && was) record.stoppedAt = Date.now();
    was = now;
  }, 10);
  return record;
}

describe('operator: leader election with a stalled API server', function () {
  this.timeout(180_000);
  const cleanups: (() => Promise<void> | void)[] = [];
  let serverUrl: URL;

  before(async function () {
    this.timeout(controlPlaneStartTimeout);
    serverUrl = new URL((await connectionFromKubeConfig((await useControlPlane()).kubeConfig)).server);
    await installCrds();
  });

  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function proxy(): Promise<StallableProxy> {
    const p = await StallableProxy.start({ host: serverUrl.hostname, port: Number(serverUrl.port) });
    cleanups.push(() => p.close());
    return p;
  }

  async function operator(ns: string, identity: string, conn: ClusterConnection): Promise<OperatorHandle> {
    const op = await startOperator(conn, {
      namespace: ns,
      metricsPort: null,
      logger: silentLogger,
      runtimeImage: 'mloffload/inference-runtime:test',
      leaderElection: { namespace: ns, identity, leaseDurationMs: LEASE_MS, renewDeadlineMs: RENEW_DEADLINE_MS, retryPeriodMs: RETRY_MS },
    });
    cleanups.push(async () => {
      await op.stop();
      conn.close();
    });
    return op;
  }

  it('cancels a request in flight when its signal aborts, and sends nothing once aborted', async () => {
    const p = await proxy();
    const conn = await connectionVia(p);
    cleanups.push(() => conn.close());
    const term = new AbortController();
    const client = new KubeClient(conn).withSignal(term.signal);
    expect(await client.get(objectPath(LEASES, 'default', 'no-such-lease'))).to.equal(undefined); // the path works

    p.stall();
    const inFlight = client.get(objectPath(LEASES, 'default', 'no-such-lease'));
    inFlight.catch(() => undefined);
    await eventually(() => expect(p.droppedFromClient).to.be.greaterThan(0), { timeout: 5_000, interval: 20 });
    const abortedAt = Date.now();
    term.abort(new Error('stopped leading'));
    const err = await inFlight.then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(RequestAbortedError);
    expect((err as Error).message).to.contain('stopped leading');
    expect(Date.now() - abortedAt).to.be.lessThan(500);

    p.resume();
    const dropped = p.droppedFromClient;
    const refused = await client.get(objectPath(LEASES, 'default', 'no-such-lease')).then(() => undefined, (e: unknown) => e);
    expect(refused).to.be.instanceOf(RequestAbortedError);
    expect(p.droppedFromClient).to.equal(dropped);
  });

  it('a leader cut off from the API server stops leading and writing within the renew deadline, before the standby takes over', async () => {
    const ns = await freshNamespace('le-stall');
    const p = await proxy();
    const alpha = await operator(ns, 'alpha', await connectionVia(p));
    await eventually(() => expect(alpha.isLeader()).to.equal(true), { timeout: 20_000, interval: 50 });
    const beta = await operator(ns, 'beta', await connectionFromKubeConfig((await useControlPlane()).kubeConfig));
    const alphaTerm = watchLeadership(alpha);
    const betaTerm = watchLeadership(beta);
    cleanups.push(() => {
      alphaTerm.stop();
      betaTerm.stop();
    });

    await create(MLMODELS, emotionModel(ns));
    await create(MLSERVICES, mlService(ns, 'faces', { replicas: 2 }));
    await eventually(async () => expect((await mustRead<{ spec: { replicas: number } }>(DEPLOYMENTS, ns, 'faces')).spec.replicas).to.equal(2), { timeout: 30_000, interval: 200 });
    expect(beta.isLeader()).to.equal(false);

    p.stall();
    const stalledAt = Date.now();
    await eventually(() => expect(alphaTerm.stoppedAt).to.be.a('number'), { timeout: LEASE_MS + 30_000, interval: 50, message: 'the cut-off leader still leads' });
    const writesWhenDeposed = await metricValue(alpha, 'apply_writes_total');
    // The last renewal began before the stall, so the deadline ends at most renewDeadline after it.
    expect(alphaTerm.stoppedAt! - stalledAt).to.be.at.most(RENEW_DEADLINE_MS + SLACK_MS);

    // Waits on the watcher's record, not on isLeader(): on a loaded machine the check may run before the
    // watcher's next tick has seen the new term.
    await eventually(() => expect(betaTerm.startedAt).to.be.a('number'), { timeout: LEASE_MS + 10_000, interval: 50, message: 'the standby never took over' });
    expect(beta.isLeader()).to.equal(true);
    // No overlap, with the margin leaseDuration - renewDeadline leaves for requests still on the wire.
    expect(betaTerm.startedAt! - alphaTerm.stoppedAt!).to.be.greaterThan(0);
    const lease = await read<Lease>(LEASES, ns, 'mloffload-operator');
    expect(lease?.spec.holderIdentity).to.equal('beta');
    expect(Date.parse(lease!.spec.acquireTime!)).to.be.greaterThan(alphaTerm.stoppedAt!);

    // The new leader serves a change; the old one, back on the network, writes nothing and stays a standby.
    await patch(MLSERVICES, ns, 'faces', { spec: { replicas: 1 } });
    await eventually(async () => expect((await mustRead<{ spec: { replicas: number } }>(DEPLOYMENTS, ns, 'faces')).spec.replicas).to.equal(1), { timeout: 30_000, interval: 200 });
    p.resume();
    await consistently(
      async () => {
        expect(alpha.isLeader()).to.equal(false);
        expect(await metricValue(alpha, 'apply_writes_total')).to.equal(writesWhenDeposed);
        expect((await mustRead<{ spec: { replicas: number } }>(DEPLOYMENTS, ns, 'faces')).spec.replicas).to.equal(1);
        expect((await mustRead<MLService>(MLSERVICES, ns, 'faces')).spec.replicas).to.equal(1);
      },
      { duration: 4_000, interval: 200 },
    );
    expect(await metricValue(beta, 'apply_writes_total')).to.be.greaterThan(0);
  });
});
