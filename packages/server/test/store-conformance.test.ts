import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import type { Profile } from '../src/profile/profile.js';
import { PULL_OUTCOMES, type PullOutcome } from '../src/pull/pull-outcome.js';
import { PostgresStore } from '../src/store/postgres/postgres-store.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import {
  ATTEMPTS_KEPT_PER_USER,
  NetworkExistsError,
  SETTLE_MAX_MS,
  type ClaimedPull,
  type ClaimOptions,
  type Network,
  type PullAttempt,
  type Store,
  type UserRecord,
} from '../src/store/store.js';
import { createTestDatabase, createTestSchema, postgresSkip, type TestDatabase } from './support/postgres.js';
import { makeTempDir } from './support/temp-dir.js';

/**
 * The store conformance suite: the behaviours every Store adapter must share,
 * tested through the Store port only. Each adapter opens a fresh, real store
 * per test; all times are passed in explicitly, so no test waits for a clock.
 */

type OpenStore = (options?: { coalesceMs?: number }) => Promise<{ store: Store; cleanup: () => Promise<void> }>;

const T0 = 1_700_000_000_000;
const LEASE_MS = 60_000;
const SUCCESS: readonly PullOutcome[] = ['ok', 'unchanged'];
const FAILURES: readonly PullOutcome[] = PULL_OUTCOMES.filter((outcome) => !SUCCESS.includes(outcome));

function profile(id: string, displayName: string): Profile {
  return { id, display_name: displayName };
}

function pullAttempt(outcome: PullOutcome, at: number, overrides: Partial<PullAttempt> = {}): PullAttempt {
  return {
    at,
    outcome,
    httpStatus: outcome === 'ok' || outcome === 'unchanged' ? 200 : null,
    durationMs: 12,
    message: null,
    warnings: [],
    responseExcerpt: null,
    ...overrides,
  };
}

function byUser(claims: readonly ClaimedPull[]): string[] {
  return claims.map((claim) => claim.userId).sort();
}

function userIds(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, index) => `${prefix}${String(index).padStart(3, '0')}`);
}

