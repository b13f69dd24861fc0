import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openConnection } from '../src/store/sqlite/sqlite-connection.js';
import { migrate } from '../src/store/sqlite/sqlite-migrations.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { ATTEMPTS_KEPT_PER_USER } from '../src/store/store.js';
import { makeTempDir } from './support/temp-dir.js';

const T0 = Date.UTC(2026, 0, 1);

test('closing the store commits the writes still queued, and their callers hear back before it closes', async () => {
  const dir = makeTempDir('p4p-sqlite-close-');
  try {
    const store = SqliteStore.open({ dataDir: dir.path });
    const network = await store.createNetwork({ name: 'acme', key: 'key-acme' }, T0);
    // Not awaited: the pings are still queued for the writer thread when close() is called.
    const pinging = store.recordPings(network.id, ['ada', 'bob'], T0);
    await Promise.all([pinging, store.close()]);

    const reopened = SqliteStore.open({ dataDir: dir.path });
    try {
      assert.equal((await reopened.getUser(network.id, 'ada'))?.sync.state, 'waiting');
      assert.equal((await reopened.getUser(network.id, 'bob'))?.sync.state, 'waiting');
    } finally {
      await reopened.close();
    }
  } finally {
    dir.remove();
  }
});

test('a schema 2 database keeps every attempt and version through migration 3, and later pulls extend the same history', async () => {
  const dir = makeTempDir('p4p-sqlite-migrate-');
  try {
    const old = openConnection(dir.path, 5000);
    migrate(old, 2);
    // Schema 2 as shipped: history found through per-user indexes, rows of two users interleaved.
    old.exec(`
      INSERT INTO networks (id, name, key, pull_url_template, created_at, updated_at)
        VALUES (1, 'acme', 'key-acme', 'https://acme.example.com/users/{id}?lftoken={token}', ${T0}, ${T0});
      INSERT INTO users (network_id, user_id, state, version, profile, updated_at)
        VALUES (1, 'ada', 'idle', 3, '{"id":"ada","display_name":"Ada 3"}', ${T0 + 3}),
               (1, 'bob', 'idle', 1, '{"id":"bob","display_name":"Bob 1"}', ${T0 + 2}),
               (1, 'cy', 'waiting', 0, NULL, NULL),
               (1, 'eve', 'idle', 5, '{"id":"eve","display_name":"Eve 5"}', ${T0 + 5});
      INSERT INTO profile_versions (network_id, user_id, version, profile, changed, created_at) VALUES
        (1, 'ada', 1, '{"id":"ada","display_name":"Ada 1"}', '["display_name"]', ${T0 + 1}),
        (1, 'bob', 1, '{"id":"bob","display_name":"Bob 1"}', '["display_name"]', ${T0 + 2}),
        (1, 'ada', 2, '{"id":"ada","display_name":"Ada 2"}', '["display_name"]', ${T0 + 2}),
        (1, 'ada', 3, '{"id":"ada","display_name":"Ada 3"}', '["display_name"]', ${T0 + 3}),
        -- Versions are consecutive as p4p writes them; a gap must not cut a page short all the same.
        (1, 'eve', 5, '{"id":"eve","display_name":"Eve 5"}', '[]', ${T0 + 5}),
        (1, 'eve', 1, '{"id":"eve","display_name":"Eve 1"}', '[]', ${T0 + 1}),
        (1, 'eve', 3, '{"id":"eve","display_name":"Eve 3"}', '[]', ${T0 + 3}),
        (1, 'eve', 2, '{"id":"eve","display_name":"Eve 2"}', '[]', ${T0 + 2});
      INSERT INTO pull_attempts (network_id, user_id, at, outcome, http_status, duration_ms, message) VALUES
        (1, 'ada', ${T0 + 1}, 'ok', 200, 5, 'ada 1'),
        (1, 'bob', ${T0 + 2}, 'ok', 200, 5, 'bob 1'),
        (1, 'ada', ${T0 + 2}, 'ok', 200, 5, 'ada 2'),
        (1, 'ada', ${T0 + 3}, 'ok', 200, 5, 'ada 3');
    `);
    old.close();

    const store = SqliteStore.open({ dataDir: dir.path });
    try {
      const versionNames = async (userId: string, options: { limit: number; beforeVersion?: number }): Promise<string[]> =>
        (await store.listVersions(1, userId, options)).map((v) => `${v.version}:${v.profile.display_name}`);
      const attemptMessages = async (userId: string): Promise<(string | null)[]> =>
        (await store.listAttempts(1, userId)).map((attempt) => attempt.message);

      assert.deepEqual(await versionNames('ada', { limit: 10 }), ['3:Ada 3', '2:Ada 2', '1:Ada 1']);
      assert.deepEqual(await versionNames('ada', { limit: 1, beforeVersion: 3 }), ['2:Ada 2']);
      assert.deepEqual(await versionNames('bob', { limit: 10 }), ['1:Bob 1']);
      assert.deepEqual(await versionNames('cy', { limit: 10 }), []);
      assert.deepEqual(await versionNames('eve', { limit: 3 }), ['5:Eve 5', '3:Eve 3', '2:Eve 2']);
      assert.deepEqual(await versionNames('eve', { limit: 2, beforeVersion: 5 }), ['3:Eve 3', '2:Eve 2']);
      assert.deepEqual(await attemptMessages('ada'), ['ada 3', 'ada 2', 'ada 1']);
      assert.deepEqual(await attemptMessages('bob'), ['bob 1']);
      assert.deepEqual(await attemptMessages('cy'), []);

      await store.recordPings(1, ['ada'], T0 + 10);
      const claims = await store.claimDue({ now: T0 + 10, limit: 10, perNetworkLimit: 10, leaseMs: 60_000 });
      const adaClaim = claims.find((claim) => claim.userId === 'ada');
      assert.ok(adaClaim);
      const attempt = { at: T0 + 11, outcome: 'ok' as const, httpStatus: 200, durationMs: 5, message: 'ada 4', warnings: [], responseExcerpt: null };
      const newVersion = { profile: { id: 'ada', display_name: 'Ada 4' }, changed: ['display_name'] };
      assert.equal(await store.completePull(adaClaim, { attempt, newVersion, retryAt: null, gaveUp: false }, T0 + 11), true);
      assert.deepEqual(await versionNames('ada', { limit: 2 }), ['4:Ada 4', '3:Ada 3']);
      assert.deepEqual(await attemptMessages('ada'), ['ada 4', 'ada 3', 'ada 2', 'ada 1']);
    } finally {
      await store.close();
    }
  } finally {
    dir.remove();
  }
});

