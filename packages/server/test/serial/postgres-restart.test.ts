import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { buildSystemToken } from '../../src/tokens/sign-token.js';
import { ChangingUsers } from '../support/ping-load.js';
import { createNetworkIn, POSTGRES_ADMIN_URL, postgresAnswers, postgresSkip } from '../support/postgres.js';
import { serveFleetOnPostgres } from '../support/serve-fleet.js';
import { ServeProcess } from '../support/serve-process.js';
import { waitFor } from '../support/wait-for.js';

/**
 * PostgreSQL crashes (an immediate stop: no checkpoint, recovery from the
 * WAL at start) under load: the serves answer pings 503 with Retry-After
 * while it is down, recover by themselves once it is back, and lose no
 * acknowledged ping. It stops the shared PostgreSQL server, so it runs alone,
 * after every other test (the `test:serial` step).
 */

const NETWORK = 'restart.fyre.co';
/** 503s with Retry-After the once-only sender must see before PostgreSQL starts again. */
const REFUSALS_WHILE_DOWN = 10;

/** The Debian cluster (pg_lsclusters) serving the tests' PostgreSQL port. */
function localCluster(): { version: string; name: string } {
  const port = new URL(POSTGRES_ADMIN_URL).port || '5432';
  let clusters: { version: number; cluster: string; port: string }[];
  try {
    clusters = JSON.parse(execFileSync('pg_lsclusters', ['--json'], { encoding: 'utf8', timeout: 30_000 })) as typeof clusters;
  } catch (error) {
    throw new Error(`cannot list the PostgreSQL clusters with pg_lsclusters (this test needs a Debian-style local PostgreSQL): ${(error as Error).message}`);
  }
  const cluster = clusters.find((candidate) => String(candidate.port) === port);
  if (cluster === undefined) {
    throw new Error(`no local PostgreSQL cluster serves port ${port} (pg_lsclusters: ${clusters.map((c) => `${c.version}/${c.cluster}:${c.port}`).join(', ') || 'none'})`);
  }
  return { version: String(cluster.version), name: cluster.cluster };
}

function pgCtlCluster(cluster: { version: string; name: string }, action: 'stop' | 'start'): void {
  const mode = action === 'stop' ? ['--mode', 'immediate'] : [];
  execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', cluster.version, cluster.name, action, ...mode], { stdio: 'inherit', timeout: 120_000 });
}

/**
 * Pings users never pinged before, one each, until stopped: unlike the
 * changing users' pings, a lost acknowledged one cannot be hidden by a later
 * ping of the same user. Keeps every answer that is not 200.
 */
class OnceOnlyPings {
  readonly acked: string[] = [];
  /** 503s that carried the store_unavailable code and a Retry-After in seconds. */
  refusedWithRetryAfter = 0;
  private stopped = false;
  private next = 0;
  private failure: unknown = null;
  private readonly lanes: Promise<void>[];

  constructor(serves: readonly ServeProcess[], token: string, concurrency: number) {
    // A lane that fails stops them all; stop() reports why.
    this.lanes = Array.from({ length: concurrency }, () =>
      this.lane(serves, token).catch((error: unknown) => {
        this.failure ??= error;
        this.stopped = true;
      }),
    );
  }

  private async lane(serves: readonly ServeProcess[], token: string): Promise<void> {
    while (!this.stopped) {
      const userId = `once-${this.next++}`;
      const serve = serves[this.next % serves.length]!;
      const response = await serve.request(`/api/v3_0/user/${userId}/refresh`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ lftoken: token }),
      });
      const body = (await response.json()) as { code?: string };
      if (response.status === 200) {
        this.acked.push(userId);
        continue;
      }
      assert.equal(response.status, 503, `${userId}: ${JSON.stringify(body)}`);
      assert.equal(body.code, 'store_unavailable');
      assert.match(response.headers.get('retry-after') ?? '', /^\d+$/, `${userId}: a 503 without Retry-After`);
      this.refusedWithRetryAfter += 1;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.lanes);
    if (this.failure !== null) throw this.failure;
  }
}

const skip = await postgresSkip();

describe('PostgreSQL crashing under load', { skip }, () => {
  const fleet = serveFleetOnPostgres('p4p_restart');

  test('pings answer 503 with Retry-After while PostgreSQL is down, and no acknowledged ping is lost', async () => {
    const { database, endpoint } = fleet();
    const cluster = localCluster();
    const key = await createNetworkIn(database.url, NETWORK);
    const token = buildSystemToken(NETWORK, key, 600);
    const users = new ChangingUsers(Array.from({ length: 50 }, (_, i) => `user-${i}`));
    endpoint.behaviour = users.behaviour(() => 20 + Math.random() * 80);
    const args = ['--database', database.url, '--allow-private-targets', '--ping-rate', '0', '--retry-base-ms', '100', '--retry-max-ms', '1000'];
    const serves = [await ServeProcess.start(args), await ServeProcess.start(args)];
    await serves[0]!.registerPullUrl(NETWORK, key, endpoint.template);

    const sending = users.sendPings(() => serves, NETWORK, key, { count: 1000, concurrency: 8 });
    const once = new OnceOnlyPings(serves, buildSystemToken(NETWORK, key, 300), 4);
    try {
      await waitFor(() => users.acked.length >= 200 && once.acked.length >= 100, { timeoutMs: 60_000, what: 'pings acknowledged before the crash' });
      const ackedBeforeCrash = once.acked.length;
      try {
        pgCtlCluster(cluster, 'stop');
        await waitFor(() => once.refusedWithRetryAfter >= REFUSALS_WHILE_DOWN, { timeoutMs: 60_000, what: `${REFUSALS_WHILE_DOWN} pings refused while PostgreSQL is down` });
      } finally {
        pgCtlCluster(cluster, 'start');
        await waitFor(() => postgresAnswers().then(() => true, () => false), { timeoutMs: 120_000, what: 'PostgreSQL to accept connections again' });
      }
      await waitFor(() => once.acked.length >= ackedBeforeCrash + 100, { timeoutMs: 60_000, what: 'pings acknowledged after recovery' });
    } finally {
      await once.stop();
    }
    await sending;
    assert.equal(users.acked.length, 1000);
    assert.ok(once.refusedWithRetryAfter >= REFUSALS_WHILE_DOWN);

    await users.waitUntilAllStored(serves[0]!, token, 60_000);
    users.assertEveryAckedPingPulled();
    users.assertNoOverlappingPulls();
    const lost: string[] = [];
    for (const userId of once.acked) if ((await serves[1]!.readProfile(token, userId)) === null) lost.push(userId);
    assert.deepEqual(lost, [], `${lost.length} of ${once.acked.length} acknowledged once-only pings were lost in the crash`);

    for (const serve of serves) serve.signal('SIGTERM');
    for (const serve of serves) assert.deepEqual(await serve.exited, { code: 0, signal: null }, serve.stderr);
  });
});