export function storeConformance(name: string, openStore: OpenStore, { skip = false }: { skip?: string | false } = {}): void {
  describe(`store conformance: ${name}`, { skip }, () => {
    let store: Store;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ store, cleanup } = await openStore());
    });
    afterEach(async () => {
      await cleanup();
    });

    /** A network with a pull URL, as the pull loop sees it. */
    async function pullableNetwork(networkName = 'acme', now = T0): Promise<Network> {
      const created = await store.createNetwork({ name: networkName, key: `key-${networkName}` }, now);
      await store.setPullUrlTemplate(created.id, `https://${networkName}.example.com/users/{id}?lftoken={token}`, now);
      const network = await store.getNetwork(networkName);
      assert.ok(network);
      return network;
    }

    function claim(now: number, options: Partial<ClaimOptions> = {}): Promise<ClaimedPull[]> {
      return store.claimDue({ now, limit: 100, perNetworkLimit: 100, leaseMs: LEASE_MS, ...options });
    }

    async function claimOnly(userId: string, now: number, options: Partial<ClaimOptions> = {}): Promise<ClaimedPull> {
      const claims = await claim(now, options);
      assert.deepEqual(byUser(claims), [userId], `expected exactly ${userId} to be claimed at ${now}`);
      return claims[0]!;
    }

    async function user(network: Network, userId: string): Promise<UserRecord> {
      const record = await store.getUser(network.id, userId);
      assert.ok(record, `user ${userId} should exist`);
      return record;
    }

    function complete(
      claimed: ClaimedPull,
      now: number,
      { outcome = 'ok', retryAt = null, gaveUp = false, newProfile = null, changed = [] as string[] }: {
        outcome?: PullOutcome;
        retryAt?: number | null;
        gaveUp?: boolean;
        newProfile?: Profile | null;
        changed?: string[];
      } = {},
    ): Promise<boolean> {
      return store.completePull(
        claimed,
        {
          attempt: pullAttempt(outcome, now),
          newVersion: newProfile === null ? null : { profile: newProfile, changed },
          retryAt,
          gaveUp,
        },
        now,
      );
    }

    describe('networks', () => {
      test('createNetwork round-trips name, key, owners and timestamps, with no pull URL yet', async () => {
        const created = await store.createNetwork({ name: 'acme', key: 'secret-1', owners: ['alice', 'bob'] }, T0);
        assert.equal(created.name, 'acme');
        assert.deepEqual(created.keys, ['secret-1']);
        assert.deepEqual(created.owners, ['alice', 'bob']);
        assert.equal(created.pullUrlTemplate, null);
        assert.equal(created.createdAt, T0);
        assert.equal(created.updatedAt, T0);
        assert.deepEqual(await store.getNetwork('acme'), created);
      });

      test('createNetwork without owners stores an empty owner list', async () => {
        const created = await store.createNetwork({ name: 'acme', key: 'secret-1' }, T0);
        assert.deepEqual(created.owners, []);
        assert.deepEqual((await store.getNetwork('acme'))?.owners, []);
      });

      test('createNetwork with a taken name rejects with NetworkExistsError and keeps the original', async () => {
        const original = await store.createNetwork({ name: 'acme', key: 'secret-1', owners: ['alice'] }, T0);
        await assert.rejects(
          store.createNetwork({ name: 'acme', key: 'secret-2', owners: ['mallory'] }, T0 + 1),
          (error: unknown) => error instanceof NetworkExistsError && error.name === 'NetworkExistsError',
        );
        assert.deepEqual(await store.getNetwork('acme'), original);
        assert.equal((await store.listNetworks()).length, 1);
      });

      test('a rejected duplicate does not undo other writes made at the same time', async () => {
        await store.createNetwork({ name: 'acme', key: 'secret-1' }, T0);
        const results = await Promise.allSettled([
          store.createNetwork({ name: 'beta', key: 'secret-b' }, T0 + 1),
          store.createNetwork({ name: 'acme', key: 'secret-2' }, T0 + 1),
          store.createNetwork({ name: 'gamma', key: 'secret-g' }, T0 + 1),
        ]);
        assert.equal(results[0]!.status, 'fulfilled');
        assert.equal(results[1]!.status, 'rejected');
        assert.ok(results[1]!.status === 'rejected' && results[1]!.reason instanceof NetworkExistsError);
        assert.equal(results[2]!.status, 'fulfilled');
        const names = (await store.listNetworks()).map((network) => network.name).sort();
        assert.deepEqual(names, ['acme', 'beta', 'gamma']);
      });

      test('networks get distinct ids and listNetworks returns them all', async () => {
        const a = await store.createNetwork({ name: 'acme', key: 'k1' }, T0);
        const b = await store.createNetwork({ name: 'beta', key: 'k2' }, T0);
        assert.notEqual(a.id, b.id);
        const listed = await store.listNetworks();
        assert.deepEqual(
          listed.map((network) => network.name).sort(),
          ['acme', 'beta'],
        );
        assert.deepEqual(listed.find((network) => network.name === 'beta'), b);
      });

      test('getNetwork returns null for an unknown name', async () => {
        assert.equal(await store.getNetwork('nope'), null);
      });

      test('setPullUrlTemplate round-trips the template and bumps updatedAt only', async () => {
        const created = await store.createNetwork({ name: 'acme', key: 'k1', owners: ['alice'] }, T0);
        const template = 'https://id.example.com/users/{id}?lftoken={token}';
        await store.setPullUrlTemplate(created.id, template, T0 + 5_000);
        const network = await store.getNetwork('acme');
        assert.deepEqual(network, { ...created, pullUrlTemplate: template, updatedAt: T0 + 5_000 });
      });

      test('rotateNetworkKey: the new key signs (first), the one before still verifies', async () => {
        const created = await store.createNetwork({ name: 'acme', key: 'key-1' }, T0);
        const other = await store.createNetwork({ name: 'beta', key: 'key-b' }, T0);
        assert.equal(await store.rotateNetworkKey(created.id, 'key-2', T0 + 1_000), true);
        assert.deepEqual(await store.getNetwork('acme'), { ...created, keys: ['key-2', 'key-1'], updatedAt: T0 + 1_000 });
        assert.deepEqual(await store.getNetwork('beta'), other, 'another network is untouched');
      });

      test('rotateNetworkKey during a rotation changes nothing: the key still in use is never dropped', async () => {
        const created = await store.createNetwork({ name: 'acme', key: 'key-1' }, T0);
        await store.rotateNetworkKey(created.id, 'key-2', T0 + 1_000);
        const [first, second] = await Promise.all([
          store.rotateNetworkKey(created.id, 'key-3', T0 + 2_000),
          store.rotateNetworkKey(created.id, 'key-4', T0 + 2_000),
        ]);
        assert.deepEqual([first, second], [false, false]);
        assert.deepEqual(await store.getNetwork('acme'), { ...created, keys: ['key-2', 'key-1'], updatedAt: T0 + 1_000 });
        await store.dropPreviousKey(created.id, T0 + 3_000);
        assert.equal(await store.rotateNetworkKey(created.id, 'key-3', T0 + 4_000), true, 'a new rotation once the last one ended');
        assert.deepEqual((await store.getNetwork('acme'))?.keys, ['key-3', 'key-2']);
      });

      test('dropPreviousKey ends the rotation, and says whether there was a previous key', async () => {
        const created = await store.createNetwork({ name: 'acme', key: 'key-1' }, T0);
        assert.equal(await store.dropPreviousKey(created.id, T0 + 500), false);
        assert.deepEqual(await store.getNetwork('acme'), created, 'nothing to drop changes nothing');
        await store.rotateNetworkKey(created.id, 'key-2', T0 + 1_000);
        assert.equal(await store.dropPreviousKey(created.id, T0 + 2_000), true);
        assert.deepEqual(await store.getNetwork('acme'), { ...created, keys: ['key-2'], updatedAt: T0 + 2_000 });
      });
    });

    describe('recordPings', () => {
      test('a ping for a new user makes it waiting, due now, with nothing pulled yet', async () => {
        const network = await pullableNetwork();
        await store.recordPings(network.id, ['ada'], T0 + 10);
        const ada = await user(network, 'ada');
        assert.deepEqual(ada, {
          userId: 'ada',
          profile: null,
          version: 0,
          updatedAt: null,
          sync: {
            state: 'waiting',
            dirty: false,
            dueAt: T0 + 10,
            attempts: 0,
            lastPingAt: T0 + 10,
            lastPullAt: null,
            lastOutcome: null,
            lastMessage: null,
          },
        });
      });

      test('a ping while waiting is coalesced, and moves the due time to that ping', async () => {
        const network = await pullableNetwork();
        await store.recordPings(network.id, ['ada'], T0);
        await store.recordPings(network.id, ['ada'], T0 + 500);
        const ada = await user(network, 'ada');
        assert.equal(ada.sync.state, 'waiting');
        assert.equal(ada.sync.dueAt, T0 + 500);
        assert.equal(ada.sync.attempts, 0);
        assert.equal(ada.sync.dirty, false);
        assert.equal(ada.sync.lastPingAt, T0 + 500);
        await claimOnly('ada', T0 + 600);
      });

      test(`among due users the quiet ones go first, and pings push a user back at most ${SETTLE_MAX_MS} ms`, async () => {
        const network = await pullableNetwork();
        await store.recordPings(network.id, ['ada'], T0);
        await store.recordPings(network.id, ['bob'], T0 + 100);
        await store.recordPings(network.id, ['ada'], T0 + 200);
        await claimOnly('bob', T0 + 300, { limit: 1 });

        for (const at of [T0 + 900, T0 + 1_500, T0 + 5_000]) await store.recordPings(network.id, ['ada'], at);
        assert.equal((await user(network, 'ada')).sync.dueAt, T0 + SETTLE_MAX_MS, 'a user pinged without pause is still pulled');
        await store.recordPings(network.id, ['carol'], T0 + SETTLE_MAX_MS + 1);
        await claimOnly('ada', T0 + 6_000, { limit: 1 });
      });

      test('a burst of pings for one user, also within one call, costs one pull', async () => {
        const network = await pullableNetwork();
        await store.recordPings(network.id, ['ada', 'ada', 'ada'], T0);
        await Promise.all([1, 2, 3].map((i) => store.recordPings(network.id, ['ada'], T0 + i)));
        const claims = await claim(T0 + 10);
        assert.deepEqual(byUser(claims), ['ada']);
        assert.deepEqual(await claim(T0 + 20), []);
      });

      test('with a coalescing window, a pinged user is due after it, and later pings do not move it', async () => {
        const windowed = await openStore({ coalesceMs: 25 });
        try {
          const created = await windowed.store.createNetwork({ name: 'acme', key: 'key-acme' }, T0);
          await windowed.store.setPullUrlTemplate(created.id, 'https://acme.example.com/users/{id}?lftoken={token}', T0);
          const dueAt = async (): Promise<number | null> => (await windowed.store.getUser(created.id, 'ada'))!.sync.dueAt;
          await windowed.store.recordPings(created.id, ['ada'], T0);
          assert.equal(await dueAt(), T0 + 25);
          await windowed.store.recordPings(created.id, ['ada'], T0 + 20);
          assert.equal(await dueAt(), T0 + 25, 'a ping inside the window keeps the due time');
          const claimAt = (now: number): Promise<ClaimedPull[]> =>
            windowed.store.claimDue({ now, limit: 10, perNetworkLimit: 10, leaseMs: LEASE_MS });
          assert.deepEqual(await claimAt(T0 + 24), [], 'not due inside the window');
          assert.equal(await windowed.store.nextWakeAt(T0 + 24), T0 + 25);
          const [claimed] = await claimAt(T0 + 25);
          assert.equal(claimed?.userId, 'ada');
          await windowed.store.completePull(claimed, { attempt: pullAttempt('ok', T0 + 30), newVersion: null, retryAt: null, gaveUp: false }, T0 + 30);
          await windowed.store.recordPings(created.id, ['ada'], T0 + 40);
          assert.equal(await dueAt(), T0 + 65, 'an idle user pinged again waits the window again');
        } finally {
          await windowed.cleanup();
        }
      });

      test('a ping while retrying keeps the backoff due time (pings do not defeat backoff)', async () => {
        const network = await pullableNetwork();
        await store.recordPings(network.id, ['ada'], T0);
        const first = await claimOnly('ada', T0);
        assert.equal(await complete(first, T0 + 100, { outcome: 'http_error', retryAt: T0 + 30_000 }), true);

        await store.recordPings(network.id, ['ada'], T0 + 200);
        const ada = await user(network, 'ada');
        assert.equal(ada.sync.state, 'retrying');
        assert.equal(ada.sync.dueAt, T0 + 30_000);
        assert.equal(ada.sync.attempts, 1);
        assert.equal(ada.sync.lastPingAt, T0 + 200);
        assert.deepEqual(await claim(T0 + 29_999), [], 'the ping must not make the retry due early');
        const retry = await claimOnly('ada', T0 + 30_000);
        assert.equal(retry.attempt, 2);
      });

      test('a ping while in flight marks the user dirty and does not lease a second pull', async () => {
        const network = await pullableNetwork();
        await store.recordPings(network.id, ['ada'], T0);
        await claimOnly('ada', T0);
        await store.recordPings(network.id, ['ada'], T0 + 50);
        const ada = await user(network, 'ada');
        assert.equal(ada.sync.state, 'in_flight');
        assert.equal(ada.sync.dirty, true);
        assert.deepEqual(await claim(T0 + 60), [], 'pulls for one user must never overlap');
      });

      test('a ping during the last allowed attempt does not restart the cycle: the user ends failed', async () => {
        const network = await pullableNetwork();
        await store.recordPings(network.id, ['ada'], T0);
        const last = await claimOnly('ada', T0);
        await store.recordPings(network.id, ['ada'], T0 + 50);
        assert.equal(await complete(last, T0 + 100, { outcome: 'timeout', gaveUp: true }), true);
        const ada = await user(network, 'ada');
        assert.equal(ada.sync.state, 'failed');
        assert.equal(ada.sync.dirty, false);
        assert.equal(ada.sync.dueAt, null);
        assert.deepEqual(await claim(T0 + 200), [], 'a give-up is not retried until the next ping');
        await store.recordPings(network.id, ['ada'], T0 + 300);
        assert.equal((await user(network, 'ada')).sync.state, 'waiting', 'the next ping starts a new cycle');
      });

      test('changing the pull URL makes users retrying against the old one due at once', async () => {
        const network = await pullableNetwork();
        await store.recordPings(network.id, ['ada'], T0);
        const first = await claimOnly('ada', T0);
        await complete(first, T0 + 100, { outcome: 'network_error', retryAt: T0 + 300_000 });
        await store.setPullUrlTemplate(network.id, 'https://fixed.example.com/users/{id}', T0 + 1_000);
        const ada = await user(network, 'ada');
        assert.equal(ada.sync.state, 'retrying');
        assert.equal(ada.sync.dueAt, T0 + 1_000);
        assert.equal((await claimOnly('ada', T0 + 1_000)).attempt, 1, 'a fresh cycle against the new URL');
      });

      for (const outcome of [...SUCCESS, 'not_found'] as const) {
        test(`a ping during a pull that ends ${outcome} requeues the user due at completion with attempts reset`, async () => {
          const network = await pullableNetwork();
          await store.recordPings(network.id, ['ada'], T0);
          const first = await claimOnly('ada', T0);
          await store.recordPings(network.id, ['ada'], T0 + 50);
          assert.equal(await complete(first, T0 + 400, { outcome }), true);

          const ada = await user(network, 'ada');
          assert.equal(ada.sync.state, 'waiting');
          assert.equal(ada.sync.dueAt, T0 + 400);
          assert.equal(ada.sync.attempts, 0);
          assert.equal(ada.sync.dirty, false);
          assert.equal(ada.sync.lastOutcome, outcome);
          const again = await claimOnly('ada', T0 + 400);
          assert.equal(again.attempt, 1);
        });
      }

      test('a pull retried after a ping during flight stays on its backoff schedule', async () => {
        const network = await pullableNetwork();
        await store.recordPings(network.id, ['ada'], T0);
        const first = await claimOnly('ada', T0);
        await store.recordPings(network.id, ['ada'], T0 + 50);
        assert.equal(await complete(first, T0 + 100, { outcome: 'timeout', retryAt: T0 + 10_000 }), true);
        const ada = await user(network, 'ada');
        assert.equal(ada.sync.state, 'retrying');
        assert.equal(ada.sync.dueAt, T0 + 10_000);
        assert.deepEqual(await claim(T0 + 9_999), []);
        await claimOnly('ada', T0 + 10_000);
      });

      test('a ping after a successful pull (idle) starts a new cycle at attempt 1', async () => {
        const network = await pullableNetwork();
        await store.recordPings(network.id, ['ada'], T0);
        const first = await claimOnly('ada', T0);
        assert.equal(await complete(first, T0 + 100, { outcome: 'http_error', retryAt: T0 + 1_000 }), true);
        const second = await claimOnly('ada', T0 + 1_000);
        assert.equal(second.attempt, 2);
        assert.equal(await complete(second, T0 + 1_100, { outcome: 'ok' }), true);
        assert.equal((await user(network, 'ada')).sync.state, 'idle');

        await store.recordPings(network.id, ['ada'], T0 + 5_000);
        const ada = await user(network, 'ada');
        assert.equal(ada.sync.state, 'waiting');
        assert.equal(ada.sync.dueAt, T0 + 5_000);
        assert.equal(ada.sync.attempts, 0);
        const third = await claimOnly('ada', T0 + 5_000);
        assert.equal(third.attempt, 1);
      });

      test('a ping after a failed cycle starts a new cycle at attempt 1', async () => {
        const network = await pullableNetwork();
        await store.recordPings(network.id, ['ada'], T0);
        const first = await claimOnly('ada', T0);
        assert.equal(await complete(first, T0 + 100, { outcome: 'timeout', retryAt: T0 + 1_000 }), true);
        const second = await claimOnly('ada', T0 + 1_000);
        assert.equal(await complete(second, T0 + 1_100, { outcome: 'not_found' }), true);
        assert.equal((await user(network, 'ada')).sync.state, 'failed');

        await store.recordPings(network.id, ['ada'], T0 + 5_000);
        const ada = await user(network, 'ada');
        assert.equal(ada.sync.state, 'waiting');
        assert.equal(ada.sync.dueAt, T0 + 5_000);
        assert.equal(ada.sync.attempts, 0);
        assert.equal(ada.sync.lastOutcome, 'not_found', 'the last outcome stays visible until the next pull');
        const third = await claimOnly('ada', T0 + 5_000);
        assert.equal(third.attempt, 1);
      });

      test('the same user id in two networks is tracked separately', async () => {
        const acme = await pullableNetwork('acme');
        const beta = await pullableNetwork('beta');
        await store.recordPings(acme.id, ['ada'], T0);
        assert.equal(await store.getUser(beta.id, 'ada'), null);
        await store.recordPings(beta.id, ['ada'], T0 + 100);
        assert.equal((await user(acme, 'ada')).sync.dueAt, T0);
        assert.equal((await user(beta, 'ada')).sync.dueAt, T0 + 100);
        const claims = await claim(T0 + 100);
        assert.deepEqual(claims.map((c) => c.network.name).sort(), ['acme', 'beta']);
      });
    });

    describe('claimDue', () => {
      test('claims only users whose due time has come (due_at <= now)', async () => {
        const network = await pullableNetwork();
        await store.recordPings(network.id, ['early'], T0);
        await store.recordPings(network.id, ['late'], T0 + 500);
        assert.deepEqual(byUser(await claim(T0 + 499)), ['early']);
        assert.deepEqual(await claim(T0 + 499), []);
        assert.deepEqual(byUser(await claim(T0 + 500)), ['late']);
      });

      test('a claim leases the pull: the user is in flight and carries the network and current profile', async () => {
        const network = await pullableNetwork();
        await store.recordPings(network.id, ['ada'], T0);
        const claimed = await claimOnly('ada', T0 + 5);
        assert.equal(claimed.attempt, 1);
        assert.equal(claimed.currentVersion, 0);
        assert.equal(claimed.currentProfile, null);
        assert.deepEqual(claimed.network, network);
        assert.equal(typeof claimed.leaseId, 'string');
        assert.ok(claimed.leaseId.length > 0);
        const ada = await user(network, 'ada');
        assert.equal(ada.sync.state, 'in_flight');
        assert.equal(ada.sync.attempts, 1);
      });

      test('each claim gets its own lease id', async () => {
        const network = await pullableNetwork();
        await store.recordPings(network.id, userIds('u', 5), T0);
        const claims = await claim(T0);
        assert.equal(new Set(claims.map((c) => c.leaseId)).size, 5);
      });

      test('attempts are numbered 1, 2, 3 across retries of one cycle', async () => {
        const network = await pullableNetwork();
        await store.recordPings(network.id, ['ada'], T0);
        let now = T0;
        for (const expected of [1, 2, 3]) {
          const claimed = await claimOnly('ada', now);
          assert.equal(claimed.attempt, expected);
          assert.equal((await user(network, 'ada')).sync.attempts, expected);
          now += 1_000;
          assert.equal(await complete(claimed, now, { outcome: 'http_error', retryAt: now + 1_000 }), true);
          now += 1_000;
        }
      });

      test('claims the longest-due users first', async () => {
        const network = await pullableNetwork();
        await store.recordPings(network.id, ['third'], T0 + 20);
        await store.recordPings(network.id, ['first'], T0);
        await store.recordPings(network.id, ['second'], T0 + 10);
        const order: string[] = [];
        for (let i = 0; i < 3; i += 1) {
          const [claimed] = await claim(T0 + 100, { limit: 1 });
          assert.ok(claimed);
          order.push(claimed.userId);
        }
        assert.deepEqual(order, ['first', 'second', 'third']);
      });

      test('claims at most limit pulls, leaving the rest for later claims', async () => {
        const network = await pullableNetwork();
        const all = userIds('u', 7);
        await store.recordPings(network.id, all, T0);
        const first = await claim(T0, { limit: 3 });
        const second = await claim(T0, { limit: 3 });
        const third = await claim(T0, { limit: 3 });
        assert.equal(first.length, 3);
        assert.equal(second.length, 3);
        assert.equal(third.length, 1);
        assert.deepEqual(byUser([...first, ...second, ...third]), all);
        assert.deepEqual(await claim(T0, { limit: 3 }), []);
      });

      test('the per-network limit counts pulls already in flight', async () => {
        const network = await pullableNetwork();
        await store.recordPings(network.id, userIds('u', 10), T0);
        const first = await claim(T0, { perNetworkLimit: 4 });
        assert.equal(first.length, 4);
        assert.deepEqual(await claim(T0 + 1, { perNetworkLimit: 4 }), [], 'four are already in flight');
        assert.equal(await complete(first[0]!, T0 + 2), true);
        assert.equal((await claim(T0 + 3, { perNetworkLimit: 4 })).length, 1);
        assert.equal((await claim(T0 + 4, { perNetworkLimit: 6 })).length, 2);
      });

      test('claims made at the same time never lease one user twice nor exceed the per-network limit', async () => {
        const acme = await pullableNetwork('acme');
        const beta = await pullableNetwork('beta');
        await store.recordPings(acme.id, userIds('a', 30), T0);
        await store.recordPings(beta.id, userIds('b', 30), T0);
        const rounds = await Promise.all(Array.from({ length: 6 }, () => claim(T0, { limit: 5, perNetworkLimit: 7 })));
        const claims = rounds.flat();
        const leased = claims.map((c) => `${c.network.name}/${c.userId}`);
        assert.equal(new Set(leased).size, leased.length, 'a user was leased twice');
        assert.equal(claims.filter((c) => c.network.id === acme.id).length, 7);
        assert.equal(claims.filter((c) => c.network.id === beta.id).length, 7);
      });

      test('the per-network limit applies to each network separately', async () => {
        const acme = await pullableNetwork('acme');
        const beta = await pullableNetwork('beta');
        await store.recordPings(acme.id, userIds('a', 10), T0);
        await store.recordPings(beta.id, userIds('b', 10), T0);
        const claims = await claim(T0, { perNetworkLimit: 3 });
        assert.equal(claims.filter((c) => c.network.id === acme.id).length, 3);
        assert.equal(claims.filter((c) => c.network.id === beta.id).length, 3);
      });

      test('two networks with many due users share the limit about evenly', async () => {
        const acme = await pullableNetwork('acme');
        const beta = await pullableNetwork('beta');
        await store.recordPings(acme.id, userIds('a', 40), T0);
        await store.recordPings(beta.id, userIds('b', 40), T0);
        for (let round = 0; round < 3; round += 1) {
          const claims = await claim(T0 + round, { limit: 10 });
          assert.equal(claims.length, 10);
          const fromAcme = claims.filter((c) => c.network.id === acme.id).length;
          const fromBeta = claims.filter((c) => c.network.id === beta.id).length;
          assert.ok(fromAcme >= 4 && fromAcme <= 6, `round ${round}: acme got ${fromAcme} of 10`);
          assert.ok(fromBeta >= 4 && fromBeta <= 6, `round ${round}: beta got ${fromBeta} of 10`);
        }
      });

      test('with more networks than the limit, successive claims serve every network in turn', async () => {
        const networks = [await pullableNetwork('acme'), await pullableNetwork('beta'), await pullableNetwork('gamma')];
        for (const network of networks) await store.recordPings(network.id, userIds(network.name, 10), T0);
        const served = new Set<string>();
        for (let round = 0; round < networks.length; round += 1) {
          const claims = await claim(T0 + round, { limit: 1 });
          assert.equal(claims.length, 1);
          served.add(claims[0]!.network.name);
        }
        assert.deepEqual([...served].sort(), ['acme', 'beta', 'gamma'], 'no network may be starved');
      });

      test('a network with few due users leaves its unused share to the others', async () => {
        const acme = await pullableNetwork('acme');
        const beta = await pullableNetwork('beta');
        await store.recordPings(acme.id, userIds('a', 40), T0);
        await store.recordPings(beta.id, ['b-only'], T0);
        const claims = await claim(T0, { limit: 10 });
        assert.equal(claims.length, 10);
        assert.ok(claims.some((c) => c.network.id === beta.id && c.userId === 'b-only'));
        assert.equal(claims.filter((c) => c.network.id === acme.id).length, 9);
      });

      test('networks in skipNetworkIds are not claimed from', async () => {
        const acme = await pullableNetwork('acme');
        const beta = await pullableNetwork('beta');
        await store.recordPings(acme.id, ['ada'], T0);
        await store.recordPings(beta.id, ['bob'], T0);
        const claims = await claim(T0, { skipNetworkIds: new Set([acme.id]) });
        assert.deepEqual(claims.map((c) => `${c.network.name}/${c.userId}`), ['beta/bob']);
        assert.equal((await user(acme, 'ada')).sync.state, 'waiting');
        const later = await claim(T0 + 1);
        assert.deepEqual(later.map((c) => `${c.network.name}/${c.userId}`), ['acme/ada']);
      });

      test('a network without a pull URL is never claimed from, until it gets one', async () => {
        const bare = await store.createNetwork({ name: 'bare', key: 'k' }, T0);
        await store.recordPings(bare.id, ['ada'], T0);
        assert.deepEqual(await claim(T0 + 1_000), []);
        assert.equal((await user(bare, 'ada')).sync.state, 'waiting');
        await store.setPullUrlTemplate(bare.id, 'https://bare.example.com/{id}?lftoken={token}', T0 + 2_000);
        const claimed = await claimOnly('ada', T0 + 2_000);
        assert.equal(claimed.network.pullUrlTemplate, 'https://bare.example.com/{id}?lftoken={token}');
      });

      test('an expired lease is requeued and claimable again at now + leaseMs, not before', async () => {
        const network = await pullableNetwork();
        await store.recordPings(network.id, ['ada'], T0);
        const first = await claimOnly('ada', T0, { leaseMs: 1_000 });
        assert.deepEqual(await claim(T0 + 999, { leaseMs: 1_000 }), [], 'the lease still holds');
        const second = await claimOnly('ada', T0 + 1_000, { leaseMs: 1_000 });
        assert.notEqual(second.leaseId, first.leaseId);
        assert.equal((await user(network, 'ada')).sync.state, 'in_flight');
      });

      test('a finished pull frees its place under the per-network limit as soon as its completion is asked for', async () => {
        const network = await pullableNetwork();
        await store.recordPings(network.id, ['ada'], T0);
        await store.recordPings(network.id, ['bob'], T0 + 1);
        const first = await claimOnly('ada', T0, { perNetworkLimit: 1 });
        // Not awaited: the pull loop refills a slot while the completion is still being written.
        const completing = complete(first, T0 + 10);
        const next = await claim(T0 + 10, { perNetworkLimit: 1 });
        assert.deepEqual(byUser(next), ['bob']);
        assert.equal(await completing, true);
      });

      test('an expired lease frees its place under the per-network limit', async () => {
        const network = await pullableNetwork();
        await store.recordPings(network.id, ['ada', 'bob'], T0);
        const [first] = await claim(T0, { perNetworkLimit: 1, leaseMs: 1_000 });
        assert.ok(first);
        assert.deepEqual(await claim(T0 + 500, { perNetworkLimit: 1, leaseMs: 1_000 }), []);
        const after = await claim(T0 + 1_000, { perNetworkLimit: 1, leaseMs: 1_000 });
        assert.equal(after.length, 1);
      });
    });

    describe('completePull', () => {
      test('a completion with retryAt makes the user retrying at that time and records the attempt', async () => {
        const network = await pullableNetwork();
        await store.recordPings(network.id, ['ada'], T0);
        const claimed = await claimOnly('ada', T0);
        const attempt: PullAttempt = {
          at: T0 + 10,
          outcome: 'http_error',
          httpStatus: 503,
          durationMs: 250,
          message: 'the pull URL answered 503',
          warnings: ['w1', 'w2'],
          responseExcerpt: '<html>busy</html>',
        };
        assert.equal(await store.completePull(claimed, { attempt, newVersion: null, retryAt: T0 + 60_000, gaveUp: false }, T0 + 260), true);
        const ada = await user(network, 'ada');
        assert.deepEqual(ada.sync, {
          state: 'retrying',
          dirty: false,
          dueAt: T0 + 60_000,
          attempts: 1,
          lastPingAt: T0,
          lastPullAt: T0 + 260,
          lastOutcome: 'http_error',
          lastMessage: 'the pull URL answered 503',
        });
        assert.equal(ada.version, 0);
        assert.equal(ada.profile, null);
        assert.deepEqual(await store.listAttempts(network.id, 'ada'), [attempt]);
      });

      for (const outcome of SUCCESS) {
        test(`a completion without retryAt that ends ${outcome} makes the user idle with nothing due`, async () => {
          const network = await pullableNetwork();
          await store.recordPings(network.id, ['ada'], T0);
          const claimed = await claimOnly('ada', T0);
          assert.equal(await complete(claimed, T0 + 100, { outcome }), true);
          const ada = await user(network, 'ada');
          assert.equal(ada.sync.state, 'idle');
          assert.equal(ada.sync.dueAt, null);
          assert.equal(ada.sync.lastOutcome, outcome);
          assert.equal(ada.sync.lastPullAt, T0 + 100);
          assert.deepEqual(await claim(T0 + 1_000_000), []);
        });
      }

      test('a completion without retryAt that ends in any failure outcome makes the user failed with nothing due', async () => {
        const network = await pullableNetwork();
        let now = T0;
        for (const outcome of FAILURES) {
          await store.recordPings(network.id, [outcome], now);
          const claimed = await claimOnly(outcome, now);
          assert.equal(await complete(claimed, now + 1, { outcome }), true);
          const record = await user(network, outcome);
          assert.equal(record.sync.state, 'failed', `outcome ${outcome}`);
          assert.equal(record.sync.dueAt, null, `outcome ${outcome}`);
          assert.equal(record.sync.lastOutcome, outcome);
          now += 10;
        }
        assert.deepEqual(await claim(now + 1_000_000), []);
      });

      test('a new version replaces the profile, bumps the version and is listed newest first with its changes', async () => {
        const network = await pullableNetwork();
        const v1 = { ...profile('ada', 'Ada'), email: 'ada@example.com' };
        const v2 = { ...profile('ada', 'Ada L.'), bio: 'Counts things' };

        await store.recordPings(network.id, ['ada'], T0);
        const first = await claimOnly('ada', T0);
        assert.equal(await complete(first, T0 + 100, { newProfile: v1, changed: ['display_name', 'email'] }), true);
        let ada = await user(network, 'ada');
        assert.equal(ada.version, 1);
        assert.deepEqual(ada.profile, v1);
        assert.equal(ada.updatedAt, T0 + 100);

        await store.recordPings(network.id, ['ada'], T0 + 1_000);
        const second = await claimOnly('ada', T0 + 1_000);
        assert.equal(second.currentVersion, 1);
        assert.deepEqual(second.currentProfile, v1);
        assert.equal(
          await complete(second, T0 + 1_100, { newProfile: v2, changed: ['display_name', 'email', 'bio'] }),
          true,
        );
        ada = await user(network, 'ada');
        assert.equal(ada.version, 2);
        assert.deepEqual(ada.profile, v2, 'the profile is replaced, not merged');
        assert.equal(ada.updatedAt, T0 + 1_100);

        assert.deepEqual(await store.listVersions(network.id, 'ada', { limit: 10 }), [
          { version: 2, profile: v2, changed: ['display_name', 'email', 'bio'], createdAt: T0 + 1_100 },
          { version: 1, profile: v1, changed: ['display_name', 'email'], createdAt: T0 + 100 },
        ]);
      });

      test('a completion without a new version keeps the profile, version and updatedAt', async () => {
        const network = await pullableNetwork();
        const v1 = profile('ada', 'Ada');
        await store.recordPings(network.id, ['ada'], T0);
        assert.equal(await complete(await claimOnly('ada', T0), T0 + 100, { newProfile: v1, changed: ['display_name'] }), true);
        await store.recordPings(network.id, ['ada'], T0 + 1_000);
        assert.equal(await complete(await claimOnly('ada', T0 + 1_000), T0 + 1_100, { outcome: 'unchanged' }), true);
        const ada = await user(network, 'ada');
        assert.equal(ada.version, 1);
        assert.deepEqual(ada.profile, v1);
        assert.equal(ada.updatedAt, T0 + 100);
        assert.equal(ada.sync.lastPullAt, T0 + 1_100);
        assert.equal((await store.listVersions(network.id, 'ada', { limit: 10 })).length, 1);
      });

      test('listVersions pages back with beforeVersion and limit, through pulls that stored no version and other users\' versions', async () => {
        const network = await pullableNetwork();
        let now = T0;
        for (let v = 1; v <= 5; v += 1) {
          await store.recordPings(network.id, ['ada', 'bob'], now);
          for (const claimed of await claim(now)) {
            const name = claimed.userId === 'ada' ? `Ada ${v}` : `Bob ${v}`;
            assert.equal(await complete(claimed, now + 1, { newProfile: profile(claimed.userId, name), changed: ['display_name'] }), true);
          }
          await store.recordPings(network.id, ['ada'], now + 50);
          assert.equal(await complete(await claimOnly('ada', now + 50), now + 51, { outcome: 'unchanged' }), true);
          now += 100;
        }
        const versionsOf = async (options: { limit: number; beforeVersion?: number }) =>
          (await store.listVersions(network.id, 'ada', options)).map((entry) => entry.version);
        assert.deepEqual(await versionsOf({ limit: 2 }), [5, 4]);
        assert.deepEqual(await versionsOf({ limit: 2, beforeVersion: 100 }), [5, 4]);
        assert.deepEqual(await versionsOf({ limit: 1, beforeVersion: Number.MAX_SAFE_INTEGER }), [5], 'any whole number the API accepts');
        assert.deepEqual(await versionsOf({ limit: 10, beforeVersion: 4 }), [3, 2, 1]);
        assert.deepEqual(await versionsOf({ limit: 2, beforeVersion: 4 }), [3, 2]);
        assert.deepEqual(await versionsOf({ limit: 2, beforeVersion: 2 }), [1]);
        assert.deepEqual(await versionsOf({ limit: 2, beforeVersion: 1 }), []);
        const [third] = await store.listVersions(network.id, 'ada', { limit: 1, beforeVersion: 4 });
        assert.deepEqual(third?.profile, profile('ada', 'Ada 3'));
      });

      test('completing after the lease expired and was re-claimed returns false and changes nothing', async () => {
        const network = await pullableNetwork();
        await store.recordPings(network.id, ['ada'], T0);
        const stale = await claimOnly('ada', T0, { leaseMs: 1_000 });
        const current = await claimOnly('ada', T0 + 1_000, { leaseMs: 1_000 });
        const before = await user(network, 'ada');

        assert.equal(
          await complete(stale, T0 + 1_200, { newProfile: profile('ada', 'Stale Ada'), changed: ['display_name'] }),
          false,
        );
        assert.deepEqual(await user(network, 'ada'), before);
        assert.deepEqual(await store.listAttempts(network.id, 'ada'), []);
        assert.deepEqual(await store.listVersions(network.id, 'ada', { limit: 10 }), []);

        assert.equal(await complete(current, T0 + 1_300, { newProfile: profile('ada', 'Ada'), changed: ['display_name'] }), true);
        const ada = await user(network, 'ada');
        assert.equal(ada.version, 1);
        assert.deepEqual(ada.profile, profile('ada', 'Ada'));
        assert.equal(ada.sync.state, 'idle');
      });

      test('completing the same claim twice applies it once', async () => {
        const network = await pullableNetwork();
        await store.recordPings(network.id, ['ada'], T0);
        const claimed = await claimOnly('ada', T0);
        const change = { newProfile: profile('ada', 'Ada'), changed: ['display_name'] };
        assert.equal(await complete(claimed, T0 + 100, change), true);
        assert.equal(await complete(claimed, T0 + 200, change), false);
        const ada = await user(network, 'ada');
        assert.equal(ada.version, 1);
        assert.equal(ada.sync.lastPullAt, T0 + 100);
        assert.equal((await store.listAttempts(network.id, 'ada')).length, 1);
      });

      test('completions made at the same time each apply to their own lease and report their own result', async () => {
        const network = await pullableNetwork();
        await store.recordPings(network.id, ['ada', 'bob', 'cy'], T0);
        const [ada, bob, cy] = (await claim(T0)).sort((a, b) => a.userId.localeCompare(b.userId));
        await store.releaseLeases([cy!.leaseId], T0 + 10);
        const results = await Promise.all([
          complete(ada!, T0 + 100, { newProfile: profile('ada', 'Ada'), changed: ['display_name'] }),
          complete(bob!, T0 + 100, { outcome: 'http_error', retryAt: T0 + 5000 }),
          complete(ada!, T0 + 100, { newProfile: profile('ada', 'Ada again'), changed: ['display_name'] }),
          complete(cy!, T0 + 100),
        ]);
        assert.deepEqual(results, [true, true, false, false]);
        const [adaNow, bobNow, cyNow] = await Promise.all([user(network, 'ada'), user(network, 'bob'), user(network, 'cy')]);
        assert.deepEqual([adaNow.version, adaNow.profile, adaNow.sync.state], [1, profile('ada', 'Ada'), 'idle']);
        assert.deepEqual([bobNow.sync.state, bobNow.sync.dueAt, bobNow.version], ['retrying', T0 + 5000, 0]);
        assert.deepEqual([cyNow.sync.state, cyNow.sync.dueAt], ['waiting', T0 + 10]);
        assert.deepEqual((await store.listVersions(network.id, 'ada', { limit: 10 })).map((v) => v.version), [1]);
        assert.equal((await store.listAttempts(network.id, 'ada')).length, 1);
        assert.equal((await store.listAttempts(network.id, 'bob')).length, 1);
        assert.equal((await store.listAttempts(network.id, 'cy')).length, 0);
      });

      test("an attempt's texts may hold U+0000: every store keeps it as its JSON escape", async () => {
        const network = await pullableNetwork();
        await store.recordPings(network.id, ['nul'], T0);
        const attempt = pullAttempt('invalid_response', T0 + 100, { message: 'not JSON: "a\u0000b"', responseExcerpt: 'a\u0000b' });
        assert.equal(await store.completePull(await claimOnly('nul', T0), { attempt, newVersion: null, retryAt: null, gaveUp: false }, T0 + 100), true);
        const [stored] = await store.listAttempts(network.id, 'nul');
        assert.equal(stored?.message, 'not JSON: "a\\u0000b"');
        assert.equal(stored?.responseExcerpt, 'a\\u0000b');
        assert.equal((await user(network, 'nul')).sync.lastMessage, 'not JSON: "a\\u0000b"');
      });

      test('a completion the database refuses does not fail the completions committed with it', async () => {
        const network = await pullableNetwork();
        await store.recordPings(network.id, ['ada', 'bob'], T0);
        const [ada, bob] = (await claim(T0)).sort((a, b) => a.userId.localeCompare(b.userId));
        // An HTTP status past 2^31: SQLite stores it, PostgreSQL's integer cannot hold it.
        const odd = {
          attempt: pullAttempt('invalid_response', T0 + 100, { httpStatus: 2 ** 40 }),
          newVersion: null,
          retryAt: null,
          gaveUp: false,
        };
        const [refused, fine] = await Promise.allSettled([store.completePull(ada!, odd, T0 + 100), complete(bob!, T0 + 100)]);
        assert.deepEqual(fine, { status: 'fulfilled', value: true });
        assert.equal((await user(network, 'bob')).sync.state, 'idle');
        assert.equal((await user(network, 'ada')).sync.state, refused.status === 'fulfilled' ? 'failed' : 'in_flight');
      });

      test(`attempts are capped at ATTEMPTS_KEPT_PER_USER (${ATTEMPTS_KEPT_PER_USER}) per user, newest first`, async () => {
        const network = await pullableNetwork();
        await store.recordPings(network.id, ['other'], T0);
        assert.equal(await complete(await claimOnly('other', T0), T0, { outcome: 'ok' }), true);

        const total = ATTEMPTS_KEPT_PER_USER + 10;
        await store.recordPings(network.id, ['ada'], T0);
        for (let i = 1; i <= total; i += 1) {
          const now = T0 + i * 10;
          const claimed = await claimOnly('ada', now);
          const done = await store.completePull(
            claimed,
            { attempt: pullAttempt('timeout', now, { message: `attempt ${i}` }), newVersion: null, retryAt: now + 10, gaveUp: false },
            now,
          );
          assert.equal(done, true);
        }
        const kept = await store.listAttempts(network.id, 'ada');
        assert.equal(kept.length, ATTEMPTS_KEPT_PER_USER);
        assert.equal(kept[0]?.message, `attempt ${total}`);
        assert.equal(kept.at(-1)?.message, `attempt ${total - ATTEMPTS_KEPT_PER_USER + 1}`);
        assert.deepEqual(
          kept.map((a) => a.at),
          [...kept.map((a) => a.at)].sort((x, y) => y - x),
          'newest first',
        );
        assert.equal((await store.listAttempts(network.id, 'other')).length, 1, 'other users keep their attempts');
      });
    });

    describe('releaseLeases', () => {
      test('a release that counts the attempt (a failure inside p4p) keeps the attempt number growing', async () => {
        const network = await pullableNetwork();
        await store.recordPings(network.id, ['ada'], T0);
        const first = await claimOnly('ada', T0);
        assert.equal(await store.releaseLeases([first.leaseId], T0 + 1_000, true), 1);
        assert.deepEqual(await claim(T0 + 999), [], 'not due before the given time');
        const second = await claimOnly('ada', T0 + 1_000);
        assert.equal(second.attempt, 2);
      });

      test('releasing by lease id puts that user back to waiting, due now, and leaves others leased', async () => {
        const network = await pullableNetwork();
        await store.recordPings(network.id, ['ada', 'bob'], T0);
        const claims = await claim(T0);
        const ada = claims.find((c) => c.userId === 'ada');
        assert.ok(ada);
        assert.equal(await store.releaseLeases([ada.leaseId], T0 + 500), 1);
        const adaRecord = await user(network, 'ada');
        assert.equal(adaRecord.sync.state, 'waiting');
        assert.equal(adaRecord.sync.dueAt, T0 + 500);
        assert.equal((await user(network, 'bob')).sync.state, 'in_flight');
        assert.deepEqual(byUser(await claim(T0 + 500)), ['ada']);
      });

      test('a released lease can no longer complete', async () => {
        const network = await pullableNetwork();
        await store.recordPings(network.id, ['ada'], T0);
        const claimed = await claimOnly('ada', T0);
        assert.equal(await store.releaseLeases([claimed.leaseId], T0 + 100), 1);
        assert.equal(await complete(claimed, T0 + 200, { newProfile: profile('ada', 'Ada'), changed: ['display_name'] }), false);
        const ada = await user(network, 'ada');
        assert.equal(ada.sync.state, 'waiting');
        assert.equal(ada.version, 0);
      });

      test('releasing an unknown or already released lease id changes nothing and counts 0', async () => {
        const network = await pullableNetwork();
        await store.recordPings(network.id, ['ada'], T0);
        const claimed = await claimOnly('ada', T0);
        assert.equal(await store.releaseLeases(['no-such-lease'], T0 + 1), 0);
        assert.equal((await user(network, 'ada')).sync.state, 'in_flight');
        assert.equal(await store.releaseLeases([claimed.leaseId], T0 + 2), 1);
        assert.equal(await store.releaseLeases([claimed.leaseId], T0 + 3), 0);
        assert.equal((await user(network, 'ada')).sync.dueAt, T0 + 2);
      });

      test("releasing 'all' puts every leased user back to waiting, due now, across networks", async () => {
        const acme = await pullableNetwork('acme');
        const beta = await pullableNetwork('beta');
        await store.recordPings(acme.id, ['ada', 'bob'], T0);
        await store.recordPings(beta.id, ['cy'], T0);
        await store.recordPings(beta.id, ['later'], T0 + 10_000);
        assert.equal((await claim(T0)).length, 3);
        assert.equal(await store.releaseLeases('all', T0 + 700), 3);
        for (const [network, userId] of [[acme, 'ada'], [acme, 'bob'], [beta, 'cy']] as const) {
          const record = await user(network, userId);
          assert.equal(record.sync.state, 'waiting', userId);
          assert.equal(record.sync.dueAt, T0 + 700, userId);
        }
        assert.equal((await user(beta, 'later')).sync.dueAt, T0 + 10_000, 'users not in flight are untouched');
        assert.equal((await claim(T0 + 700)).length, 3);
      });
    });

    describe('nextWakeAt', () => {
      test('nextWakeAt is null when nothing is queued or leased', async () => {
        assert.equal(await store.nextWakeAt(T0), null);
        const network = await pullableNetwork();
        await store.recordPings(network.id, ['ada'], T0);
        assert.equal(await complete(await claimOnly('ada', T0), T0 + 10), true);
        assert.equal(await store.nextWakeAt(T0), null, 'an idle user needs no wake-up');
      });

      test('nextWakeAt returns the earliest due time strictly later than after', async () => {
        const network = await pullableNetwork();
        await store.recordPings(network.id, ['now'], T0);
        await store.recordPings(network.id, ['soon'], T0 + 3_000);
        await store.recordPings(network.id, ['later'], T0 + 9_000);
        assert.equal(await store.nextWakeAt(T0), T0 + 3_000, 'a due time equal to after is not in the future');
        assert.equal(await store.nextWakeAt(T0 + 3_000), T0 + 9_000);
        assert.equal(await store.nextWakeAt(T0 + 9_000), null);
      });

      test('nextWakeAt includes retry due times', async () => {
        const network = await pullableNetwork();
        await store.recordPings(network.id, ['ada'], T0);
        assert.equal(
          await complete(await claimOnly('ada', T0, { leaseMs: 100_000 }), T0 + 10, { outcome: 'timeout', retryAt: T0 + 7_000 }),
          true,
        );
        assert.equal(await store.nextWakeAt(T0 + 10), T0 + 7_000);
      });

      test('nextWakeAt includes the end of a lease', async () => {
        const network = await pullableNetwork();
        await store.recordPings(network.id, ['ada'], T0);
        await store.recordPings(network.id, ['bob'], T0 + 50_000);
        await claimOnly('ada', T0, { leaseMs: 20_000 });
        assert.equal(await store.nextWakeAt(T0), T0 + 20_000);
        assert.equal(await store.nextWakeAt(T0 + 20_000), T0 + 50_000);
      });

      test('nextWakeAt ignores skipped networks', async () => {
        const acme = await pullableNetwork('acme');
        const beta = await pullableNetwork('beta');
        await store.recordPings(acme.id, ['ada'], T0 + 1_000);
        await store.recordPings(beta.id, ['bob'], T0 + 4_000);
        assert.equal(await store.nextWakeAt(T0), T0 + 1_000);
        assert.equal(await store.nextWakeAt(T0, new Set([acme.id])), T0 + 4_000);
        assert.equal(await store.nextWakeAt(T0, new Set([acme.id, beta.id])), null);
      });
    });

    describe('reads', () => {
      test('getUser is null for an unknown user or network', async () => {
        const network = await pullableNetwork();
        await store.recordPings(network.id, ['ada'], T0);
        assert.equal(await store.getUser(network.id, 'nobody'), null);
        assert.equal(await store.getUser(network.id + 1000, 'ada'), null);
      });

      test('listAttempts and listVersions are empty for a user never pulled', async () => {
        const network = await pullableNetwork();
        await store.recordPings(network.id, ['ada'], T0);
        assert.deepEqual(await store.listAttempts(network.id, 'ada'), []);
        assert.deepEqual(await store.listVersions(network.id, 'ada', { limit: 10 }), []);
        assert.deepEqual(await store.listAttempts(network.id, 'nobody'), []);
      });
    });
  });
}

storeConformance('sqlite', async (options) => {
  const dir = makeTempDir('p4p-store-');
  const store = SqliteStore.open({ dataDir: dir.path, ...options });
  return {
    store,
    cleanup: async () => {
      try {
        await store.close();
      } finally {
        dir.remove();
      }
    },
  };
});

/** PostgreSQL: one database for the run, a fresh schema per test. */
let database: TestDatabase | undefined;
const skipPostgres = await postgresSkip();
if (!skipPostgres) {
  before(async () => {
    database = await createTestDatabase('p4p_conformance');
  });
  after(async () => {
    await database?.drop();
  });
}

storeConformance(
  'postgres',
  async (options) => {
    const schema = await createTestSchema(database!);
    const store = await PostgresStore.open({ url: schema.url, poolMax: 4, ...options });
    return {
      store,
      cleanup: async () => {
        try {
          await store.close();
        } finally {
          await schema.drop();
        }
      },
    };
  },
  { skip: skipPostgres },
);
