import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { sendPing } from '../src/client/send-ping.js';
import { buildSystemToken } from '../src/tokens/sign-token.js';
import { parseToken, verifyToken } from '../src/tokens/verify-token.js';
import { SCHEMA_VERSION } from '../src/store/postgres/postgres-migrations.js';
import { createNetworkIn, createTestDatabase, postgresSkip, type TestDatabase } from './support/postgres.js';
import { PullEndpoint } from './support/pull-endpoint.js';
import { runCli } from './support/run-cli.js';
import { ServeProcess } from './support/serve-process.js';
import { waitFor } from './support/wait-for.js';

/**
 * The command line on PostgreSQL (the compiled dist/): `p4p migrate`, the
 * store commands with --database or P4P_DATABASE_URL, and `serve --role`
 * splitting the API from the pull workers.
 */

const skip = await postgresSkip();
const databases: TestDatabase[] = [];

async function freshDatabase(): Promise<TestDatabase> {
  const database = await createTestDatabase('p4p_serve');
  databases.push(database);
  return database;
}

describe('p4p on PostgreSQL', { skip }, () => {
  after(async () => {
    await ServeProcess.killAll();
    await Promise.all(databases.map((database) => database.drop()));
  });

  test('p4p migrate run by four processes at once applies each migration exactly once', async () => {
    const { url } = await freshDatabase();
    const runs = await Promise.all(Array.from({ length: 4 }, () => runCli(['migrate', '--database', url])));
    for (const run of runs) assert.equal(run.code, 0, run.stderr);
    const outputs = runs.map((run) => run.stdout.trim()).sort();
    const all = Array.from({ length: SCHEMA_VERSION }, (_, index) => index + 1).join(', ');
    assert.deepEqual(outputs, [
      `schema version ${SCHEMA_VERSION} (applied ${all})`,
      ...Array(3).fill(`schema version ${SCHEMA_VERSION} (nothing to apply)`),
    ]);
  });

  test('network create, list, rotate-key and token system work with --database and with P4P_DATABASE_URL', async () => {
    const { url } = await freshDatabase();
    const created = await runCli(['network', 'create', 'pg.fyre.co', '--json', '--owner', 'ops'], { P4P_DATABASE_URL: url });
    assert.equal(created.code, 0, created.stderr);
    const { key } = JSON.parse(created.stdout) as { key: string };
    const listed = await runCli(['network', 'list', '--json', '--database', url]);
    assert.deepEqual(JSON.parse(listed.stdout), [{ name: 'pg.fyre.co', pull_profile_url: null, owners: ['ops'], previous_key_verifies: false }]);
    const token = await runCli(['token', 'system', '--network', 'pg.fyre.co', '--database', url]);
    assert.equal(token.code, 0, token.stderr);
    const parsed = parseToken(token.stdout.trim());
    assert.ok(parsed.ok, `not a token: ${JSON.stringify(parsed)}`);
    assert.ok(verifyToken(parsed, { keys: [key], networkName: 'pg.fyre.co', nowMs: Date.now() }).ok, 'signed with the stored key');
    const rotated = await runCli(['network', 'rotate-key', 'pg.fyre.co', '--json', '--database', url]);
    assert.equal(rotated.code, 0, rotated.stderr);
    const rotating = await runCli(['network', 'list', '--json', '--database', url]);
    assert.equal((JSON.parse(rotating.stdout) as Array<{ previous_key_verifies: boolean }>)[0]?.previous_key_verifies, true);
    const duplicate = await runCli(['network', 'create', 'pg.fyre.co', '--database', url]);
    assert.equal(duplicate.code, 1);
    assert.match(duplicate.stderr, /network pg\.fyre\.co already exists in postgres:\/\/postgres@127\.0\.0\.1:5432\/p4p_serve_/);
  });

  test('an unreachable database is refused with one line saying what to check, and no password is shown', async () => {
    const run = await runCli(['network', 'list', '--database', 'postgres://postgres:s3cret@127.0.0.1:1/p4p']);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^p4p: cannot use the database at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/p4p: the database is unavailable: .*--database/);
    assert.doesNotMatch(run.stderr, /s3cret/);
    const inQuery = await runCli(['network', 'list', '--database', 'postgres://postgres@127.0.0.1:1/p4p?password=s3cret&application_name=x']);
    assert.equal(inQuery.code, 1);
    assert.match(inQuery.stderr, /^p4p: cannot use the database at postgres:\/\/postgres@127\.0\.0\.1:1\/p4p\?password=\*\*\*&application_name=x: /);
    assert.doesNotMatch(inQuery.stderr, /s3cret/);
    const serve = await runCli(['serve', '--port', '0', '--database', 'postgres://postgres@127.0.0.1:1/p4p']);
    assert.equal(serve.code, 1);
    assert.match(serve.stderr, /cannot start: the database is unavailable: .*is PostgreSQL at postgres:\/\/postgres@127\.0\.0\.1:1\/p4p running\?/);
  });

  test('an api process takes the pings and a worker process pulls them, woken through the database', async () => {
    const { url } = await freshDatabase();
    const key = await createNetworkIn(url, 'roles.fyre.co');
    const endpoint = await PullEndpoint.start();
    try {
      endpoint.profiles.set('ada', { id: 'ada', display_name: 'Ada' });
      const api = await ServeProcess.start(['--database', url, '--role', 'api', '--allow-private-targets']);
      const worker = await ServeProcess.start(['--database', url, '--role', 'worker', '--allow-private-targets']);
      await api.registerPullUrl('roles.fyre.co', key, endpoint.template);

      const health = await worker.request('/healthz');
      assert.deepEqual([health.status, await health.json()], [200, { status: 'ok' }]);
      const notServed = await worker.request('/api/v3_0/user/ada/refresh', { method: 'POST' });
      await notServed.arrayBuffer();
      assert.equal(notServed.status, 404, 'a worker does not take pings');

      const token = buildSystemToken('roles.fyre.co', key, 600);
      assert.equal((await sendPing(api.url!, token, 'ada')).status, 200);
      const stored = await waitFor(async () => {
        const user = await api.readProfile(token, 'ada');
        return user?.sync.state === 'idle' && user;
      }, { what: 'ada to be pulled by the worker' });
      assert.equal(stored.profile?.display_name, 'Ada');
      assert.equal(endpoint.pullsFor('ada').length, 1);

      for (const serve of [api, worker]) serve.signal('SIGTERM');
      for (const serve of [api, worker]) assert.deepEqual(await serve.exited, { code: 0, signal: null }, serve.stderr);
    } finally {
      await endpoint.close();
    }
  });
});
