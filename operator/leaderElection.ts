/**
 * Leader election on a coordination.k8s.io/v1 Lease, following client-go's algorithm: a candidate takes the
 * Lease when its holder has not renewed it for leaseDuration as measured on the candidate's own clock (no
 * clock-skew assumptions), the leader renews every retryPeriod and steps down when it could not renew
 * for renewDeadline. Every write carries the resourceVersion read, so two candidates cannot both win.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { Logger } from './logger.js';
import { type KubeClient, isConflict, isNotFound } from './kube/restClient.js';
import { LEASES, collectionPath, objectPath } from './kube/resources.js';
import { abortableSleep, jittered } from './kube/timing.js';

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  logger: Logger;
  onStartedLeading(): void;
  onStoppedLeading(): void;
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string };
  spec?: LeaseSpec;
}

/** Lease times are MicroTime: RFC 3339 with exactly six fractional digits. */
export function microTime(d = new Date()): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export function defaultIdentity(): string {
  return `${process.env.POD_NAME ?? os.hostname()}_${randomBytes(4).toString('hex')}`;
}

export class LeaderElector {
  readonly identity: string;
  private leading = false;
  /** When the last successful renewal started: the server cannot have recorded it earlier. */
  private lastRenew = 0;
  private observed?: { record: string; at: number };
  private lease?: Lease;
  private readonly abort = new AbortController();
  private loop?: Promise<void>;
  /** Cancels the attempt in flight when the renew deadline passes. */
  private attempt?: AbortController;
  private watchdog?: NodeJS.Timeout;
  private readonly leaseMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryMs: number;

  constructor(
    private readonly client: KubeClient,
    private readonly opts: LeaderElectionOptions,
  ) {
    this.identity = opts.identity ?? defaultIdentity();
    this.leaseMs = opts.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? Math.round(this.leaseMs * (2 / 3));
    this.retryMs = opts.retryPeriodMs ?? Math.max(200, Math.round(this.leaseMs / 7.5));
    if (this.renewDeadlineMs >= this.leaseMs) throw new Error('renewDeadline must be shorter than leaseDuration');
    if (this.retryMs >= this.renewDeadlineMs) throw new Error('retryPeriod must be shorter than renewDeadline');
  }

  isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Stops campaigning; a leader steps down and releases the Lease so a standby takes over at once. */
  async stop(): Promise<void> {
    this.abort.abort(new Error('leader election stopped'));
    await this.loop;
    this.disarm();
    if (this.leading) {
      this.setLeading(false);
      await this.release();
    }
  }

  private setLeading(v: boolean): void {
    if (v === this.leading) return;
    this.leading = v;
    this.opts.logger.info(v ? 'became leader' : 'stopped leading', { lease: `${this.opts.namespace}/${this.opts.name}`, identity: this.identity });
    if (v) this.opts.onStartedLeading();
    else this.opts.onStoppedLeading();
  }

  private disarm(): void {
    if (this.watchdog) clearTimeout(this.watchdog);
    this.watchdog = undefined;
  }

