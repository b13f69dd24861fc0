import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { sendPing } from '../../src/client/send-ping.js';
import { buildSystemToken } from '../../src/tokens/sign-token.js';
import { ChangingUsers } from '../support/ping-load.js';
import { createNetworkIn, createTestDatabase, postgresSkip, type TestDatabase } from '../support/postgres.js';
import { PullEndpoint } from '../support/pull-endpoint.js';
import { ServeProcess } from '../support/serve-process.js';
import { waitFor } from '../support/wait-for.js';

/**
 * PostgreSQL stops and starts again under load: the serves answer pings 503
 * with Retry-After while it is down, recover by themselves once it is back,
 * and lose no acknowledged ping. It stops the shared PostgreSQL server, so it
 * runs alone, after every other test (see the `test` script).
 */

const NETWORK = 'restart.fyre.co';

/** Runs pg_ctlcluster on the local cluster (Debian layout: /etc/postgresql/VERSION/main). */
function pgCluster(action: 'stop' | 'start'): void {
  const [version] = readdirSync('/etc/postgresql');
  assert.ok(version, 'no PostgreSQL cluster under /etc/postgresql');
  execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', action, ...(action === 'stop' ? ['--mode', 'fast'] : [])], {
    stdio: 'inherit',
    timeout: 60_000,
  });
}

const skip = await postgresSkip();
let database: TestDatabase | undefined;
let endpoint: PullEndpoint | undefined;

describe('PostgreSQL restarting under load', { skip }, () => {
  before(async () => {
    database = await createTestDatabase('p4p_restart');
    endpoint = await PullEndpoint.start();
  });
  after(async () => {
    await ServeProcess.killAll();
    await endpoint?.close();
    await database?.drop();
  });

  test('pings answer 503 with Retry-After while PostgreSQL is down, and no acknowledged ping is lost', async () => {
    const key = await createNetworkIn(database!.url, NETWORK);
    const users = new ChangingUsers(Array.from({ length: 50 }, (_, i) => `user-${i}`));
    endpoint!.behaviour = users.behaviour(() => 20 + Math.random() * 80);
    const args = ['--database', database!.url, '--allow-private-targets', '--ping-rate', '0', '--retry-base-ms', '100', '--retry-max-ms', '1000'];
    const serves = [await ServeProcess.start(args), await ServeProcess.start(args)];
    await serves[0]!.registerPullUrl(NETWORK, key, endpoint!.template);

    const sending = users.sendPings(() => serves, NETWORK, key, { count: 1000, concurrency: 8 });
    await waitFor(() => users.acked.length >= 200, { timeoutMs: 60_000, what: '200 acknowledged pings' });
    try {
      pgCluster('stop');
      const refused = await sendPing(serves[0]!.url!, NETWORK, key, 'user-0');
      assert.equal(refused.status, 503);
      assert.equal(refused.body?.code, 'store_unavailable');
      const response = await serves[1]!.request('/api/v3_0/user/user-1/refresh', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ lftoken: buildSystemToken(NETWORK, key, 300) }),
      });
      assert.equal(response.status, 503);
      assert.match(response.headers.get('retry-after') ?? '', /^\d+$/);
    } finally {
      pgCluster('start');
    }
    await sending;
    assert.equal(users.acked.length, 1000);

    await users.waitUntilAllStored(serves[0]!, buildSystemToken(NETWORK, key, 600), 60_000);
    users.assertEveryAckedPingPulled();
    users.assertNoOverlappingPulls();
    for (const serve of serves) serve.signal('SIGTERM');
    for (const serve of serves) assert.deepEqual(await serve.exited, { code: 0, signal: null }, serve.stderr);
  });
});
