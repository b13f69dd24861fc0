import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import Database from 'better-sqlite3';
import { SQLITE_FILE_NAME } from '../src/store/sqlite/sqlite-store.js';
import { PullEndpoint } from './support/pull-endpoint.js';
import { ping, startHarness, type Harness } from './support/p4p-harness.js';

let harness: Harness;
let endpoint: PullEndpoint;
before(async () => {
  harness = await startHarness();
  endpoint = await PullEndpoint.start();
});
after(async () => {
  await harness.close();
  await endpoint.close();
});

test('a ping while the database is locked by another process answers 503 store_unavailable with Retry-After, and nothing is lost after', async () => {
  const network = await harness.createNetwork({ pullUrl: endpoint.template });
  const other = new Database(join(harness.dataDir, SQLITE_FILE_NAME));
  try {
    other.exec('BEGIN EXCLUSIVE');
    const refused = await ping(harness, network, 'ada');
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get('retry-after'), '1');
    assert.equal(((await refused.json()) as { code: string }).code, 'store_unavailable');
  } finally {
    other.exec('ROLLBACK');
    other.close();
  }
  assert.equal((await ping(harness, network, 'ada')).status, 200);
});
