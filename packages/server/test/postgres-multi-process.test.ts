import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildSystemToken } from '../src/tokens/sign-token.js';
import { ChangingUsers, type LedgerPull } from './support/ping-load.js';
import { createNetworkIn, postgresSkip } from './support/postgres.js';
import { serveFleetOnPostgres } from './support/serve-fleet.js';
import { ServeProcess } from './support/serve-process.js';
import { waitFor } from './support/wait-for.js';

/**
 * Three real `p4p serve` processes (the compiled dist/) on one PostgreSQL
 * database, pinged at random as behind a load balancer. One is SIGKILLed
 * mid-run with pulls in flight; the others take its leased pulls over once
 * the leases expire, and nothing acknowledged is lost.
 */

const NETWORK = 'multi.fyre.co';
const PULL_TIMEOUT_MS = 10_000;
// Generous against a loaded machine: a serve whose event loop stalls past its lease could really overlap another's pull.
const LEASE_MARGIN_MS = 3000;

const skip = await postgresSkip();

describe('several p4p serve processes on one PostgreSQL database', { skip }, () => {
  const fleet = serveFleetOnPostgres('p4p_multi');

  test('pings spread over three processes are all pulled, never overlapping, and a killed process loses nothing', async () => {
    const { database, endpoint } = fleet();
    const key = await createNetworkIn(database.url, NETWORK);

    const users = new ChangingUsers(Array.from({ length: 150 }, (_, i) => `user-${i}`));
    // Slow enough answers that the victim holds many pulls when it dies, far below the pull timeout.
    endpoint.behaviour = users.behaviour(() => 300 + Math.random() * 400);

    // Retries wait at least 750 ms: the endpoint runs in this (busy) test process, and a retry right after
    // an aborted pull could be handled before that pull's close event, looking like an overlap.
    const common = [
      '--database', database.url, '--allow-private-targets', '--ping-rate', '0', '--pull-per-network', '64',
      '--pull-timeout-ms', String(PULL_TIMEOUT_MS), '--pull-connect-timeout-ms', '500',
      '--pull-lease-margin-ms', String(LEASE_MARGIN_MS), '--retry-base-ms', '1000', '--retry-max-ms', '2000',
    ];
    // The victim may hold 64 pulls, the survivors 4 each: of 20 pulls in flight, at least 12 are the victim's.
    const victim = await ServeProcess.start([...common, '--pull-concurrency', '64']);
    const survivors = [await ServeProcess.start([...common, '--pull-concurrency', '4']), await ServeProcess.start([...common, '--pull-concurrency', '4'])];
    await victim.registerPullUrl(NETWORK, key, endpoint.template);
    const serves = [victim, ...survivors];

    const sending = users.sendPings(() => serves, NETWORK, key, { count: 2000, concurrency: 16 });
    await waitFor(() => users.acked.length >= 500, { timeoutMs: 60_000, what: '500 acknowledged pings' });
    // Hold the endpoint's answers until 20 pulls are in flight, kill the victim, and let its pulls close with it.
    users.hold();
    await waitFor(() => users.inFlight >= 20, { timeoutMs: 60_000, what: '20 pulls in flight' });
    const heldAtKill = users.inFlight;
    const killedAt = Date.now();
    await victim.kill();
    const cutByKill = (): LedgerPull[] => users.pulls.filter((pull) => pull.answeredAt === null && pull.startedAt < killedAt && (pull.closedAt ?? 0) >= killedAt);
    await waitFor(() => cutByKill().length >= heldAtKill - 8, { what: "the victim's pulls to close" });
    users.release();
    await sending;
    assert.equal(users.acked.length, 2000);

    const token = buildSystemToken(NETWORK, key, 600);
    await users.waitUntilAllStored(survivors[0]!, token, 60_000);
    users.assertEveryAckedPingPulled();
    users.assertNoOverlappingPulls();

    // The victim's pulls died with it; a survivor pulled each user again, once its lease expired.
    const cut = cutByKill();
    assert.ok(cut.length >= heldAtKill - 8, `only ${cut.length} of ${heldAtKill} pulls in flight closed with the victim`);
    for (const pull of cut) {
      const takeover = users.pulls.find((later) => later.userId === pull.userId && later.startedAt > pull.startedAt && later.answeredAt !== null);
      assert.ok(takeover, `${pull.userId}: its pull cut by the kill was never taken over`);
      // The victim had not timed out yet, so it claimed less than a pull timeout before the kill: its lease ran past kill + margin.
      assert.ok(
        takeover.startedAt > killedAt + LEASE_MARGIN_MS,
        `${pull.userId}: taken over ${takeover.startedAt - killedAt} ms after the kill, before its lease can have expired`,
      );
    }

    for (const serve of survivors) serve.signal('SIGTERM');
    for (const serve of survivors) assert.deepEqual(await serve.exited, { code: 0, signal: null }, serve.stderr);
  });
});
