import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import type { ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { setMaxListeners } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import { after, describe, test } from 'node:test';
import { buildSystemToken } from '../src/tokens/sign-token.js';
import { PullEndpoint, type RecordedPull } from './support/pull-endpoint.js';
import { makeTempDir } from './support/temp-dir.js';
import { waitFor } from './support/wait-for.js';

/**
 * Crash recovery of a real `p4p serve` process (the compiled dist/, so
 * `npm run build` first): a 200 means the ping survives SIGKILL right after
 * the answer, leases of pulls in flight are recovered at the next start, and
 * SIGTERM drains and exits 0 without losing anything.
 */

const BIN = fileURLToPath(new URL('../bin/p4p.js', import.meta.url));

function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('P4P_')) env[name] = value;
  return env;
}

/** A `p4p serve` child process on port 0; `url` comes from its "listening" log line. */
class ServeProcess {
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  url: string | null = null;
  stdout = '';
  stderr = '';
  exitedWith: { code: number | null; signal: NodeJS.Signals | null } | null = null;

  private constructor(private readonly child: ChildProcess) {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout += chunk;
      this.url ??= this.logged('listening')?.url as string | undefined ?? null;
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitedWith = { code, signal };
        running.delete(this);
        resolve(this.exitedWith);
      });
    });
  }

  static async start(args: string[]): Promise<ServeProcess> {
    const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', ...args], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    const serve = new ServeProcess(child);
    running.add(serve);
    await waitFor(() => serve.url ?? (serve.exitedWith !== null && 'exited'), { timeoutMs: 20_000, what: 'p4p serve to listen' });
    if (serve.url === null) throw new Error(`p4p serve exited before listening: ${JSON.stringify(serve.exitedWith)}\n${serve.stderr}`);
    return serve;
  }

  /** The first complete JSON log line with this `event`. */
  logged(event: string): Record<string, unknown> | undefined {
    for (const line of this.stdout.split('\n')) {
      if (!line.includes(`"${event}"`)) continue;
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        if (entry.event === event) return entry;
      } catch {
        // a partial line: the rest is still on its way
      }
    }
    return undefined;
  }

  signal(signal: NodeJS.Signals): void {
    if (this.exitedWith === null) this.child.kill(signal);
  }

  async kill(): Promise<void> {
    this.signal('SIGKILL');
    await this.exited;
  }

  request(path: string, init?: RequestInit): Promise<Response> {
    return fetch(new URL(path, this.url!), init);
  }
}

/** Every serve started by this file, so a failing test cannot leave one running. */
const running = new Set<ServeProcess>();
const tempDirs: Array<{ remove: () => void }> = [];
after(async () => {
  await Promise.all([...running].map((serve) => serve.kill()));
  tempDirs.forEach((temp) => temp.remove());
});

function dataDir(): string {
  const temp = makeTempDir('p4p-crash-');
  tempDirs.push(temp);
  return temp.path;
}

/** `p4p network create NAME --json`; resolves to the key. */
function createNetwork(data: string, name: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [BIN, 'network', 'create', name, '--json', '--data', data], { env: cleanEnv(), timeout: 20_000 }, (error, stdout, stderr) => {
      if (error !== null) reject(new Error(`p4p network create failed: ${String(stderr)}`, { cause: error }));
      else resolve((JSON.parse(String(stdout)) as { key: string }).key);
    });
  });
}

/** Registers the endpoint as the network's pull URL the way setUserSyncUrl does: form-encoded POST /, 204. */
async function registerPullUrl(serve: ServeProcess, name: string, key: string, endpoint: PullEndpoint): Promise<void> {
  const response = await serve.request('/', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ actor_token: buildSystemToken(name, key, 600), pull_profile_url: endpoint.template }),
  });
  assert.equal(response.status, 204, await response.text());
}

async function sendPing(serve: ServeProcess, token: string, userId: string): Promise<number> {
  const response = await serve.request(`/api/v3_0/user/${userId}/refresh`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ lftoken: token }),
  });
  await response.arrayBuffer();
  return response.status;
}

interface StoredUser {
  profile: { id: string; display_name: string } | null;
  version: number;
  sync: { state: string; last_outcome: string | null; attempts: number };
}

async function readProfile(serve: ServeProcess, token: string, userId: string): Promise<StoredUser | null> {
  const response = await serve.request(`/api/v3.0/user/${userId}/profile`, { headers: { authorization: `Bearer ${token}` } });
  const body = (await response.json()) as StoredUser;
  return response.status === 200 ? body : null;
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
          const stored = await readProfile(serve, token, userId);
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
    const data = dataDir();
    const identity = new SlowIdentitySystem(await PullEndpoint.start(), 200);
    const network = 'crash.fyre.co';
    let first: ServeProcess | undefined;
    let second: ServeProcess | undefined;
    try {
      const key = await createNetwork(data, network);
      first = await ServeProcess.start(['--allow-private-targets', '--data', data]);
      await registerPullUrl(first, network, key, identity.endpoint);
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
    const data = dataDir();
    const identity = new SlowIdentitySystem(await PullEndpoint.start(), 0);
    identity.hold();
    const network = 'drain.fyre.co';
    const args = ['--allow-private-targets', '--data', data, '--pull-concurrency', '1', '--pull-per-network', '1'];
    let first: ServeProcess | undefined;
    let second: ServeProcess | undefined;
    try {
      const key = await createNetwork(data, network);
      first = await ServeProcess.start(args);
      await registerPullUrl(first, network, key, identity.endpoint);
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
    const data = dataDir();
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
      await registerPullUrl(first, network, key, identity.endpoint);
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
