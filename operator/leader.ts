/**
 * Leader election on a coordination.k8s.io/v1 Lease, the client-go way: the holder renews the
 * lease every retry period; another replica takes it over only after it saw the lease record
 * unchanged for a whole lease duration (by its own clock, so clock skew between replicas does
 * not matter). A leader that cannot renew within the renew deadline steps down.
 *
 * Requests go through CustomObjectsApi (a plain JSON body) so that renewTime keeps the
 * microsecond RFC 3339 form the API server's MicroTime requires.
 */
import { ApiException, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { describeError } from './errors.js';
import { sleep, systemClock, type Clock } from './clock.js';

/** The Lease requests the election makes (CustomObjectsApi's; a test may hand in its own). */
export type LeaseApi = Pick<
  CustomObjectsApi,
  'getNamespacedCustomObject' | 'createNamespacedCustomObject' | 'replaceNamespacedCustomObject'
>;

export interface LeaderElectionOptions {
  kubeConfig: KubeConfig;
  /** Where the Lease is read and written; a client of kubeConfig when absent. */
  leases?: LeaseApi;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  log: (message: string) => void;
  /** What the lease's periods and times are read by; the system's when absent. */
  clock?: Clock;
}

interface Lease {
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

function microTime(date: Date): string {
  return date.toISOString().replace(/Z$/, '000Z');
}

export class LeaderElector {
  private readonly api: LeaseApi;
  private stopped = false;
  /** A call, not a field read: stop() sets the flag while a loop awaits, which flow analysis cannot see. */
  private isStopped(): boolean {
    return this.stopped;
  }
  private leading = false;
  private observed: { record: string; at: number } | undefined;
  private readonly clock: Clock;

  constructor(private readonly o: LeaderElectionOptions) {
    this.api = o.leases ?? o.kubeConfig.makeApiClient(CustomObjectsApi);
    this.clock = o.clock ?? systemClock;
  }

  /** Waits one retry period (a standby or a renewing leader alone does not keep the process alive). */
  private async nextPeriod(): Promise<void> {
    await sleep(this.clock, this.o.retryPeriodMs, false).done;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /**
   * Campaigns until elected, calls onStarted, renews until stop() or a lost lease; then calls
   * onStopped (not after stop()). Resolves when it ends.
   */
  async run(onStarted: () => void, onStopped: () => void): Promise<void> {
    while (!this.isStopped() && !(await this.tryAcquireOrRenew())) await this.nextPeriod();
    if (this.isStopped()) return;
    this.leading = true;
    this.o.log(`${this.o.identity} became leader on lease ${this.o.namespace}/${this.o.name}`);
    onStarted();
    let lastRenew = this.clock.now();
    while (!this.isStopped()) {
      await this.nextPeriod();
      if (this.isStopped()) break;
      if (await this.tryAcquireOrRenew()) lastRenew = this.clock.now();
      else if (this.clock.now() - lastRenew > this.o.renewDeadlineMs) {
        this.leading = false;
        this.o.log(`${this.o.identity} lost lease ${this.o.namespace}/${this.o.name}`);
        onStopped();
        return;
      }
    }
  }

  /** Stops campaigning; a leader gives the lease up so that a standby takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (!this.leading) return;
    this.leading = false;
    try {
      const lease = await this.read();
      if (lease?.spec.holderIdentity === this.o.identity) {
        await this.api.replaceNamespacedCustomObject({
          ...this.ref(),
          body: {
            ...lease,
            spec: {
              ...lease.spec,
              holderIdentity: '',
              leaseDurationSeconds: 1,
              renewTime: microTime(new Date(this.clock.now())),
            },
          },
        });
      }
    } catch (err) {
      this.o.log(`releasing the lease failed: ${describeError(err)}`);
    }
  }

  private ref(): { group: string; version: string; namespace: string; plural: string; name: string } {
    return {
      group: 'coordination.k8s.io',
      version: 'v1',
      namespace: this.o.namespace,
      plural: 'leases',
      name: this.o.name,
    };
  }

  private async read(): Promise<Lease | undefined> {
    try {
      return (await this.api.getNamespacedCustomObject(this.ref())) as Lease;
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) return undefined;
      throw err;
    }
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = new Date(this.clock.now());
    const spec = {
      holderIdentity: this.o.identity,
      leaseDurationSeconds: Math.ceil(this.o.leaseDurationMs / 1000),
      renewTime: microTime(now),
    };
    try {
      const lease = await this.read();
      if (lease === undefined) {
        await this.api.createNamespacedCustomObject({
          group: 'coordination.k8s.io',
          version: 'v1',
          namespace: this.o.namespace,
          plural: 'leases',
          body: {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name: this.o.name, namespace: this.o.namespace },
            spec: { ...spec, acquireTime: spec.renewTime, leaseTransitions: 0 },
          },
        });
        return true;
      }
      const holder = lease.spec.holderIdentity ?? '';
      const record = `${holder}|${lease.spec.renewTime ?? ''}`;
      if (this.observed?.record !== record) this.observed = { record, at: this.clock.now() };
      const ours = holder === this.o.identity;
      const durationMs = (lease.spec.leaseDurationSeconds ?? 0) * 1000;
      if (!ours && holder !== '' && this.clock.now() - this.observed.at < durationMs) return false;
      await this.api.replaceNamespacedCustomObject({
        ...this.ref(),
        body: {
          ...lease,
          spec: ours
            ? { ...lease.spec, ...spec }
            : { ...spec, acquireTime: spec.renewTime, leaseTransitions: (lease.spec.leaseTransitions ?? 0) + 1 },
        },
      });
      return true;
    } catch (err) {
      // 409: another replica wrote the lease first; anything else: try again next period.
      if (!(err instanceof ApiException && err.code === 409))
        this.o.log(`lease ${this.o.namespace}/${this.o.name}: ${describeError(err)}`);
      return false;
    }
  }
}