test(`a user's attempts past the ${ATTEMPTS_KEPT_PER_USER} kept are deleted from the file, not only left unlisted`, async () => {
  const dir = makeTempDir('p4p-sqlite-trim-');
  try {
    const store = SqliteStore.open({ dataDir: dir.path });
    const total = ATTEMPTS_KEPT_PER_USER + 5;
    try {
      const network = await store.createNetwork({ name: 'acme', key: 'key-acme' }, T0);
      await store.setPullUrlTemplate(network.id, 'https://acme.example.com/users/{id}?lftoken={token}', T0);
      await store.recordPings(network.id, ['ada', 'bob'], T0);
      for (let i = 1; i <= total; i += 1) {
        const now = T0 + i * 10;
        for (const claimed of await store.claimDue({ now, limit: 10, perNetworkLimit: 10, leaseMs: 60_000 })) {
          // bob succeeds once and is done; ada keeps failing and retrying.
          const failed = claimed.userId === 'ada';
          const attempt = { at: now, outcome: failed ? ('timeout' as const) : ('ok' as const), httpStatus: null, durationMs: 5, message: `${claimed.userId} ${i}`, warnings: [], responseExcerpt: null };
          assert.equal(await store.completePull(claimed, { attempt, newVersion: null, retryAt: failed ? now + 10 : null, gaveUp: false }, now), true);
        }
      }
    } finally {
      await store.close();
    }
    const db = openConnection(dir.path, 5000);
    try {
      const count = (userId: string): number =>
        (db.prepare('SELECT COUNT(*) AS n FROM pull_attempts WHERE user_id = ?').get(userId) as { n: number }).n;
      assert.equal(count('ada'), ATTEMPTS_KEPT_PER_USER);
      assert.equal(count('bob'), 1);
    } finally {
      db.close();
    }
  } finally {
    dir.remove();
  }
});

test('a file from a newer p4p is refused, whether or not this process may migrate', () => {
  const dir = makeTempDir('p4p-sqlite-newer-');
  try {
    const db = openConnection(dir.path, 5000);
    migrate(db);
    db.pragma('user_version = 99');
    db.close();
    for (const refuseUpgrade of [undefined, 'stop the serve first']) {
      assert.throws(
        () => SqliteStore.open({ dataDir: dir.path, ...(refuseUpgrade === undefined ? {} : { refuseUpgrade }) }),
        /cannot use the database in .*: the database schema is version 99, newer than this p4p knows \(\d+\); upgrade p4p$/,
      );
    }
  } finally {
    dir.remove();
  }
});
