import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PostgresStore } from '../src/store/postgres/postgres-store.js';
import type { ClaimedPull } from '../src/store/store.js';
import { createTestDatabase, postgresSkip, type TestDatabase } from './support/postgres.js';

/**
 * Claimers in several processes share one database: two PostgresStores on
 * one database stand for two p4p processes claiming at the same instant.
 */

const T0 = 1_700_000_000_000;
const PER_NETWORK_LIMIT = 10;
const CLAIMS_AT_ONCE = 8;

const skip = await postgresSkip();

describe('PostgreSQL claims from several processes', { skip }, () => {
  let database: TestDatabase;
  let stores: PostgresStore[];

  before(async () => {
    database = await createTestDatabase('p4p_claims');
    stores = [await PostgresStore.open({ url: database.url }), await PostgresStore.open({ url: database.url })];
  });
  after(async () => {
    await Promise.all(stores.map((store) => store.close()));
    await database.drop();
  });

  test('claims racing from two stores never lease more than the per-network limit together, nor one user twice', async () => {
    const [first, second] = stores as [PostgresStore, PostgresStore];
    const network = await first.createNetwork({ name: 'race.fyre.co', key: 'race-key' }, T0);
    await first.setPullUrlTemplate(network.id, 'https://race.example.com/users/{id}?lftoken={token}', T0);
    await first.recordPings(network.id, Array.from({ length: 200 }, (_, i) => `user-${i}`), T0);

    const claimAt = (store: PostgresStore): Promise<ClaimedPull[]> =>
      store.claimDue({ now: T0 + 1, limit: PER_NETWORK_LIMIT, perNetworkLimit: PER_NETWORK_LIMIT, leaseMs: 60_000 });
    // Each claimer would take the whole limit were it blind to the others' leases.
    const rounds = await Promise.all(Array.from({ length: CLAIMS_AT_ONCE }, (_, i) => claimAt(i % 2 === 0 ? first : second)));
    const leased = rounds.flat().map((claim) => claim.userId);

    assert.equal(leased.length, PER_NETWORK_LIMIT);
    assert.equal(new Set(leased).size, leased.length);
  });
});
