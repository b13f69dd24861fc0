import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import { PullCancellation } from '../pull/pull-cancellation.js';
import type { PullClient } from '../pull/pull-client.js';
import { StoreUnavailableError, type ClaimedPull, type Store } from '../store/store.js';
import { EndpointBreaker } from './endpoint-breaker.js';
import type { ProfileChanges } from './profile-changes.js';
import { nextRetryAt, type RetryPolicy } from './retry-policy.js';
import { runPull, type PullRunContext } from './run-pull.js';
import { SystemTokens } from './system-tokens.js';
import { Wakeup } from './wakeup.js';

export interface PullWorkerOptions {
  store: Store;
  client: PullClient;
  log: Logger;
  changes: ProfileChanges;
  retryPolicy: RetryPolicy;
  breaker?: EndpointBreaker;
  /** Pull requests out at once from this process (a pull whose answer is being recorded no longer counts). */
  concurrency: number;
  /** Pulls in flight per network. */
  perNetworkConcurrency: number;
  /** How long a claimed pull stays leased, in ms; longer than any pull can take. */
  leaseMs: number;
  /** Lifetime of the lftoken sent with a pull, in seconds. */
  tokenTtlSeconds: number;
  now?: () => number;
}

/** Longest sleep between two looks at the queue, in ms: a safety net, wakes normally come from notify(). */
const MAX_IDLE_MS = 5000;
/** Pause after a failed claim (e.g. the database is busy), in ms. */
const CLAIM_FAILURE_PAUSE_MS = 1000;
/** A pull still running this long before its lease ends is cancelled, in ms (lease margins are at least 1 s). */
const LEASE_END_GUARD_MS = 500;
/** Longest pause between two tries to record a finished pull while the database is unavailable, in ms. */
const RECORD_RETRY_MAX_MS = 2000;
/** Longest a free slot waits for more to free up before the free ones are refilled, in ms (on performance.now(): only pacing). */
const REFILL_WAIT_MS = 5;

/**
 * The pull loop: claim due pulls up to the concurrency limits, run each
 * (sign, fetch, validate), record the outcome, and sleep until the next pull
 * is due or notify() says a ping arrived. Slots freed by finishing pulls are
 * refilled together (once a quarter of the slots is free, or a few ms after
 * the first of them freed up), so a busy loop claims in batches rather than
 * once per pull. Every claimed pull ends in completePull or in a lease
 * release, whatever happens.
 */
export class PullWorker {
  /** Every claimed pull until it is recorded or released (what stop() drains). */
  private readonly inFlight = new Map<string, { done: Promise<void>; cancellation: PullCancellation }>();
  /**
   * Pulls whose request is still out: the concurrency limit counts these.
   * A slot frees up once the answer's completion is queued to the store, so
   * waiting for the commit does not hold back the next pull; the claim that
   * refills the slot already counts the finished pull as out of flight
   * (Store.claimDue), so the per-network limit counts requests out.
   */
  private fetching = 0;
  private readonly wakeup = new Wakeup();
  private readonly breaker: EndpointBreaker;
  private readonly now: () => number;
  private readonly runContext: PullRunContext;
  private running: Promise<void> | null = null;
  private stopping = false;
  /** Free slots worth a claim of their own: finished pulls share a claim instead of one each. */
  private readonly refillBatch: number;
  /** When the free slots not yet refilled started to free up (performance.now()); null when none is waiting. */
  private freeSince: number | null = null;

  constructor(private readonly options: PullWorkerOptions) {
    this.breaker = options.breaker ?? new EndpointBreaker();
    this.now = options.now ?? Date.now;
    this.runContext = { ...options, tokens: new SystemTokens(options.tokenTtlSeconds), now: this.now };
    this.refillBatch = Math.max(1, Math.floor(options.concurrency / 4));
  }

  start(): void {
    this.running ??= this.loop();
  }

  /** Work may be due now (a ping was recorded). */
  notify(): void {
    this.wakeup.wake();
  }

