import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { PullOutcome } from '../../pull/pull-outcome.js';
import { ATTEMPTS_KEPT_PER_USER, SETTLE_MAX_MS, type ClaimedPull, type ClaimOptions, type Network, type PullCompletion } from '../store.js';
import { fairShares } from '../fair-shares.js';
import { storableText } from '../store-rows.js';
import type { WriteOptions } from './batched-writer.js';
import { NEXT_LEASE_END, parseProfile, QUEUED, toNetwork, type DbNetwork } from './sqlite-rows.js';

/** What completePull needs of a claim: its lease. */
export interface LeaseRef {
  networkId: number;
  userId: string;
  leaseId: string;
}

/** A leased user's row: its version and the heads of its history chains (migration 3). */
interface LeasedUser {
  rowid: number;
  version: number;
  last_attempt_id: number | null;
  kept_attempts: number;
  last_version_seq: number | null;
}

/**
 * Every write of the SQLite store, as data (so that it can be posted to the
 * writer thread) and its result.
 */
export interface WriteRequests {
  createNetwork: { input: { name: string; key: string; owners?: string[] }; now: number };
  setPullUrlTemplate: { networkId: number; template: string; now: number };
  rotateNetworkKey: { networkId: number; newKey: string; now: number };
  dropPreviousKey: { networkId: number; now: number };
  recordPings: { networkId: number; userIds: readonly string[]; now: number };
  claimDue: ClaimOptions;
  completePull: { lease: LeaseRef; completion: PullCompletion; now: number };
  releaseLeases: { leaseIds: readonly string[] | 'all'; dueAt: number; countAttempt: boolean };
}

export interface WriteResults {
  /** null: the name is taken. */
  createNetwork: Network | null;
  setPullUrlTemplate: void;
  rotateNetworkKey: boolean;
  dropPreviousKey: boolean;
  recordPings: void;
  claimDue: ClaimedPull[];
  completePull: boolean;
  releaseLeases: number;
}

export type WriteKind = keyof WriteRequests;
export type WriteOp = { [K in WriteKind]: { kind: K; request: WriteRequests[K] } }[WriteKind];

/** Pings and settings must survive a power loss; claims and pull results need not (a lost one only repeats a pull). */
export function writeOptionsFor(op: WriteOp): WriteOptions {
  switch (op.kind) {
    case 'recordPings':
      return { weight: op.request.userIds.length, durable: true };
    case 'createNetwork':
    case 'setPullUrlTemplate':
    case 'rotateNetworkKey':
    case 'dropPreviousKey':
      return { durable: true };
    default:
      return {};
  }
}

/**
 * The SQLite store's writes, run on the connection that owns the write
 * path (the writer thread's), each inside the batch transaction of
 * BatchedWriter.
 */
export class SqliteWrites {
  private readonly sql;
  /** Rotates which network is served first, for fairness between networks. */
  private claimRotation = 0;
  /**
   * No lease ends before this, so claims before it need not requeue expired
   * ones. Only this process claims from the file (serve locks the data
   * directory); unknown at open, so the first claim looks.
   */
  private noLeaseEndsBefore = -Infinity;

