import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { PostgresStore } from '../src/store/postgres/postgres-store.js';
import { StoreUnavailableError, type Network } from '../src/store/store.js';
import { createTestDatabase, postgresSkip, type TestDatabase } from './support/postgres.js';
import { waitFor } from './support/wait-for.js';

/**
 * The PostgreSQL adapter's "not now" errors: what the database does to it
 * (locks past the statement timeout, connections terminated by an operator,
 * no server at all) surfaces as StoreUnavailableError, which the API answers
 * 503 with Retry-After, and the pool recovers by itself.
 */

const T0 = 1_700_000_000_000;
const skip = await postgresSkip();
let database: TestDatabase | undefined;
let store: PostgresStore | undefined;
let network: Network;

/** Runs `use` with a connection of its own to the test database. */
async function withConnection<T>(use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: database!.url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

describe('PostgreSQL unavailable', { skip }, () => {
  before(async () => {
    database = await createTestDatabase('p4p_unavailable');
    store = await PostgresStore.open({ url: database.url, poolMax: 3, statementTimeoutMs: 300 });
    network = await store.createNetwork({ name: 'acme', key: 'key-acme' }, T0);
  });
  after(async () => {
    await store?.close();
    await database?.drop();
  });

  test('a ping held past the statement timeout by a lock is refused as unavailable, and recorded once the lock is gone', async () => {
    await withConnection(async (other) => {
      await other.query('BEGIN');
      await other.query('LOCK TABLE users IN ACCESS EXCLUSIVE MODE');
      await assert.rejects(store!.recordPings(network.id, ['ada'], T0), StoreUnavailableError);
      await other.query('ROLLBACK');
    });
    assert.equal(await store!.getUser(network.id, 'ada'), null, 'the refused ping left nothing');
    await store!.recordPings(network.id, ['ada'], T0 + 1);
    assert.equal((await store!.getUser(network.id, 'ada'))?.sync.state, 'waiting');
  });

  test('connections terminated by an operator are replaced by the pool; failures meanwhile are unavailable only', async () => {
    await store!.recordPings(network.id, ['bob'], T0);
    const terminated = await withConnection((admin) =>
      admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name = $2', [database!.name, 'p4p']),
    );
    assert.ok(terminated.rowCount! > 0, 'the pool had connections to terminate');
    const failures: unknown[] = [];
    const record = await waitFor(
      () =>
        store!.getUser(network.id, 'bob').catch((error: unknown) => {
          failures.push(error);
          return undefined;
        }),
      { what: 'the store to answer again' },
    );
    assert.equal(record?.sync.state, 'waiting');
    for (const failure of failures) assert.ok(failure instanceof StoreUnavailableError, String(failure));
    await store!.recordPings(network.id, ['cy'], T0 + 2);
  });

  test('a database that cannot be reached at open is unavailable', async () => {
    await assert.rejects(PostgresStore.open({ url: 'postgres://postgres@127.0.0.1:1/p4p' }), StoreUnavailableError);
  });
});
