import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { sendPing } from '../../src/client/send-ping.js';
import { buildSystemToken } from '../../src/tokens/sign-token.js';
import type { PullBehaviour } from './pull-endpoint.js';
import type { ServeProcess } from './serve-process.js';

/**
 * Load over several `p4p serve` processes, as a customer's identity system
 * behind a load balancer would send it, and the ledger that checks what p4p
 * promised: each user's data changes just before every ping; every ping
 * answered 200 is followed by a pull that started after the ping was sent
 * (the pull then sees the change), pulls of one user never overlap, and each
 * user ends with its latest data stored.
 */

/** One ping answered 200. */
export interface AckedPing {
  userId: string;
  /** Date.now() before the request: the user's data had already changed. */
  sentAt: number;
  /** The data version the ping announced. */
  version: number;
}

/** One request the pull endpoint received. */
export interface LedgerPull {
  userId: string;
  startedAt: number;
  /** When the endpoint finished its answer; null if the connection closed first (the pulling process died). */
  answeredAt: number | null;
  closedAt: number | null;
}

export class ChangingUsers {
  readonly versions = new Map<string, number>();
  readonly pulls: LedgerPull[] = [];
  readonly acked: AckedPing[] = [];
  /** Pulls being answered now. */
  inFlight = 0;
  /** While set, the endpoint holds every answer back until release(). */
  private gate: { opened: Promise<void>; open: () => void } | null = null;

  constructor(readonly userIds: readonly string[]) {
    for (const userId of userIds) this.versions.set(userId, 0);
  }

  /** The display name the endpoint serves for a data version. */
  static displayName(version: number): string {
    return `v${version}`;
  }

  /** The endpoint's behaviour: after `delayMs(userId)`, the user's current data, unless the puller went away. */
  behaviour(delayMs: () => number): PullBehaviour {
    return async (userId, response) => {
      const pull: LedgerPull = { userId, startedAt: Date.now(), answeredAt: null, closedAt: null };
      this.pulls.push(pull);
      this.inFlight += 1;
      response.on('close', () => {
        pull.closedAt = Date.now();
        if (pull.answeredAt === null) this.inFlight -= 1;
      });
      await delay(delayMs());
      await this.gate?.opened;
      if (response.destroyed) return;
      const version = this.versions.get(userId) ?? 0;
      pull.answeredAt = Date.now();
      this.inFlight -= 1;
      response
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ id: userId, display_name: ChangingUsers.displayName(version) }));
    };
  }

  /** From now on the endpoint answers no pull until release(): the pulls in flight stay in flight. */
  hold(): void {
    let open = (): void => undefined;
    const opened = new Promise<void>((resolve) => (open = resolve));
    this.gate = { opened, open };
  }

  release(): void {
    this.gate?.open();
    this.gate = null;
  }

  /**
   * Sends `count` pings for random users to random live serves, `concurrency`
   * at a time. A ping that is refused (503), or whose serve cannot be
   * reached, is sent again, as an identity system retries; only 200s count.
   */
  async sendPings(
    serves: () => readonly ServeProcess[],
    network: string,
    key: string,
    { count, concurrency }: { count: number; concurrency: number },
  ): Promise<void> {
    let remaining = count;
    const lane = async (): Promise<void> => {
      while (remaining > 0) {
        remaining -= 1;
        const userId = this.userIds[Math.floor(Math.random() * this.userIds.length)]!;
        const version = this.versions.get(userId)! + 1;
        this.versions.set(userId, version);
        await this.pingUntilAcked(serves, network, key, userId, version);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, lane));
  }

  private async pingUntilAcked(serves: () => readonly ServeProcess[], network: string, key: string, userId: string, version: number): Promise<void> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const live = serves().filter((serve) => serve.exitedWith === null);
      const serve = live[Math.floor(Math.random() * live.length)];
      assert.ok(serve, 'no serve left to ping');
      const sentAt = Date.now();
      const status = await sendPing(serve.url!, buildSystemToken(network, key, 300), userId).then((answer) => answer.status, () => null);
      if (status === 200) {
        this.acked.push({ userId, sentAt, version });
        return;
      }
      assert.ok(status === null || status === 503, `ping for ${userId} answered ${status}`);
      assert.ok(Date.now() < deadline, `ping for ${userId} still refused after 60 s`);
      await delay(50);
    }
  }

  /** Every acknowledged ping has an answered pull of its user that started after it was sent. */
  assertEveryAckedPingPulled(): void {
    const byUser = this.pullsByUser();
    const unpulled = this.acked.filter(
      (ping) => !(byUser.get(ping.userId) ?? []).some((pull) => pull.answeredAt !== null && pull.startedAt >= ping.sentAt),
    );
    assert.deepEqual(unpulled, [], `${unpulled.length} of ${this.acked.length} acknowledged pings were never followed by a pull`);
  }

  /** No two pulls of one user were at the endpoint at the same time. */
  assertNoOverlappingPulls(): void {
    const overlaps: string[] = [];
    for (const [userId, pulls] of this.pullsByUser()) {
      const sorted = [...pulls].sort((a, b) => a.startedAt - b.startedAt);
      for (let i = 1; i < sorted.length; i += 1) {
        const previous = sorted[i - 1]!;
        const end = previous.answeredAt ?? previous.closedAt;
        if (end === null || sorted[i]!.startedAt < end) overlaps.push(`${userId}: ${JSON.stringify([previous, sorted[i]])}`);
      }
    }
    assert.deepEqual(overlaps, [], 'pulls of one user overlapped');
  }

  pullsByUser(): Map<string, LedgerPull[]> {
    const byUser = new Map<string, LedgerPull[]>();
    for (const pull of this.pulls) {
      const list = byUser.get(pull.userId);
      if (list === undefined) byUser.set(pull.userId, [pull]);
      else list.push(pull);
    }
    return byUser;
  }

  /** Waits until every pinged user reads back idle with its latest data, through `serve`'s read API. */
  async waitUntilAllStored(serve: ServeProcess, token: string, timeoutMs: number): Promise<void> {
    const pending = new Set(this.userIds.filter((userId) => this.versions.get(userId)! > 0));
    const deadline = Date.now() + timeoutMs;
    while (pending.size > 0) {
      for (const userId of [...pending]) {
        const stored = await serve.readProfile(token, userId);
        const expected = ChangingUsers.displayName(this.versions.get(userId)!);
        if (stored?.sync.state === 'idle' && stored.profile?.display_name === expected) pending.delete(userId);
      }
      if (pending.size === 0) return;
      assert.ok(Date.now() < deadline, `${pending.size} users never stored their latest data, e.g. ${[...pending].slice(0, 5).join(', ')}`);
      await delay(200);
    }
  }
}