  constructor(db: Database.Database, private readonly coalesceMs: number) {
    this.sql = {
      insertNetwork: db.prepare<[string, string, string, number, number], DbNetwork>(
        'INSERT INTO networks (name, key, owners, created_at, updated_at) VALUES (?, ?, ?, ?, ?) RETURNING *',
      ),
      // One index probe per network: only networks with a due user come back.
      networksWithDueUsers: db.prepare<[number], DbNetwork>(`
        SELECT * FROM networks n WHERE n.pull_url_template IS NOT NULL AND EXISTS (
          SELECT 1 FROM users u WHERE u.network_id = n.id AND u.${QUEUED} AND u.due_at <= ?)`),
      setPullUrl: db.prepare<[string, number, number]>(
        'UPDATE networks SET pull_url_template = ?, updated_at = ? WHERE id = ?',
      ),
      rotateKey: db.prepare<[string, number, number]>(
        'UPDATE networks SET previous_key = key, key = ?, updated_at = ? WHERE id = ? AND previous_key IS NULL',
      ),
      dropPreviousKey: db.prepare<[number, number]>(
        'UPDATE networks SET previous_key = NULL, updated_at = ? WHERE id = ? AND previous_key IS NOT NULL',
      ),
      retryNow: db.prepare<[number, number]>(
        `UPDATE users SET due_at = ?, attempts = 0 WHERE network_id = ? AND state = 'retrying'`,
      ),
      // Every SET expression reads the row as it was: one statement is the whole ping transition.
      recordPing: db.prepare<{ networkId: number; userId: string; now: number; dueAt: number }>(`
        INSERT INTO users (network_id, user_id, state, due_at, queued_at, last_ping_at)
        VALUES (@networkId, @userId, 'waiting', @dueAt, @dueAt, @now)
        ON CONFLICT (network_id, user_id) DO UPDATE SET
          last_ping_at = excluded.last_ping_at,
          dirty = CASE WHEN state = 'in_flight' THEN 1 ELSE dirty END,
          due_at = CASE WHEN state IN ('idle', 'failed') THEN excluded.due_at
                        WHEN state = 'waiting' THEN MAX(due_at, COALESCE(MIN(@now, queued_at + ${SETTLE_MAX_MS}), due_at))
                        ELSE due_at END,
          queued_at = CASE WHEN state IN ('idle', 'failed') THEN excluded.due_at ELSE queued_at END,
          attempts = CASE WHEN state IN ('idle', 'failed') THEN 0 ELSE attempts END,
          state = CASE WHEN state IN ('idle', 'failed') THEN 'waiting' ELSE state END`),
      requeueExpiredLeases: db.prepare<[number]>(`
        UPDATE users SET state = 'waiting', due_at = lease_until, lease_id = NULL, lease_until = NULL
        WHERE state = 'in_flight' AND lease_until <= ?`),
      nextLeaseEnd: db.prepare<[number], { at: number | null }>(NEXT_LEASE_END),
      inFlightByNetwork: db.prepare<[], { network_id: number; n: number }>(
        `SELECT network_id, COUNT(*) AS n FROM users WHERE state = 'in_flight' GROUP BY network_id`,
      ),
      dueUsers: db.prepare<[number, number, number], { user_id: string; attempts: number; profile: string | null; version: number }>(`
        SELECT user_id, attempts, profile, version FROM users
        WHERE network_id = ? AND ${QUEUED} AND due_at <= ? ORDER BY due_at LIMIT ?`),
      lease: db.prepare<{ leaseId: string; leaseUntil: number; networkId: number; userId: string }>(`
        UPDATE users SET state = 'in_flight', lease_id = @leaseId, lease_until = @leaseUntil,
          attempts = attempts + 1, dirty = 0
        WHERE network_id = @networkId AND user_id = @userId`),
      // The user's history chain heads, found only while the lease is still ours.
      leasedUser: db.prepare<[number, string, string], LeasedUser>(`
        SELECT rowid, version, last_attempt_id, kept_attempts, last_version_seq FROM users
        WHERE network_id = ? AND user_id = ? AND lease_id = ?`),
      insertAttempt: db.prepare<{
        networkId: number; userId: string; previousId: number | null; at: number; outcome: PullOutcome; httpStatus: number | null;
        durationMs: number; message: string | null; warnings: string; responseExcerpt: string | null;
      }>(`
        INSERT INTO pull_attempts (network_id, user_id, previous_id, at, outcome, http_status, duration_ms, message, warnings, response_excerpt)
        VALUES (@networkId, @userId, @previousId, @at, @outcome, @httpStatus, @durationMs, @message, @warnings, @responseExcerpt)`),
      // Deletes the attempt (keep + 1) links down the chain from the newest.
      trimAttempts: db.prepare<{ newestId: number; keep: number }>(`
        DELETE FROM pull_attempts WHERE id = (
          WITH RECURSIVE chain(n, id) AS (
            SELECT 1, @newestId
            UNION ALL
            SELECT n + 1, previous_id FROM chain JOIN pull_attempts a ON a.id = chain.id WHERE n <= @keep)
          SELECT id FROM chain WHERE n = @keep + 1)`),
      insertVersion: db.prepare<[number, string, number, string, string, number, number | null]>(`
        INSERT INTO profile_versions (network_id, user_id, version, profile, changed, created_at, previous_seq)
        VALUES (?, ?, ?, ?, ?, ?, ?)`),
      // The whole end-of-pull transition of the users row.
      complete: db.prepare<{
        rowid: number; now: number; retryAt: number | null; gaveUp: number; succeeded: number; outcome: PullOutcome;
        message: string | null; profile: string | null; attemptId: number; keptAttempts: number; versionSeq: number | null;
      }>(`
        UPDATE users SET
          state = CASE WHEN @retryAt IS NOT NULL THEN 'retrying' WHEN @gaveUp = 1 THEN 'failed'
                       WHEN dirty = 1 THEN 'waiting' WHEN @succeeded = 1 THEN 'idle' ELSE 'failed' END,
          due_at = CASE WHEN @retryAt IS NOT NULL THEN @retryAt WHEN @gaveUp = 0 AND dirty = 1 THEN @now ELSE NULL END,
          attempts = CASE WHEN @retryAt IS NULL AND @gaveUp = 0 AND dirty = 1 THEN 0 ELSE attempts END,
          queued_at = CASE WHEN @retryAt IS NULL AND @gaveUp = 0 AND dirty = 1 THEN @now ELSE queued_at END,
          dirty = 0, lease_id = NULL, lease_until = NULL,
          last_pull_at = @now, last_outcome = @outcome, last_message = @message,
          profile = COALESCE(@profile, profile),
          version = version + (@profile IS NOT NULL),
          updated_at = CASE WHEN @profile IS NOT NULL THEN @now ELSE updated_at END,
          last_attempt_id = @attemptId, kept_attempts = @keptAttempts,
          last_version_seq = COALESCE(@versionSeq, last_version_seq)
        WHERE rowid = @rowid`),
      releaseLease: db.prepare<[number, number, string]>(`
        UPDATE users SET state = 'waiting', due_at = ?, attempts = MAX(attempts - ?, 0), lease_id = NULL, lease_until = NULL
        WHERE lease_id = ? AND state = 'in_flight'`),
      releaseAllLeases: db.prepare<[number]>(`
        UPDATE users SET state = 'waiting', due_at = ?, attempts = MAX(attempts - 1, 0), lease_id = NULL, lease_until = NULL
        WHERE state = 'in_flight'`),
    };
  }

