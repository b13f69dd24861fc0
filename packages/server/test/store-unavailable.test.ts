import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import Database from 'better-sqlite3';
import { SQLITE_FILE_NAME } from '../src/store/sqlite/sqlite-store.js';
import { PullEndpoint } from './support/pull-endpoint.js';
import { ping, readJson, startHarness, testConfig, type Harness } from './support/p4p-harness.js';
import { waitFor } from './support/wait-for.js';

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

test('a pull result the database refuses backs off like a failed attempt and, at the last attempt, marks the user failed with the cause', async () => {
  const network = await harness.createNetwork({ pullUrl: endpoint.template });
  endpoint.profiles.set('doomed', { id: 'doomed', display_name: 'Doomed' });
  const other = new Database(join(harness.dataDir, SQLITE_FILE_NAME));
  try {
    // A real refusal from the database, not a stand-in: every new version of this user is refused.
    other.exec(`CREATE TRIGGER refuse_doomed BEFORE INSERT ON profile_versions WHEN NEW.user_id = 'doomed'
                BEGIN SELECT RAISE(ABORT, 'refused by a test trigger'); END`);
    assert.equal((await ping(harness, network, 'doomed')).status, 200);
    const failed = await waitFor(async () => {
      const body = (await readJson(harness, network, '/api/v3.0/user/doomed/profile')).body;
      return body.sync?.state === 'failed' && body;
    }, { what: 'doomed to be marked failed' });
    const { maxAttempts } = testConfig(harness.dataDir).retry;
    assert.equal(failed.sync.last_outcome, 'internal_error');
    assert.equal(
      failed.sync.last_message,
      `gave up after ${maxAttempts} attempts: p4p could not run or record this pull (refused by a test trigger); see p4p's log`,
    );
    assert.equal(endpoint.pullsFor('doomed').length, maxAttempts, 'pulled once per attempt, then no more');
  } finally {
    other.exec('DROP TRIGGER IF EXISTS refuse_doomed');
    other.close();
  }
});