  /**
   * A standby takes the Lease leaseDuration after it last saw a renewal; the leader gives up renewDeadline
   * after the start of its last successful renewal, which no standby can have seen earlier. So the leader
   * stops before anyone else may start, whatever the API server or the network does to the renewal in
   * flight: the timer does not wait for it, and the attempt is cancelled at the same moment.
   */
  private armWatchdog(): void {
    this.disarm();
    const due = this.lastRenew + this.renewDeadlineMs - Date.now();
    this.watchdog = setTimeout(() => {
      this.watchdog = undefined;
      if (!this.leading || Date.now() - this.lastRenew < this.renewDeadlineMs) return;
      this.opts.logger.warn('could not renew the lease within the renew deadline', { renewDeadlineMs: this.renewDeadlineMs });
      this.attempt?.abort(new Error(`lease not renewed within ${this.renewDeadlineMs} ms`));
      this.setLeading(false);
    }, Math.max(0, due));
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      const started = Date.now();
      // A leader's attempt may last until its renew deadline; a candidate's as long as a leader's could.
      const budget = this.leading ? this.lastRenew + this.renewDeadlineMs - started : this.renewDeadlineMs;
      // One controller per attempt, aborted by stop(), the watchdog or the budget; linked by hand rather than
      // with AbortSignal.any so the long-lived stop signal collects no dependents.
      const attempt = new AbortController();
      this.attempt = attempt;
      const onStop = () => attempt.abort(signal.reason);
      signal.addEventListener('abort', onStop, { once: true });
      const timer = setTimeout(() => attempt.abort(new Error(`no answer within ${budget} ms`)), Math.max(1, budget));
      let ok = false;
      try {
        ok = budget > 0 && (await this.tryAcquireOrRenew(this.client.withSignal(attempt.signal)));
      } catch (err) {
        this.opts.logger.warn('lease update failed', { error: String(err) });
      } finally {
        clearTimeout(timer);
        signal.removeEventListener('abort', onStop);
        this.attempt = undefined;
      }
      if (signal.aborted) break;
      const now = Date.now();
      // A renewal that took the whole deadline came too late to trust: a standby may be about to take over.
      if (ok && now - started < this.renewDeadlineMs) {
        this.lastRenew = started;
        this.setLeading(true);
        this.armWatchdog();
      } else if (this.leading && now - this.lastRenew >= this.renewDeadlineMs) {
        this.disarm();
        this.setLeading(false);
      }
      await abortableSleep(this.leading ? this.retryMs : jittered(this.retryMs), signal);
    }
  }

  private leasePath(): string {
    return objectPath(LEASES, this.opts.namespace, this.opts.name);
  }

  private async tryAcquireOrRenew(client: KubeClient): Promise<boolean> {
    const now = new Date();
    const spec: LeaseSpec = {
      holderIdentity: this.identity,
      leaseDurationSeconds: Math.max(1, Math.ceil(this.leaseMs / 1000)),
      acquireTime: microTime(now),
      renewTime: microTime(now),
      leaseTransitions: 0,
    };
    let lease: Lease | undefined;
    try {
      lease = await client.get<Lease>(this.leasePath());
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    if (!lease) {
      try {
        this.lease = await client.create<Lease>(collectionPath(LEASES, this.opts.namespace), {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: this.opts.name, namespace: this.opts.namespace },
          spec,
        });
        return true;
      } catch (err) {
        if (isConflict(err) || (err as { statusCode?: number }).statusCode === 409) return false;
        throw err;
      }
    }
    const current = lease.spec ?? {};
    const record = JSON.stringify([current.holderIdentity, current.renewTime, current.leaseDurationSeconds, current.leaseTransitions]);
    if (!this.observed || this.observed.record !== record) this.observed = { record, at: now.getTime() };
    const holder = current.holderIdentity ?? '';
    const heldByOther = holder !== '' && holder !== this.identity;
    const durationMs = (current.leaseDurationSeconds ?? 0) * 1000;
    if (heldByOther && this.observed.at + durationMs > now.getTime()) return false;
    if (holder === this.identity) {
      spec.acquireTime = current.acquireTime ?? spec.acquireTime;
      spec.leaseTransitions = current.leaseTransitions ?? 0;
    } else {
      spec.leaseTransitions = (current.leaseTransitions ?? 0) + 1;
    }
    try {
      this.lease = await client.replace<Lease>(this.leasePath(), { ...lease, spec });
      this.observed = undefined;
      return true;
    } catch (err) {
      if (isConflict(err)) return false;
      throw err;
    }
  }

  private async release(): Promise<void> {
    const lease = this.lease;
    if (!lease || lease.spec?.holderIdentity !== this.identity) return;
    try {
      const fresh = await this.client.get<Lease>(this.leasePath());
      if (!fresh || fresh.spec?.holderIdentity !== this.identity) return;
      const now = microTime();
      await this.client.replace(this.leasePath(), {
        ...fresh,
        spec: { ...fresh.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: now, acquireTime: now },
      });
      this.opts.logger.info('released lease', { lease: `${this.opts.namespace}/${this.opts.name}` });
    } catch (err) {
      this.opts.logger.warn('could not release lease', { error: String(err) });
    }
  }
}