  apply(op: WriteOp): WriteResults[WriteKind] {
    switch (op.kind) {
      case 'createNetwork':
        return this.createNetwork(op.request);
      case 'setPullUrlTemplate':
        return this.setPullUrlTemplate(op.request);
      case 'rotateNetworkKey':
        return this.sql.rotateKey.run(op.request.newKey, op.request.now, op.request.networkId).changes > 0;
      case 'dropPreviousKey':
        return this.sql.dropPreviousKey.run(op.request.now, op.request.networkId).changes > 0;
      case 'recordPings':
        return this.recordPings(op.request);
      case 'claimDue':
        return this.claimDue(op.request);
      case 'completePull':
        return this.completePull(op.request);
      case 'releaseLeases':
        return this.releaseLeases(op.request);
    }
  }

  /** A transaction rolled back: a requeue of expired leases may have been undone with it, so the next claim looks again. */
  rolledBack(): void {
    this.noLeaseEndsBefore = -Infinity;
  }

  private createNetwork({ input, now }: WriteRequests['createNetwork']): Network | null {
    try {
      return toNetwork(this.sql.insertNetwork.get(input.name, input.key, JSON.stringify(input.owners ?? []), now, now)!);
    } catch (error) {
      if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') return null;
      throw error;
    }
  }

  private setPullUrlTemplate({ networkId, template, now }: WriteRequests['setPullUrlTemplate']): void {
    this.sql.setPullUrl.run(template, now, networkId);
    this.sql.retryNow.run(now, networkId);
  }

