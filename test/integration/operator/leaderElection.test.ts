// Two operator processes share a Lease: only the holder reconciles; killing it hands over within the lease
// duration; SIGTERM releases the Lease so the standby takes over at once.
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { expect } from 'chai';
import { controlPlaneStartTimeout, freshNamespace, useControlPlane } from '../../helpers/controlPlane.js';
import { eventually } from '../../helpers/eventually.js';
import type { KubeObject, MLService } from '../../../operator/api/types.js';
import { LEASES, MLMODELS, MLSERVICES } from '../../../operator/kube/resources.js';
import { condition, create, emotionModel, installCrds, mlService, mustRead, read, repoRoot } from './support.js';

interface Lease extends KubeObject {
  spec: { holderIdentity?: string; leaseTransitions?: number };
}

interface OperatorProcess {
  name: string;
  child: ChildProcess;
  port: Promise<number>;
  exit: Promise<number | null>;
  logs: string[];
}

const LEASE_SECONDS = 3;

function spawnOperator(name: string, kubeconfig: string, ns: string): OperatorProcess {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(repoRoot, 'operator/main.ts'), '--kubeconfig', kubeconfig, '--namespace', ns, '--leader-elect', '--lease-namespace', ns,
      '--lease-duration', `${LEASE_SECONDS}s`, '--renew-deadline', '2s', '--retry-period', '500ms', '--metrics-port', '0', '--metrics-host', '127.0.0.1',
      '--runtime-image', 'mloffload/inference-runtime:test'],
    { cwd: repoRoot, env: { ...process.env, POD_NAME: name }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const logs: string[] = [];
  const port = new Promise<number>((resolve, reject) => {
    let buffered = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        logs.push(line);
        try {
          const entry = JSON.parse(line) as { msg?: string; port?: number };
          if (entry.msg === 'operator started' && entry.port) resolve(entry.port);
        } catch {
          // not a log line of ours
        }
      }
    });
    child.once('exit', () => reject(new Error(`operator ${name} exited before listening: ${logs.slice(-5).join('\n')}`)));
  });
  port.catch(() => undefined);
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { name, child, port, exit, logs };
}

async function metric(op: OperatorProcess, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${await op.port}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(name) && !l.startsWith('#'))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

describe('operator: leader election between two processes', function () {
  this.timeout(180_000);
  const procs: OperatorProcess[] = [];
  let kubeconfig = '';

  before(async function () {
    this.timeout(controlPlaneStartTimeout);
    kubeconfig = (await useControlPlane()).kubeconfigPath;
    await installCrds();
  });

  afterEach(async () => {
    for (const p of procs.splice(0)) {
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
      await p.exit;
    }
  });

  async function leaderOf(ns: string): Promise<OperatorProcess> {
    return eventually(
      async () => {
        const lease = await read<Lease>(LEASES, ns, 'mloffload-operator');
        const holder = lease?.spec.holderIdentity ?? '';
        const p = procs.find((x) => holder.startsWith(`${x.name}_`) && x.child.exitCode === null && x.child.signalCode === null);
        if (!p) throw new Error(`no live process holds the lease (holder "${holder}")`);
        return p;
      },
      { timeout: 30_000, interval: 200 },
    );
  }

  async function becomesReady(ns: string, name: string, timeout: number): Promise<void> {
    await eventually(async () => expect(condition(await mustRead<MLService>(MLSERVICES, ns, name), 'Ready')?.status).to.equal('True'), { timeout, interval: 200 });
  }

  it('lets only the leader write, and hands over within the lease time when the leader is killed', async () => {
    const ns = await freshNamespace('le');
    procs.push(spawnOperator('alpha', kubeconfig, ns), spawnOperator('beta', kubeconfig, ns));
    await Promise.all(procs.map((p) => p.port));
    const leader = await leaderOf(ns);
    const standby = procs.find((p) => p !== leader)!;

    await create(MLMODELS, emotionModel(ns));
    await create(MLSERVICES, mlService(ns, 'first', { replicas: 1 }));
    await becomesReady(ns, 'first', 60_000);
    expect(await metric(leader, 'leader_election_is_leader')).to.equal(1);
    expect(await metric(leader, 'apply_writes_total')).to.be.greaterThan(0);
    expect(await metric(standby, 'leader_election_is_leader')).to.equal(0);
    expect(await metric(standby, 'apply_writes_total'), 'the standby wrote').to.equal(0);
    expect(await metric(standby, 'reconcile_total'), 'the standby reconciled').to.equal(0);

    leader.child.kill('SIGKILL');
    const killedAt = Date.now();
    await leader.exit;
    await create(MLSERVICES, mlService(ns, 'second', { replicas: 1 }));
    const next = await leaderOf(ns);
    expect(next).to.equal(standby);
    const handover = Date.now() - killedAt;
    // The standby waits one lease duration from the last renewal it saw, plus at most a retry period.
    expect(handover).to.be.lessThan((LEASE_SECONDS + 3) * 1000);
    await becomesReady(ns, 'second', 60_000);
    expect(await metric(standby, 'apply_writes_total')).to.be.greaterThan(0);
  });

  it('releases the Lease on SIGTERM so the standby takes over at once', async () => {
    const ns = await freshNamespace('le');
    procs.push(spawnOperator('gamma', kubeconfig, ns), spawnOperator('delta', kubeconfig, ns));
    await Promise.all(procs.map((p) => p.port));
    const leader = await leaderOf(ns);
    const standby = procs.find((p) => p !== leader)!;
    await create(MLMODELS, emotionModel(ns));

    leader.child.kill('SIGTERM');
    expect(await leader.exit, `exit code; logs: ${leader.logs.slice(-5).join('\n')}`).to.equal(0);
    expect(leader.logs.some((l) => l.includes('released lease'))).to.equal(true);
    const stoppedAt = Date.now();
    expect(await leaderOf(ns)).to.equal(standby);
    expect(Date.now() - stoppedAt).to.be.lessThan(LEASE_SECONDS * 1000);
    await create(MLSERVICES, mlService(ns, 'after-handover', { replicas: 1 }));
    await becomesReady(ns, 'after-handover', 60_000);
  });
});
