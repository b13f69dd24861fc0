import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
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
