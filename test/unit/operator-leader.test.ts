/**
 * Leader election (operator/leader.ts) in fake time: two replicas share one Lease held in
 * memory with the API server's optimistic concurrency (a replace on a stale resourceVersion is
 * a 409). The leader is cut off from the Lease; it steps down after the renew deadline, and the
 * standby takes over only once the Lease has stood unchanged for a whole lease duration by its
 * own clock. The real API server's version of this is test/integration/operator-leader.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiException, KubeConfig } from '@kubernetes/client-node';
import { LeaderElector, type LeaseApi } from '../../operator/leader.js';
import { FakeClock } from './operator-fake-clock.js';

interface StoredLease {
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: { holderIdentity?: string; leaseTransitions?: number };
}

/** One Lease as the API server keeps it, reached by each replica unless it is cut off. */
class LeaseStore {
  lease: StoredLease | undefined;
  readonly cutOff = new Set<string>();
  private version = 0;

  api(identity: string): LeaseApi {
    const reach = (): void => {
      if (this.cutOff.has(identity)) throw new Error('connect ECONNREFUSED');
    };
    const store = (body: StoredLease): StoredLease => {
      this.lease = structuredClone({
        ...body,
        metadata: { ...body.metadata, resourceVersion: String(++this.version) },
      });
      return structuredClone(this.lease);
    };
    const conflict = (): ApiException<unknown> =>
      new ApiException(409, 'Conflict', { message: 'the object has been modified' }, {});
    const api = {
      // eslint-disable-next-line @typescript-eslint/require-await -- async so that its throw is a rejection, as from the real API server
      getNamespacedCustomObject: async () => {
        reach();
        if (this.lease === undefined) throw new ApiException(404, 'Not Found', { message: 'not found' }, {});
        return structuredClone(this.lease);
      },
      // eslint-disable-next-line @typescript-eslint/require-await -- async so that its throw is a rejection, as from the real API server
      createNamespacedCustomObject: async ({ body }: { body: StoredLease }) => {
        reach();
        if (this.lease !== undefined) throw conflict();
        return store(body);
      },
      // eslint-disable-next-line @typescript-eslint/require-await -- async so that its throw is a rejection, as from the real API server
      replaceNamespacedCustomObject: async ({ body }: { body: StoredLease }) => {
        reach();
        if (body.metadata.resourceVersion !== this.lease?.metadata.resourceVersion) throw conflict();
        return store(body);
      },
    };
    return api;
  }
}

function replica(identity: string, store: LeaseStore, clock: FakeClock, log: string[]) {
  const kubeConfig = new KubeConfig();
  const elector = new LeaderElector({
    kubeConfig,
    leases: store.api(identity),
    clock,
    namespace: 'ns',
    name: 'streamqc-operator',
    identity,
    leaseDurationMs: 15_000,
    renewDeadlineMs: 10_000,
    retryPeriodMs: 2_000,
    log: (m) => log.push(m),
  });
  const times: { started?: number; stopped?: number } = {};
  const running = elector.run(
    () => {
      times.started = clock.now();
    },
    () => {
      times.stopped = clock.now();
    },
  );
  return { elector, times, running };
}

test('a leader cut off from its Lease steps down after the renew deadline; the standby takes over a lease duration after the last renewal', async () => {
  const clock = new FakeClock();
  const store = new LeaseStore();
  const log: string[] = [];
  const a = replica('a', store, clock, log);
  await clock.advance(0);
  const b = replica('b', store, clock, log);
  await clock.advance(6_000);
  assert.equal(a.times.started, 0);
  assert.equal(b.times.started, undefined, 'the standby waits while the leader renews');
  assert.equal(a.elector.isLeader, true);

  store.cutOff.add('a');
  await clock.advance(30_000);
  // Renewed last at 6 s: still within the 10 s deadline at 16 s, past it at the next try (18 s).
  assert.equal(a.times.stopped, 18_000);
  assert.equal(a.elector.isLeader, false);
  // Asserted undefined above, set by the elector since: the compiler's narrowing cannot see that.
  const takeover = b.times.started as number | undefined;
  assert.ok(
    takeover !== undefined && takeover >= 6_000 + 15_000 && takeover <= 6_000 + 15_000 + 2 * 2_000,
    `took over at ${takeover} ms`,
  );
  assert.ok(takeover > a.times.stopped, 'never two leaders at once');
  assert.equal(store.lease?.spec.holderIdentity, 'b');
  assert.equal(store.lease.spec.leaseTransitions, 1);
  assert.ok(log.some((m) => m.includes('a lost lease ns/streamqc-operator')));

  await b.elector.stop();
  await clock.advance(2_000);
  await Promise.all([a.running, b.running]);
  assert.equal(store.lease.spec.holderIdentity, '', 'a leader that stops gives the lease up');
});