  private recordPings({ networkId, userIds, now }: WriteRequests['recordPings']): void {
    const dueAt = now + this.coalesceMs;
    for (const userId of userIds) this.sql.recordPing.run({ networkId, userId, now, dueAt });
  }

  private claimDue({ now, limit, perNetworkLimit, leaseMs, skipNetworkIds }: ClaimOptions): ClaimedPull[] {
    if (now >= this.noLeaseEndsBefore) {
      this.sql.requeueExpiredLeases.run(now);
      this.noLeaseEndsBefore = this.sql.nextLeaseEnd.get(now)!.at ?? Infinity;
    }
    const networks = this.sql.networksWithDueUsers
      .all(now)
      .map(toNetwork)
      .filter((network) => !skipNetworkIds?.has(network.id));
    const inFlight = new Map(this.sql.inFlightByNetwork.all().map((row) => [row.network_id, row.n]));
    const claimed: ClaimedPull[] = [];
    const shares = fairShares(networks, this.claimRotation++, inFlight, perNetworkLimit, limit);
    for (let step = shares.next(); !step.done; ) {
      const { network, take } = step.value;
      const rows = this.sql.dueUsers.all(network.id, now, take);
      for (const row of rows) {
        const leaseId = randomUUID();
        this.sql.lease.run({ leaseId, leaseUntil: now + leaseMs, networkId: network.id, userId: row.user_id });
        this.noLeaseEndsBefore = Math.min(this.noLeaseEndsBefore, now + leaseMs);
        claimed.push({
          leaseId,
          network,
          userId: row.user_id,
          attempt: row.attempts + 1,
          currentProfile: parseProfile(row.profile),
          currentVersion: row.version,
        });
      }
      step = shares.next(rows.length);
    }
    return claimed;
  }

  private completePull({ lease, completion, now }: WriteRequests['completePull']): boolean {
    const { networkId, userId, leaseId } = lease;
    const user = this.sql.leasedUser.get(networkId, userId, leaseId);
    if (user === undefined) return false;
    const { attempt, newVersion, retryAt } = completion;
    const profile = newVersion === null ? null : JSON.stringify(newVersion.profile);
    const message = storableText(attempt.message);
    const attemptId = Number(
      this.sql.insertAttempt.run({
        networkId,
        userId,
        previousId: user.last_attempt_id,
        at: attempt.at,
        outcome: attempt.outcome,
        httpStatus: attempt.httpStatus,
        durationMs: attempt.durationMs,
        message,
        warnings: JSON.stringify(attempt.warnings),
        responseExcerpt: storableText(attempt.responseExcerpt),
      }).lastInsertRowid,
    );
    if (user.kept_attempts >= ATTEMPTS_KEPT_PER_USER) this.sql.trimAttempts.run({ newestId: attemptId, keep: ATTEMPTS_KEPT_PER_USER });
    const versionSeq =
      newVersion === null || profile === null
        ? null
        : Number(
            this.sql.insertVersion.run(
              networkId,
              userId,
              user.version + 1,
              profile,
              JSON.stringify(newVersion.changed),
              now,
              user.last_version_seq,
            ).lastInsertRowid,
          );
    this.sql.complete.run({
      rowid: user.rowid,
      now,
      retryAt,
      gaveUp: completion.gaveUp ? 1 : 0,
      succeeded: attempt.outcome === 'ok' || attempt.outcome === 'unchanged' ? 1 : 0,
      outcome: attempt.outcome,
      message,
      profile,
      attemptId,
      keptAttempts: Math.min(user.kept_attempts + 1, ATTEMPTS_KEPT_PER_USER),
      versionSeq,
    });
    return true;
  }

  private releaseLeases({ leaseIds, dueAt, countAttempt }: WriteRequests['releaseLeases']): number {
    if (leaseIds === 'all') return this.sql.releaseAllLeases.run(dueAt).changes;
    const uncount = countAttempt ? 0 : 1;
    return leaseIds.reduce((count, leaseId) => count + this.sql.releaseLease.run(dueAt, uncount, leaseId).changes, 0);
  }
}
