import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { setMaxListeners } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import { after, describe, test } from 'node:test';
import { buildSystemToken } from '../src/tokens/sign-token.js';
import { PullEndpoint, type RecordedPull } from './support/pull-endpoint.js';
import { createNetwork } from './support/run-cli.js';
import { ServeProcess, type StoredUser } from './support/serve-process.js';
import { TempDirs } from './support/temp-dir.js';
import { waitFor } from './support/wait-for.js';

/**
 * Crash recovery of a real `p4p serve` process (the compiled dist/, so
 * `npm run build` first): a 200 means the ping survives SIGKILL right after
 * the answer, leases of pulls in flight are recovered at the next start, and
 * SIGTERM drains and exits 0 without losing anything.
 */

/** A data directory per test; every serve started is killed and every directory removed after the file. */
const dataDirs = new TempDirs('p4p-crash-');
after(async () => {
  await ServeProcess.killAll();
  dataDirs.removeAll();
});

async function sendPing(serve: ServeProcess, token: string, userId: string): Promise<number> {
  const response = await serve.request(`/api/v3_0/user/${userId}/refresh`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ lftoken: token }),
  });
  await response.arrayBuffer();
  return response.status;
}

/** Runs `jobs` with at most `concurrency` at once. */
async function inParallel<T>(items: readonly T[], concurrency: number, job: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) await job(items[next++]!);
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
}

/** Waits until every user reads back idle with `expected(userId)` as display_name; returns the last reads. */
async function waitUntilStored(
  serve: ServeProcess,
  token: string,
  userIds: readonly string[],
  expected: (userId: string) => string,
): Promise<Map<string, StoredUser | null>> {
  const reads = new Map<string, StoredUser | null>();
  const pending = new Set(userIds);
  try {
    await waitFor(
      async () => {
        await inParallel([...pending], 20, async (userId) => {
          const stored = await serve.readProfile(token, userId);
          reads.set(userId, stored);
          if (stored?.sync.state === 'idle' && stored.profile?.display_name === expected(userId)) pending.delete(userId);
        });
        return pending.size === 0;
      },
      { timeoutMs: 30_000, what: 'every acknowledged user to be pulled and stored' },
    );
  } catch (error) {
    const sample = [...pending].slice(0, 5).map((userId) => `${userId}: ${JSON.stringify(reads.get(userId))}`);
    throw new Error(`${pending.size} of ${userIds.length} users not stored; e.g.\n${sample.join('\n')}`, { cause: error });
  }
  return reads;
}

/**
 * A pull endpoint whose users' profiles change over time: each pull answers
 * with the value the user had when the request arrived, after holding the
 * answer for `holdMs`, or from hold() until release(), so pulls stay in flight.
 */
class SlowIdentitySystem {
  readonly values = new Map<string, string>();
  /** What each pull was (or would have been) answered with, and whether the answer was written completely. */
  readonly served = new WeakMap<RecordedPull, { value: string; answered: boolean }>();
  private readonly abort = new AbortController();
  private gate: { promise: Promise<void>; open: () => void } | null = null;

  constructor(readonly endpoint: PullEndpoint, private readonly holdMs: number) {
    setMaxListeners(0, this.abort.signal);
    endpoint.behaviour = (userId, response, pull) => this.answer(userId, response, pull);
  }

  /** Holds every answer from now on until release(). */
  hold(): void {
    let open!: () => void;
    const promise = new Promise<void>((resolve) => (open = resolve));
    this.gate = { promise, open };
  }

  release(): void {
    this.gate?.open();
    this.gate = null;
  }

  private async answer(userId: string, response: ServerResponse, pull: RecordedPull): Promise<void> {
    const value = this.values.get(userId);
    if (value === undefined) {
      response.writeHead(404).end();
      return;
    }
    const record = { value, answered: false };
    this.served.set(pull, record);
    if (this.gate !== null) await Promise.race([this.gate.promise, delay(60_000, undefined, { signal: this.abort.signal })]);
    else if (this.holdMs > 0) await delay(this.holdMs, undefined, { signal: this.abort.signal });
    if (response.destroyed) return;
    response.on('finish', () => (record.answered = true));
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: userId, display_name: value }));
  }

  async close(): Promise<void> {
    this.abort.abort();
    this.release();
    await this.endpoint.close();
  }
}

