import { setTimeout as sleep } from 'node:timers/promises';
import type { Network } from 'p4p-sdk';

/** What p4p's read API answers for a user (`GET /api/v3.0/user/{id}/profile`, docs/api.md), the fields the demo shows. */
export interface StoredUser {
  profile: { display_name: string; [field: string]: unknown } | null;
  version: number;
  sync: { state: string; last_pull_at: string | null; last_outcome: string | null; last_message: string | null };
}

/** How long the demo waits for p4p to pull an edit before showing the page anyway, in ms. */
const PULL_WAIT_MS = 5000;
const POLL_MS = 10;

/**
 * The demo's window on p4p: what p4p has stored for a user, read through
 * p4p's public read API with the network's system token, as Studio or an app would.
 */
export class P4pView {
  constructor(
    private readonly p4pUrl: string,
    private readonly network: Network,
  ) {}

  /** The stored user, or null when p4p has never been pinged for it. */
  async read(userId: string): Promise<StoredUser | null> {
    const response = await fetch(`${this.p4pUrl}/api/v3.0/user/${encodeURIComponent(userId)}/profile`, {
      headers: { authorization: `Bearer ${this.network.buildLivefyreToken()}` },
    });
    if (response.status === 404) return null;
    if (!response.ok) throw new Error(`p4p's read API answered ${response.status}: ${await response.text()}`);
    return (await response.json()) as StoredUser;
  }

  /**
   * Pings p4p for `userId` (Network.syncUser) and waits for the pull that
   * follows; says how it went, e.g. "ping → pull → stored as version 3 in 12 ms".
   */
  async syncAndWait(userId: string): Promise<string> {
    const pingedAtMs = Date.now();
    try {
      await this.network.syncUser(userId);
    } catch (error) {
      return `the ping to p4p failed: ${(error as Error).message}`;
    }
    return `ping → pull → ${await this.waitForPull(userId, pingedAtMs)}`;
  }

  /**
   * Waits until a pull of `userId` that started at or after `pingedAtMs` has
   * ended, and says how it ended, e.g. "stored as version 3 in 12 ms".
   */
  private async waitForPull(userId: string, pingedAtMs: number): Promise<string> {
    const deadline = pingedAtMs + PULL_WAIT_MS;
    while (Date.now() < deadline) {
      const user = await this.read(userId);
      if (user !== null && pullEndedSince(user, pingedAtMs)) {
        const took = `in ${Date.now() - pingedAtMs} ms`;
        if (user.sync.last_outcome === 'ok') return `stored as version ${user.version} ${took}`;
        if (user.sync.last_outcome === 'unchanged') return `unchanged since version ${user.version} ${took}`;
        return `${user.sync.last_outcome}: ${user.sync.last_message}`;
      }
      await sleep(POLL_MS);
    }
    return `not pulled within ${PULL_WAIT_MS} ms; see p4p's log`;
  }
}

function pullEndedSince(user: StoredUser, sinceMs: number): boolean {
  const { last_pull_at: pulledAt, state } = user.sync;
  return pulledAt !== null && Date.parse(pulledAt) >= sinceMs && (state === 'idle' || state === 'failed');
}
