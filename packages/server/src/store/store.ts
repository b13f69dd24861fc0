import type { Profile } from '../profile/profile.js';
import type { PullOutcome } from '../pull/pull-outcome.js';

/**
 * The store port: everything p4p keeps, in domain verbs. Adapters (SQLite
 * today) implement it with the same behaviour; all times are Unix ms passed
 * in by the caller, so the clock stays in one place.
 */

/**
 * Per-user sync states. `waiting`: a pull is due at `dueAt`; `in_flight`: a
 * worker holds a lease on it; `retrying`: the last attempt failed in a way
 * that can succeed later, next attempt at `dueAt`; `idle`: the last pull
 * succeeded; `failed`: the last pull failed and no further pull is planned
 * until the next ping.
 */
export const SYNC_STATES = ['idle', 'waiting', 'in_flight', 'retrying', 'failed'] as const;
export type SyncState = (typeof SYNC_STATES)[number];

export interface Network {
  id: number;
  name: string;
  /** Verification keys, the signing (current) key first; two during a key rotation. */
  keys: string[];
  /** User ids whose tokens count as system tokens besides `system`. */
  owners: string[];
  pullUrlTemplate: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface UserSync {
  state: SyncState;
  /** A ping arrived while a pull was in flight: another pull follows it. */
  dirty: boolean;
  /** When the next pull is due (waiting, retrying). */
  dueAt: number | null;
  /** Attempts in the current cycle (reset by a ping after idle/failed). */
  attempts: number;
  lastPingAt: number | null;
  lastPullAt: number | null;
  lastOutcome: PullOutcome | null;
  lastMessage: string | null;
}

export interface UserRecord {
  userId: string;
  profile: Profile | null;
  version: number;
  updatedAt: number | null;
  sync: UserSync;
}

export interface PullAttempt {
  at: number;
  outcome: PullOutcome;
  httpStatus: number | null;
  durationMs: number;
  message: string | null;
  warnings: string[];
  /** The start of the answer as received, for debugging (bounded). */
  responseExcerpt: string | null;
}

export interface ProfileVersion {
  version: number;
  profile: Profile;
  changed: string[];
  createdAt: number;
}

/** A pull a worker has leased; it must be completed with `completePull`. */
export interface ClaimedPull {
  leaseId: string;
  network: Network;
  userId: string;
  /** 1 for the first attempt of a cycle. */
  attempt: number;
  currentProfile: Profile | null;
  currentVersion: number;
}

/** What a finished pull changes; the store applies it atomically. */
export interface PullCompletion {
  attempt: PullAttempt;
  /** Set when the pull produced a changed profile: it becomes version currentVersion + 1. */
  newVersion: { profile: Profile; changed: string[] } | null;
  /** Set when the attempt should be retried at that time; null ends the cycle. */
  retryAt: number | null;
  /** The retry policy gave up: the user ends `failed` even if pinged meanwhile (the next ping starts a new cycle). */
  gaveUp: boolean;
}

export interface ClaimOptions {
  now: number;
  /** Most pulls to claim now. */
  limit: number;
  /** Most pulls in flight per network, counting those already leased. */
  perNetworkLimit: number;
  leaseMs: number;
  /** Networks not to claim from now (e.g. an endpoint that is backing off). */
  skipNetworkIds?: ReadonlySet<number>;
}

export interface Store {
  createNetwork(input: { name: string; key: string; owners?: string[] }, now: number): Promise<Network>;
  getNetwork(name: string): Promise<Network | null>;
  listNetworks(): Promise<Network[]>;
  /** Sets the pull URL; users retrying against the old one start a fresh cycle, due at `now`. */
  setPullUrlTemplate(networkId: number, template: string, now: number): Promise<void>;
  /**
   * Key rotation (spec §2): `newKey` signs from now on, and the key that
   * signed until now still verifies, as the previous key. False (nothing
   * changed) while a rotation is under way: a network holds two keys at
   * most, and dropping the previous one is dropPreviousKey's call alone.
   */
  rotateNetworkKey(networkId: number, newKey: string, now: number): Promise<boolean>;
  /** Ends a key rotation: only the current key verifies. False when there was no previous key. */
  dropPreviousKey(networkId: number, now: number): Promise<boolean>;

  /**
   * Records pings; resolves only once they are durable. Coalesces per user: a
   * user not already queued becomes due after the store's coalescing window
   * (so that a burst of pings costs one pull). A ping for a user still waiting
   * past its due time (a backlog) moves its due time to the ping, but never
   * more than SETTLE_MAX_MS after it was first due: among due users, those
   * whose pings have stopped are pulled first.
   */
  recordPings(networkId: number, userIds: readonly string[], now: number): Promise<void>;
  /**
   * Leases due pulls, fairly across networks; requeues pulls whose lease
   * expired. A pull whose completePull was called before this claim no longer
   * counts as in flight, even while that call has not resolved yet.
   */
  claimDue(options: ClaimOptions): Promise<ClaimedPull[]>;
  /** Applies a finished pull; false when the lease was lost (nothing changed). */
  completePull(claim: ClaimedPull, completion: PullCompletion, now: number): Promise<boolean>;
  /**
   * Puts leased pulls back in the queue, due at `dueAt`. The attempt does not
   * count (graceful stop, restart) unless `countAttempt` (a pull that failed
   * inside p4p, so its backoff grows).
   */
  releaseLeases(leaseIds: readonly string[] | 'all', dueAt: number, countAttempt?: boolean): Promise<number>;
  /** The earliest due time or lease end later than `after`, outside the skipped networks; null when there is none. */
  nextWakeAt(after: number, skipNetworkIds?: ReadonlySet<number>): Promise<number | null>;

  getUser(networkId: number, userId: string): Promise<UserRecord | null>;
  /** Newest first. */
  listAttempts(networkId: number, userId: string): Promise<PullAttempt[]>;
  /** Newest first; `beforeVersion` pages back. */
  listVersions(networkId: number, userId: string, options: { limit: number; beforeVersion?: number }): Promise<ProfileVersion[]>;

  close(): Promise<void>;
}

/** Attempts kept per user; older ones are deleted as new ones arrive. */
export const ATTEMPTS_KEPT_PER_USER = 50;

/**
 * How far pings can push a waiting user back, in ms after it was first due
 * (see Store.recordPings). Under a backlog, a user still being pinged is then
 * pulled once its burst is over rather than in the middle of it, which would
 * cost a second pull; this bounds what that can add to its freshness.
 */
export const SETTLE_MAX_MS = 1000;

/** The database cannot take writes right now (busy, locked, full, I/O error); worth retrying later. */
export class StoreUnavailableError extends Error {
  constructor(options: ErrorOptions) {
    super(`the database is unavailable: ${(options.cause as Error).message}`, options);
    this.name = 'StoreUnavailableError';
  }
}

/** Thrown by createNetwork when the name is taken. */
export class NetworkExistsError extends Error {
  constructor(name: string, options?: ErrorOptions) {
    super(`network ${name} already exists`, options);
    this.name = 'NetworkExistsError';
  }
}
