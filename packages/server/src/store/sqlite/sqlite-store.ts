import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Profile } from '../../profile/profile.js';
import type { PullOutcome } from '../../pull/pull-outcome.js';
import {
  ATTEMPTS_KEPT_PER_USER,
  NetworkExistsError,
  type ClaimedPull,
  type ClaimOptions,
  type Network,
  type ProfileVersion,
  type PullAttempt,
  type PullCompletion,
  type Store,
  type UserRecord,
} from '../store.js';
import { fairShares } from '../fair-shares.js';
import { attemptFromRow, networkFromRow, userRecordFromRow, type AttemptRow, type NetworkRow, type UserRow } from '../store-rows.js';
import { BatchedWriter } from './batched-writer.js';
import { migrate } from './sqlite-migrations.js';

/**
 * How an acknowledged ping must survive: `power` fsyncs every commit that
 * holds a ping or a setting (group commit keeps it cheap); `process`
 * survives a crash of p4p but not of the machine. Claims and pull results
 * never wait for an fsync: a power loss can only make a pull happen again.
 */
export type SqliteDurability = 'power' | 'process';

export interface SqliteStoreOptions {
  /** Directory holding p4p.db; created when missing. */
  dataDir: string;
  /** Default `power`. */
  durability?: SqliteDurability;
  /** How long a statement waits for another process's write lock, in ms. Default 5000. */
  busyTimeoutMs?: number;
  /** A pinged user not already queued becomes due this many ms later (see Store.recordPings). Default 0. */
  coalesceMs?: number;
}

export const SQLITE_FILE_NAME = 'p4p.db';

/** The data directory or its database cannot be used. */
export class DataDirError extends Error {
  constructor(
    readonly dataDir: string,
    cause: unknown,
  ) {
    super(`cannot use the database in ${dataDir}: ${(cause as Error).message}`, { cause });
    this.name = 'DataDirError';
  }
}

/** Rows as SQLite returns them: JSON in text columns, booleans as 0/1. */
type DbNetwork = Omit<NetworkRow, 'owners'> & { owners: string };
type DbUser = Omit<UserRow, 'dirty' | 'profile'> & { dirty: number; profile: string | null };
type DbAttempt = Omit<AttemptRow, 'warnings'> & { warnings: string };

interface DbVersion {
  version: number;
  profile: string;
  changed: string;
  created_at: number;
}

const QUEUED = `state IN ('waiting', 'retrying')`;

function toNetwork(row: DbNetwork): Network {
  return networkFromRow({ ...row, owners: JSON.parse(row.owners) as string[] });
}

function parseProfile(json: string | null): Profile | null {
  return json === null ? null : (JSON.parse(json) as Profile);
}

/**
 * The embedded store: one SQLite file in WAL mode. Writes go through a
 * group-commit queue; reads run directly. Other processes (the CLI) may open
 * the same file at the same time.
 */
