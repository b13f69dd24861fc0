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
const SHORT_TIMEOUT_MS = 300;
/** Key of the migration advisory lock (postgres-migrations.ts). */
const MIGRATION_LOCK_KEY = 0x70347031;
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

/**
 * Opens a store whose statement timeout (and so connect timeout) is 300 ms; a
 * connect slower than that on a loaded machine is retried, not a failure.
 */
function openWithShortTimeout(url: string, poolMax: number): Promise<PostgresStore> {
  return waitFor(
    () =>
      PostgresStore.open({ url, poolMax, statementTimeoutMs: SHORT_TIMEOUT_MS }).catch((error: unknown) => {
        if (error instanceof StoreUnavailableError) return undefined;
        throw error;
      }),
    { timeoutMs: 30_000, what: 'a store with a short statement timeout to open' },
  );
}

describe('PostgreSQL unavailable', { skip }, () => {
  before(async () => {
    database = await createTestDatabase('p4p_unavailable');
    const setup = await PostgresStore.open({ url: database.url });
    try {
      network = await setup.createNetwork({ name: 'acme', key: 'key-acme' }, T0);
    } finally {
      await setup.close();
    }
    store = await openWithShortTimeout(database.url, 3);
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

  test('a store opening while another process migrates waits for the migration lock past its statement timeout', async () => {
    await withConnection(async (other) => {
      await other.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
      const opening = PostgresStore.open({ url: database!.url, poolMax: 1, statementTimeoutMs: SHORT_TIMEOUT_MS });
      const settled = opening.then(
        () => 'opened',
        () => 'failed',
      );
      // Hold the lock until the waiting open has waited for several statement timeouts.
      await waitFor(
        async () => {
          const { rows } = await other.query<{ waiting_ms: number }>(
            `SELECT extract(epoch FROM now() - query_start) * 1000 AS waiting_ms FROM pg_stat_activity
             WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%pg_advisory_lock%' AND pid <> pg_backend_pid()`,
          );
          return (rows[0]?.waiting_ms ?? 0) > SHORT_TIMEOUT_MS * 4;
        },
        { timeoutMs: 30_000, what: 'the opening store to wait for the migration lock' },
      );
      assert.equal(await Promise.race([settled, Promise.resolve('pending')]), 'pending', 'still waiting, not timed out');
      await other.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
      const waited = await opening;
      try {
        // Its one connection has its statement timeout back: a locked table makes it give up again.
        await withConnection(async (locker) => {
          await locker.query('BEGIN');
          await locker.query('LOCK TABLE users IN ACCESS EXCLUSIVE MODE');
          await assert.rejects(waited.recordPings(network.id, ['dee'], T0), StoreUnavailableError);
          await locker.query('ROLLBACK');
        });
      } finally {
        await waited.close();
      }
    });
  });

  test('a database that cannot be reached at open is unavailable', async () => {
    await assert.rejects(PostgresStore.open({ url: 'postgres://postgres@127.0.0.1:1/p4p' }), StoreUnavailableError);
  });
});
