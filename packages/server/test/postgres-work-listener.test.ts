import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import pino from 'pino';
import { PostgresStore } from '../src/store/postgres/postgres-store.js';
import { LISTENER_APPLICATION_NAME, WorkListener } from '../src/store/postgres/work-listener.js';
import type { Network } from '../src/store/store.js';
import { createTestDatabase, postgresSkip, type TestDatabase } from './support/postgres.js';
import { waitFor } from './support/wait-for.js';

/**
 * The work listener against a real PostgreSQL: pings and pull URL changes
 * committed by another store instance reach it through LISTEN/NOTIFY, and it
 * listens again by itself after its connection is terminated. The assertions
 * are on the listener's own callbacks, which the pull worker's fallback poll
 * never calls, so a wakeup here can only come from a notification.
 */

const T0 = 1_700_000_000_000;
const DEADLINE_MS = 30_000;
const skip = await postgresSkip();
let database: TestDatabase | undefined;
let store: PostgresStore | undefined;
let admin: pg.Client | undefined;
let network: Network;

/** The listener's backend pid when it is connected and has run LISTEN, else undefined. */
async function listeningBackend(): Promise<number | undefined> {
  const { rows } = await admin!.query<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = $2 AND query LIKE 'LISTEN %'`,
    [database!.name, LISTENER_APPLICATION_NAME],
  );
  assert.ok(rows.length <= 1, `one listening connection at most, not ${rows.length}`);
  return rows[0]?.pid;
}

describe('the PostgreSQL work listener', { skip }, () => {
  before(async () => {
    database = await createTestDatabase('p4p_listen');
    store = await PostgresStore.open({ url: database.url });
    network = await store.createNetwork({ name: 'acme', key: 'key-acme' }, T0);
    admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
  });
  after(async () => {
    await admin?.end();
    await store?.close();
    await database?.drop();
  });

  test('pings and pull URL changes from another store wake it, also after its connection was terminated', async () => {
    let works = 0;
    const changed: number[] = [];
    const listener = WorkListener.start(
      database!.url,
      { onWork: () => (works += 1), onPullUrlChanged: (id) => changed.push(id) },
      pino({ level: 'silent' }),
    );
    try {
      // onWork once per (re)connection, after LISTEN: from then on only notifications call it.
      await waitFor(() => works >= 1, { timeoutMs: DEADLINE_MS, what: 'the listener to connect' });
      const firstBackend = await waitFor(listeningBackend, { timeoutMs: DEADLINE_MS, what: 'the listening backend' });

      let before = works;
      await store!.recordPings(network.id, ['ada'], T0);
      await waitFor(() => works > before, { timeoutMs: DEADLINE_MS, what: 'a ping to wake the listener' });
      await store!.setPullUrlTemplate(network.id, 'https://pull.example/{id}', T0);
      await waitFor(() => changed.length >= 1, { timeoutMs: DEADLINE_MS, what: 'a pull URL change to reach the listener' });
      assert.deepEqual(changed, [network.id]);

      const beforeTermination = works;
      const { rows } = await admin!.query<{ terminated: boolean }>('SELECT pg_terminate_backend($1) AS terminated', [firstBackend]);
      assert.equal(rows[0]?.terminated, true);
      const secondBackend = await waitFor(async () => {
        const pid = await listeningBackend();
        return pid !== undefined && pid !== firstBackend && pid;
      }, { timeoutMs: DEADLINE_MS, what: 'the listener to reconnect' });
      assert.notEqual(secondBackend, firstBackend);
      await waitFor(() => works > beforeTermination, { timeoutMs: DEADLINE_MS, what: 'the wakeup after reconnecting' });

      before = works;
      await store!.recordPings(network.id, ['bob'], T0 + 1);
      await waitFor(() => works > before, { timeoutMs: DEADLINE_MS, what: 'a ping to wake the reconnected listener' });
      await store!.setPullUrlTemplate(network.id, 'https://pull.example/v2/{id}', T0 + 1);
      await waitFor(() => changed.length >= 2, { timeoutMs: DEADLINE_MS, what: 'a pull URL change to reach the reconnected listener' });
      assert.deepEqual(changed, [network.id, network.id]);
    } finally {
      await listener.close();
    }
    await waitFor(async () => (await listeningBackend()) === undefined, { timeoutMs: DEADLINE_MS, what: 'close() to end the listening connection' });
  });
});