  /** A network's pull URL changed: its endpoint's past failures no longer count. */
  pullUrlChanged(networkId: number): void {
    this.breaker.reset(networkId);
    this.wakeup.wake();
  }

  /** Stops claiming, lets pulls in flight finish for up to `drainMs`, then cancels the rest and releases their leases. */
  async stop(drainMs: number): Promise<void> {
    this.stopping = true;
    this.wakeup.wake();
    await this.running;
    const pending = [...this.inFlight.values()];
    const deadline = setTimeout(() => pending.forEach((pull) => pull.cancellation.cancel()), drainMs);
    await Promise.all(pending.map((pull) => pull.done));
    clearTimeout(deadline);
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      const free = this.options.concurrency - this.fetching;
      if (free > 0 && free < this.refillBatch) {
        this.freeSince ??= performance.now();
        const refillWaitMs = this.freeSince + REFILL_WAIT_MS - performance.now();
        if (refillWaitMs > 0) {
          await this.wakeup.sleep(refillWaitMs);
          continue;
        }
      }
      this.freeSince = null;
      let claimed: ClaimedPull[] = [];
      if (free > 0) {
        const claimedAt = this.now();
        try {
          claimed = await this.options.store.claimDue({
            now: claimedAt,
            limit: free,
            perNetworkLimit: this.options.perNetworkConcurrency,
            leaseMs: this.options.leaseMs,
            skipNetworkIds: this.breaker.pausedNetworkIds(this.now()),
          });
        } catch (error) {
          this.options.log.error({ err: error }, 'claiming due pulls failed');
          await this.wakeup.sleep(CLAIM_FAILURE_PAUSE_MS);
          continue;
        }
        for (const claim of claimed) this.begin(claim, claimedAt + this.options.leaseMs);
      }
      if (claimed.length > 0 && claimed.length === free) continue;
      await this.wakeup.sleep(free > 0 ? await this.idleMs() : MAX_IDLE_MS);
    }
  }

  /**
   * How long nothing new can be claimed: until the next pull falls due, a
   * lease ends or an endpoint pause ends. Work already due but not claimed is
   * held back by a per-network limit, and a finishing pull wakes the loop.
   */
  private async idleMs(): Promise<number> {
    const now = this.now();
    const paused = this.breaker.pausedNetworkIds(now);
    let next: number | null;
    try {
      next = await this.options.store.nextWakeAt(now, paused);
    } catch {
      return CLAIM_FAILURE_PAUSE_MS;
    }
    const resume = this.breaker.nextResumeAt(now);
    const wakeAt = Math.min(next ?? Infinity, resume ?? Infinity, now + MAX_IDLE_MS);
    return Math.max(0, wakeAt - now);
  }

  /**
   * Runs a claimed pull. Its lease ends at `leaseEnds` (counted from the time
   * the claim was asked for: a claim that waited long for the database has
   * less of its lease left); a pull still running shortly before then is
   * cancelled and released, so it can never overlap the pull of the process
   * that takes the expired lease over.
   */
  private begin(claim: ClaimedPull, leaseEnds: number): void {
    this.fetching += 1;
    let slotFreed = false;
    const freeSlot = (): void => {
      if (slotFreed) return;
      slotFreed = true;
      this.fetching -= 1;
      this.wakeup.wake();
    };
    const cancellation = new PullCancellation();
    const leaseGuard = setTimeout(() => {
      this.options.log.warn({ event: 'lease_ending', network: claim.network.name, user_id: claim.userId }, 'cancelling a pull whose lease is about to end');
      cancellation.cancel();
    }, Math.max(0, leaseEnds - LEASE_END_GUARD_MS - this.now()));
    const done = this.pull(claim, cancellation, leaseEnds, freeSlot)
      .catch((error: unknown) => {
        this.options.log.error({ err: error, network: claim.network.name, user_id: claim.userId }, 'pull failed unexpectedly');
        return this.recordFault(claim, error).catch(() => undefined);
      })
      .finally(() => {
        clearTimeout(leaseGuard);
        this.inFlight.delete(claim.leaseId);
        freeSlot();
      });
    this.inFlight.set(claim.leaseId, { done, cancellation });
  }

  /**
   * A pull that failed in p4p itself (a bug, or a database refusing its
   * result) counts and backs off as a failed attempt, so a persistent fault
   * cannot re-pull the endpoint in a loop; at the last attempt the user is
   * marked failed with the cause, as any other give-up. Should even that
   * write be refused, the lease goes back with the longest delay.
   */
  private async recordFault(claim: ClaimedPull, error: unknown): Promise<void> {
    const { store, retryPolicy } = this.options;
    const now = this.now();
    const retryAt = nextRetryAt(retryPolicy, claim.attempt, { retriable: true, retryAfterMs: null }, now);
    if (retryAt !== null) {
      await store.releaseLeases([claim.leaseId], retryAt, true);
      return;
    }
    const reason = error instanceof Error ? error.message : String(error);
    const attempt = {
      at: now,
      outcome: 'internal_error' as const,
      httpStatus: null,
      durationMs: 0,
      message: `gave up after ${claim.attempt} attempts: p4p could not run or record this pull (${reason.replace(/\s+/g, ' ').slice(0, 300)}); see p4p's log`,
      warnings: [],
      responseExcerpt: null,
    };
    await store
      .completePull(claim, { attempt, newVersion: null, retryAt: null, gaveUp: true }, now)
      .catch(() => store.releaseLeases([claim.leaseId], now + retryPolicy.maxDelayMs, true));
  }

  /**
   * Tries `write` again while the database is unavailable (restarting, failing
   * over), so that a finished pull is recorded rather than left to its lease's
   * expiry; gives up at the lease's end (the write would be refused then) or
   * when the worker is told to stop at once.
   */
  private async whileUnavailable<T>(write: () => Promise<T>, leaseEnds: number, cancellation: PullCancellation): Promise<T> {
    for (let pauseMs = 100; ; pauseMs = Math.min(pauseMs * 2, RECORD_RETRY_MAX_MS)) {
      try {
        return await write();
      } catch (error) {
        if (!(error instanceof StoreUnavailableError) || cancellation.cancelled || this.now() + pauseMs >= leaseEnds) throw error;
        await delay(pauseMs);
      }
    }
  }

  /** Calls `freeSlot` once the request is over and its completion is queued; a cancelled pull gives its lease back. */
  private async pull(claim: ClaimedPull, cancellation: PullCancellation, leaseEnds: number, freeSlot: () => void): Promise<void> {
    const { store, log } = this.options;
    if (this.now() >= leaseEnds - LEASE_END_GUARD_MS) {
      // The claim took so long (a busy database) that its lease is all but gone: give it back unpulled.
      log.warn({ event: 'lease_ending', network: claim.network.name, user_id: claim.userId }, 'a claim came back too late to pull');
      await store.releaseLeases([claim.leaseId], this.now());
      return;
    }
    const run = await runPull(claim, this.runContext, cancellation);
    if (cancellation.cancelled) {
      await store.releaseLeases([claim.leaseId], this.now());
      return;
    }
    const now = this.now();
    const recorded = this.whileUnavailable(() => store.completePull(claim, run.completion, now), leaseEnds, cancellation);
    freeSlot();
    const applied = await recorded;
    this.breaker.record(claim.network.id, run.answer, now);
    const { attempt, newVersion, retryAt } = run.completion;
    log.info(
      {
        event: 'pull',
        network: claim.network.name,
        user_id: claim.userId,
        outcome: attempt.outcome,
        http_status: attempt.httpStatus,
        duration_ms: attempt.durationMs,
        attempt: claim.attempt,
        retry_at: retryAt,
        lease_lost: !applied,
        message: attempt.message ?? undefined,
      },
      'pull',
    );
    if (applied && newVersion !== null) {
      this.options.changes.emit('changed', {
        network: claim.network.name,
        userId: claim.userId,
        version: claim.currentVersion + 1,
        changed: newVersion.changed,
        at: now,
      });
    }
  }
}