export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly writer: BatchedWriter;
  private readonly sql;
  /** Rotates which network is served first, for fairness between networks. */
  private claimRotation = 0;
  /**
   * No lease ends before this, so claims before it need not requeue expired
   * ones. Only this process claims from the file (serve locks the data
   * directory); unknown at open, so the first claim looks.
   */
  private noLeaseEndsBefore = -Infinity;

  private constructor(db: Database.Database, durability: SqliteDurability, private readonly coalesceMs: number) {
    this.db = db;
    this.writer = new BatchedWriter(db, durability);
    this.sql = {
      insertNetwork: db.prepare<[string, string, string, number, number]>(
        'INSERT INTO networks (name, key, owners, created_at, updated_at) VALUES (?, ?, ?, ?, ?) RETURNING *',
      ),
      networkByName: db.prepare<[string], DbNetwork>('SELECT * FROM networks WHERE name = ?'),
      allNetworks: db.prepare<[], DbNetwork>('SELECT * FROM networks ORDER BY name'),
      // One index probe per network: only networks with a due user come back.
      networksWithDueUsers: db.prepare<[number], DbNetwork>(`
        SELECT * FROM networks n WHERE n.pull_url_template IS NOT NULL AND EXISTS (
          SELECT 1 FROM users u WHERE u.network_id = n.id AND u.${QUEUED} AND u.due_at <= ?)`),
      setPullUrl: db.prepare<[string, number, number]>(
        'UPDATE networks SET pull_url_template = ?, updated_at = ? WHERE id = ?',
      ),
      retryNow: db.prepare<[number, number]>(
        `UPDATE users SET due_at = ?, attempts = 0 WHERE network_id = ? AND state = 'retrying'`,
      ),
      // Every SET expression reads the row as it was: one statement is the whole ping transition.
      recordPing: db.prepare<{ networkId: number; userId: string; now: number; dueAt: number }>(`
        INSERT INTO users (network_id, user_id, state, due_at, last_ping_at)
        VALUES (@networkId, @userId, 'waiting', @dueAt, @now)
        ON CONFLICT (network_id, user_id) DO UPDATE SET
          last_ping_at = excluded.last_ping_at,
          dirty = CASE WHEN state = 'in_flight' THEN 1 ELSE dirty END,
          due_at = CASE WHEN state IN ('idle', 'failed') THEN excluded.due_at ELSE due_at END,
          attempts = CASE WHEN state IN ('idle', 'failed') THEN 0 ELSE attempts END,
          state = CASE WHEN state IN ('idle', 'failed') THEN 'waiting' ELSE state END`),
      requeueExpiredLeases: db.prepare<[number]>(`
        UPDATE users SET state = 'waiting', due_at = lease_until, lease_id = NULL, lease_until = NULL
        WHERE state = 'in_flight' AND lease_until <= ?`),
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
      // The whole end-of-pull transition, applied only while the lease is still ours.
      complete: db.prepare<{
        networkId: number; userId: string; leaseId: string; now: number; retryAt: number | null; gaveUp: number;
        succeeded: number; outcome: PullOutcome; message: string | null; profile: string | null;
      }>(`
        UPDATE users SET
          state = CASE WHEN @retryAt IS NOT NULL THEN 'retrying' WHEN @gaveUp = 1 THEN 'failed'
                       WHEN dirty = 1 THEN 'waiting' WHEN @succeeded = 1 THEN 'idle' ELSE 'failed' END,
          due_at = CASE WHEN @retryAt IS NOT NULL THEN @retryAt WHEN @gaveUp = 0 AND dirty = 1 THEN @now ELSE NULL END,
          attempts = CASE WHEN @retryAt IS NULL AND @gaveUp = 0 AND dirty = 1 THEN 0 ELSE attempts END,
          dirty = 0, lease_id = NULL, lease_until = NULL,
          last_pull_at = @now, last_outcome = @outcome, last_message = @message,
          profile = COALESCE(@profile, profile),
          version = version + (@profile IS NOT NULL),
          updated_at = CASE WHEN @profile IS NOT NULL THEN @now ELSE updated_at END
        WHERE network_id = @networkId AND user_id = @userId AND lease_id = @leaseId`),
      insertAttempt: db.prepare<{
        networkId: number; userId: string; at: number; outcome: PullOutcome; httpStatus: number | null;
        durationMs: number; message: string | null; warnings: string; responseExcerpt: string | null;
      }>(`
        INSERT INTO pull_attempts (network_id, user_id, at, outcome, http_status, duration_ms, message, warnings, response_excerpt)
        VALUES (@networkId, @userId, @at, @outcome, @httpStatus, @durationMs, @message, @warnings, @responseExcerpt)`),
      // Deletes the (keep + 1)th newest attempt of the user and every older one.
      trimAttempts: db.prepare<{ networkId: number; userId: string; keep: number }>(`
        DELETE FROM pull_attempts WHERE network_id = @networkId AND user_id = @userId AND id <= (
          SELECT id FROM pull_attempts WHERE network_id = @networkId AND user_id = @userId
          ORDER BY id DESC LIMIT 1 OFFSET @keep)`),
      insertVersion: db.prepare<[number, string, number, string, string, number]>(`
        INSERT INTO profile_versions (network_id, user_id, version, profile, changed, created_at)
        VALUES (?, ?, ?, ?, ?, ?)`),
      releaseLease: db.prepare<[number, number, string]>(`
        UPDATE users SET state = 'waiting', due_at = ?, attempts = MAX(attempts - ?, 0), lease_id = NULL, lease_until = NULL
        WHERE lease_id = ? AND state = 'in_flight'`),
      releaseAllLeases: db.prepare<[number]>(`
        UPDATE users SET state = 'waiting', due_at = ?, attempts = MAX(attempts - 1, 0), lease_id = NULL, lease_until = NULL
        WHERE state = 'in_flight'`),
      // One index probe per network (users_queued), so a paused network's long queue is never walked.
      nextDue: db.prepare<{ after: number; skip: string }, { at: number | null }>(`
        SELECT MIN((SELECT due_at FROM users WHERE network_id = n.id AND ${QUEUED} AND due_at > @after
                    ORDER BY due_at LIMIT 1)) AS at
        FROM networks n WHERE n.pull_url_template IS NOT NULL AND n.id NOT IN (SELECT value FROM json_each(@skip))`),
      nextLeaseEnd: db.prepare<[number], { at: number | null }>(
        `SELECT MIN(lease_until) AS at FROM users WHERE state = 'in_flight' AND lease_until > ?`,
      ),
      user: db.prepare<[number, string], DbUser>('SELECT * FROM users WHERE network_id = ? AND user_id = ?'),
      attempts: db.prepare<[number, string, number], DbAttempt>(`
        SELECT * FROM pull_attempts WHERE network_id = ? AND user_id = ? ORDER BY id DESC LIMIT ?`),
      versions: db.prepare<[number, string, number, number], DbVersion>(`
        SELECT version, profile, changed, created_at FROM profile_versions
        WHERE network_id = ? AND user_id = ? AND version < ? ORDER BY version DESC LIMIT ?`),
    };
  }

  /** Opens (creating when missing) the database; failures name the directory and keep the cause. */
  static open(options: SqliteStoreOptions): SqliteStore {
    let db: Database.Database | undefined;
    try {
      mkdirSync(options.dataDir, { recursive: true });
      db = new Database(join(options.dataDir, SQLITE_FILE_NAME));
      db.pragma('journal_mode = WAL');
      db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
      db.pragma('foreign_keys = ON');
      migrate(db);
      return new SqliteStore(db, options.durability ?? 'power', options.coalesceMs ?? 0);
    } catch (error) {
      db?.close();
      throw new DataDirError(options.dataDir, error);
    }
  }

  async createNetwork(input: { name: string; key: string; owners?: string[] }, now: number): Promise<Network> {
    return this.writer.write(() => {
      try {
        const row = this.sql.insertNetwork.get(input.name, input.key, JSON.stringify(input.owners ?? []), now, now);
        return toNetwork(row as DbNetwork);
      } catch (error) {
        if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw new NetworkExistsError(input.name, { cause: error });
        throw error;
      }
    }, { durable: true });
  }

  async getNetwork(name: string): Promise<Network | null> {
    const row = this.sql.networkByName.get(name);
    return row === undefined ? null : toNetwork(row);
  }

  async listNetworks(): Promise<Network[]> {
    return this.sql.allNetworks.all().map(toNetwork);
  }

  async setPullUrlTemplate(networkId: number, template: string, now: number): Promise<void> {
    await this.writer.write(() => {
      this.sql.setPullUrl.run(template, now, networkId);
      this.sql.retryNow.run(now, networkId);
    }, { durable: true });
  }

  async recordPings(networkId: number, userIds: readonly string[], now: number): Promise<void> {
    await this.writer.write(() => {
      const dueAt = now + this.coalesceMs;
      for (const userId of userIds) this.sql.recordPing.run({ networkId, userId, now, dueAt });
    }, { weight: userIds.length, durable: true });
  }

  async claimDue(options: ClaimOptions): Promise<ClaimedPull[]> {
    try {
      return await this.writer.write(() => this.claimNow(options));
    } catch (error) {
      // A requeue rolled back: look again on the next claim.
      this.noLeaseEndsBefore = -Infinity;
      throw error;
    }
  }

  private claimNow({ now, limit, perNetworkLimit, leaseMs, skipNetworkIds }: ClaimOptions): ClaimedPull[] {
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

  async completePull(claim: ClaimedPull, completion: PullCompletion, now: number): Promise<boolean> {
    const networkId = claim.network.id;
    const { userId } = claim;
    const { attempt, newVersion, retryAt } = completion;
    return this.writer.write(() => {
      const updated = this.sql.complete.run({
        networkId,
        userId,
        leaseId: claim.leaseId,
        now,
        retryAt,
        gaveUp: completion.gaveUp ? 1 : 0,
        succeeded: attempt.outcome === 'ok' || attempt.outcome === 'unchanged' ? 1 : 0,
        outcome: attempt.outcome,
        message: attempt.message,
        profile: newVersion === null ? null : JSON.stringify(newVersion.profile),
      });
      if (updated.changes === 0) return false;
      this.sql.insertAttempt.run({
        networkId,
        userId,
        at: attempt.at,
        outcome: attempt.outcome,
        httpStatus: attempt.httpStatus,
        durationMs: attempt.durationMs,
        message: attempt.message,
        warnings: JSON.stringify(attempt.warnings),
        responseExcerpt: attempt.responseExcerpt,
      });
      this.sql.trimAttempts.run({ networkId, userId, keep: ATTEMPTS_KEPT_PER_USER });
      if (newVersion !== null) {
        this.sql.insertVersion.run(
          networkId,
          userId,
          claim.currentVersion + 1,
          JSON.stringify(newVersion.profile),
          JSON.stringify(newVersion.changed),
          now,
        );
      }
      return true;
    });
  }

  async releaseLeases(leaseIds: readonly string[] | 'all', dueAt: number, countAttempt = false): Promise<number> {
    return this.writer.write(() => {
      if (leaseIds === 'all') return this.sql.releaseAllLeases.run(dueAt).changes;
      const uncount = countAttempt ? 0 : 1;
      return leaseIds.reduce((count, leaseId) => count + this.sql.releaseLease.run(dueAt, uncount, leaseId).changes, 0);
    });
  }

  async nextWakeAt(after: number, skipNetworkIds: ReadonlySet<number> = new Set()): Promise<number | null> {
    const due = this.sql.nextDue.get({ after, skip: JSON.stringify([...skipNetworkIds]) })!.at;
    const leaseEnd = this.sql.nextLeaseEnd.get(after)!.at;
    if (due === null || leaseEnd === null) return due ?? leaseEnd;
    return Math.min(due, leaseEnd);
  }

  async getUser(networkId: number, userId: string): Promise<UserRecord | null> {
    const row = this.sql.user.get(networkId, userId);
    return row === undefined ? null : userRecordFromRow({ ...row, dirty: row.dirty === 1, profile: parseProfile(row.profile) });
  }

  async listAttempts(networkId: number, userId: string): Promise<PullAttempt[]> {
    return this.sql.attempts
      .all(networkId, userId, ATTEMPTS_KEPT_PER_USER)
      .map((row) => attemptFromRow({ ...row, warnings: JSON.parse(row.warnings) as string[] }));
  }

  async listVersions(
    networkId: number,
    userId: string,
    { limit, beforeVersion }: { limit: number; beforeVersion?: number },
  ): Promise<ProfileVersion[]> {
    return this.sql.versions.all(networkId, userId, beforeVersion ?? Number.MAX_SAFE_INTEGER, limit).map((row) => ({
      version: row.version,
      profile: JSON.parse(row.profile) as Profile,
      changed: JSON.parse(row.changed) as string[],
      createdAt: row.created_at,
    }));
  }

  async close(): Promise<void> {
    // Let queued writes commit before closing.
    await this.writer.write(() => undefined);
    this.db.close();
  }
}