describe('crash recovery', () => {
  test('SIGKILL right after the last 200: after a restart every acknowledged ping has been pulled and stored', async () => {
    const data = dataDirs.make();
    const identity = new SlowIdentitySystem(await PullEndpoint.start(), 200);
    const network = 'crash.fyre.co';
    let first: ServeProcess | undefined;
    let second: ServeProcess | undefined;
    try {
      const key = await createNetwork(data, network);
      first = await ServeProcess.start(['--allow-private-targets', '--data', data]);
      await first.registerPullUrl(network, key, identity.endpoint.template);
      const token = buildSystemToken(network, key, 600);

      // Two rounds over 200 users: the second round finds users waiting, in flight
      // (dirty) and already pulled. Each ping changes the user's value first, as
      // an identity system does, so a stored value tells which pings it covers.
      const userIds = Array.from({ length: 200 }, (_, i) => `user-${String(i).padStart(3, '0')}`);
      const pings = [1, 2].flatMap((round) => userIds.map((userId) => ({ userId, round, sentAt: 0, ackAt: 0, status: 0 })));
      let acknowledged = 0;
      let killedAt = 0;
      const serve = first;
      const sendRound = (round: number) =>
        inParallel(pings.filter((p) => p.round === round), 20, async (ping) => {
          identity.values.set(ping.userId, `${ping.userId} round ${ping.round}`);
          ping.sentAt = Date.now();
          ping.status = await sendPing(serve, token, ping.userId).catch(() => -1);
          ping.ackAt = Date.now();
          if (ping.status === 200 && ++acknowledged === pings.length) {
            serve.signal('SIGKILL');
            killedAt = Date.now();
          }
        });
      await sendRound(1);
      await sendRound(2);
      assert.deepEqual(pings.filter((p) => p.status !== 200), [], 'every ping is answered 200');
      assert.equal((await first.exited).signal, 'SIGKILL');

      // The crash must have cut into the work, or this test proves nothing.
      const answeredAtKill = (userId: string) =>
        identity.endpoint
          .pullsFor(userId)
          .some((pull) => identity.served.get(pull)?.value === `${userId} round 2` && identity.served.get(pull)?.answered && pull.finishedAt! <= killedAt);
      const storedAtKill = userIds.filter(answeredAtKill).length;
      const inFlightAtKill = identity.endpoint.pulls.filter((pull) => pull.startedAt <= killedAt && (pull.finishedAt === null || pull.finishedAt >= killedAt)).length;
      assert.ok(storedAtKill < userIds.length, `all ${userIds.length} users were already pulled before the kill; nothing was at stake`);

      second = await ServeProcess.start(['--allow-private-targets', '--data', data]);
      const reads = await waitUntilStored(second, token, userIds, (userId) => `${userId} round 2`);
      for (const [userId, stored] of reads) {
        assert.ok(stored !== null && stored.version >= 1, `${userId} has a stored version`);
        assert.equal(stored.sync.state, 'idle', userId);
      }

      // For every acknowledged ping, a pull that started after it was answered
      // completely. (The client can only bound the acknowledgement from below by
      // the moment it sent the ping: the server acknowledges at its commit, and a
      // pull may legitimately start before the 200 reaches the client.)
      const uncovered = pings.filter(
        (ping) => !identity.endpoint.pullsFor(ping.userId).some((pull) => pull.startedAt >= ping.sentAt && identity.served.get(pull)?.answered),
      );
      assert.deepEqual(uncovered.map((p) => `${p.userId} round ${p.round}`), [], 'acknowledged pings without a later pull');

      // Pulls for one user never overlap, across the crash too.
      for (const userId of userIds) {
        const pulls = identity.endpoint.pullsFor(userId).sort((a, b) => a.startedAt - b.startedAt);
        for (let i = 1; i < pulls.length; i++) {
          assert.ok(pulls[i]!.startedAt >= pulls[i - 1]!.finishedAt!, `pulls of ${userId} overlap`);
        }
      }
      if (inFlightAtKill > 0) assert.ok(second.logged('recovered'), 'the restart logs the pulls it requeued');
      const diagnostics = { storedAtKill, inFlightAtKill, pulls: identity.endpoint.pulls.length };
      assert.ok(diagnostics.pulls >= userIds.length, JSON.stringify(diagnostics));
    } finally {
      await first?.kill();
      await second?.kill();
      await identity.close();
    }
  });

  test('SIGTERM drains: a pull in flight finishes, the process exits 0, and the queue survives the restart', async () => {
    const data = dataDirs.make();
    const identity = new SlowIdentitySystem(await PullEndpoint.start(), 0);
    identity.hold();
    const network = 'drain.fyre.co';
    const args = ['--allow-private-targets', '--data', data, '--pull-concurrency', '1', '--pull-per-network', '1'];
    let first: ServeProcess | undefined;
    let second: ServeProcess | undefined;
    try {
      const key = await createNetwork(data, network);
      first = await ServeProcess.start(args);
      await first.registerPullUrl(network, key, identity.endpoint.template);
      const token = buildSystemToken(network, key, 600);
      const userIds = ['ada', 'grace', 'linus'];
      for (const userId of userIds) {
        identity.values.set(userId, `${userId} v1`);
        assert.equal(await sendPing(first, token, userId), 200);
      }
      const held = await waitFor(() => identity.endpoint.pulls[0], { what: 'a pull in flight' });

      first.signal('SIGTERM');
      const serve = first;
      await waitFor(() => serve.logged('stopping'), { what: 'p4p to start draining' });
      assert.equal(first.exitedWith, null, 'p4p waits for the pull in flight');
      // Draining stops taking pings: refused, or (if still answered 200) durable like any other.
      identity.values.set('late', 'late v1');
      const late = await sendPing(first, token, 'late').catch(() => -1);
      assert.ok([-1, 503, 200].includes(late), `a ping while draining: ${late}`);
      if (late === 200) userIds.push('late');
      identity.release();
      assert.deepEqual(await first.exited, { code: 0, signal: null }, `stderr: ${first.stderr}`);
      assert.ok(first.logged('stopped'));
      assert.equal(identity.endpoint.pulls.length, 1, 'no pull starts once draining');
      assert.ok(identity.served.get(held)?.answered);

      second = await ServeProcess.start(args);
      await waitUntilStored(second, token, userIds, (userId) => `${userId} v1`);
      assert.equal(identity.endpoint.pullsFor(held.userId).length, 1, `the drained pull of ${held.userId} was stored, not repeated`);
    } finally {
      await first?.kill();
      await second?.kill();
      await identity.close();
    }
  });

  test('SIGTERM with a pull that does not finish in time: exits 0 within the pull timeout, and the user is pulled after a restart', async () => {
    const data = dataDirs.make();
    const identity = new SlowIdentitySystem(await PullEndpoint.start(), 0);
    identity.hold();
    const network = 'stuck.fyre.co';
    const args = [
      '--allow-private-targets', '--data', data, '--pull-timeout-ms', '1500', '--pull-connect-timeout-ms', '1000',
      '--retry-base-ms', '50', '--retry-max-ms', '200',
    ];
    let first: ServeProcess | undefined;
    let second: ServeProcess | undefined;
    try {
      const key = await createNetwork(data, network);
      first = await ServeProcess.start(args);
      await first.registerPullUrl(network, key, identity.endpoint.template);
      const token = buildSystemToken(network, key, 600);
      identity.values.set('ada', 'ada v1');
      assert.equal(await sendPing(first, token, 'ada'), 200);
      await waitFor(() => identity.endpoint.pulls[0], { what: 'a pull in flight' });

      const signalledAt = Date.now();
      first.signal('SIGTERM');
      assert.deepEqual(await first.exited, { code: 0, signal: null }, `stderr: ${first.stderr}`);
      assert.ok(Date.now() - signalledAt < 10_000, 'the drain is bounded by the pull timeout');

      identity.release();
      second = await ServeProcess.start(args);
      const reads = await waitUntilStored(second, token, ['ada'], () => 'ada v1');
      assert.equal(reads.get('ada')?.version, 1);
    } finally {
      await first?.kill();
      await second?.kill();
      await identity.close();
    }
  });
});
