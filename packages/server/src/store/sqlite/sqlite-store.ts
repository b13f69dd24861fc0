import type Database from 'better-sqlite3';
import { makeDataDir } from './make-data-dir.js';
import type { Profile } from '../../profile/profile.js';
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
import { NetworkCache } from '../network-cache.js';
import { attemptFromRow, userRecordFromRow } from '../store-rows.js';
import { CHECKPOINT_INTERVAL_MS, openConnection } from './sqlite-connection.js';
import { migrate, requireCurrentSchema } from './sqlite-migrations.js';
import { NEXT_LEASE_END, parseProfile, QUEUED, toNetwork, type DbAttempt, type DbNetwork, type DbUser, type DbVersion } from './sqlite-rows.js';
import { SqliteCheckpointer } from './sqlite-checkpointer.js';
import { SqliteWriterThread } from './sqlite-writer-thread.js';
import type { WriteRequests, WriteResults } from './sqlite-writes.js';

export { SQLITE_FILE_NAME } from './sqlite-connection.js';

/**
 * How an acknowledged ping must survive: `power` answers a ping or a setting
 * only once the WAL holding its commit is fsynced (one fsync covers every
 * group committed before it, and runs while the next group commits); `process`
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
  /**
   * When set, a file on an older schema is refused with this advice instead
   * of migrated: the process that uses the file (a serve of the previous
   * version) may not be able to read the new schema.
   */
  refuseUpgrade?: string;
}

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

/**
 * The embedded store: one SQLite file in WAL mode. Writes go to a writer
 * thread that owns the write connection and commits them in groups; reads
 * run here on a connection of their own (WAL readers see every committed
 * write and never block the writer). Other processes (the CLI) may open the
 * same file at the same time.
 */
export class SqliteStore implements Store {
  private readonly sql;
  private readonly networks = new NetworkCache();

  private constructor(
    private readonly db: Database.Database,
    private readonly writer: SqliteWriterThread,
    private readonly checkpointer: SqliteCheckpointer,
  ) {
    this.sql = {
      networkByName: db.prepare<[string], DbNetwork>('SELECT * FROM networks WHERE name = ?'),
      allNetworks: db.prepare<[], DbNetwork>('SELECT * FROM networks ORDER BY name'),
      // One index probe per network (users_queued), so a paused network's long queue is never walked.
      nextDue: db.prepare<{ after: number; skip: string }, { at: number | null }>(`
        SELECT MIN((SELECT due_at FROM users WHERE network_id = n.id AND ${QUEUED} AND due_at > @after
                    ORDER BY due_at LIMIT 1)) AS at
        FROM networks n WHERE n.pull_url_template IS NOT NULL AND n.id NOT IN (SELECT value FROM json_each(@skip))`),
      nextLeaseEnd: db.prepare<[number], { at: number | null }>(NEXT_LEASE_END),
      user: db.prepare<[number, string], DbUser>('SELECT * FROM users WHERE network_id = ? AND user_id = ?'),
      // Walks the user's chain of attempts (migration 3), newest first.
      attempts: db.prepare<[number, string, number], DbAttempt>(`
        WITH RECURSIVE chain(n, id) AS (
          SELECT 1, last_attempt_id FROM users WHERE network_id = ? AND user_id = ?
          UNION ALL
          SELECT n + 1, previous_id FROM chain JOIN pull_attempts a ON a.id = chain.id WHERE n < ?)
        SELECT a.* FROM chain JOIN pull_attempts a ON a.id = chain.id ORDER BY chain.n`),
      // Walks the user's chain of versions, newest first, until `limit` of them are below `before`.
      versions: db.prepare<{ networkId: number; userId: string; before: number; limit: number }, DbVersion>(`
        WITH RECURSIVE chain(seq, previous_seq, version, taken) AS (
          SELECT v.seq, v.previous_seq, v.version, v.version < @before
          FROM users u JOIN profile_versions v ON v.seq = u.last_version_seq
          WHERE u.network_id = @networkId AND u.user_id = @userId
          UNION ALL
          SELECT v.seq, v.previous_seq, v.version, chain.taken + (v.version < @before)
          FROM chain JOIN profile_versions v ON v.seq = chain.previous_seq WHERE chain.taken < @limit)
        SELECT v.version, v.profile, v.changed, v.created_at FROM chain JOIN profile_versions v ON v.seq = chain.seq
        WHERE chain.version < @before ORDER BY chain.version DESC LIMIT @limit`),
    };
  }

  /** Opens (creating when missing) the database and starts its writer and checkpointer threads; failures name the directory and keep the cause. */
  static open(options: SqliteStoreOptions): SqliteStore {
    const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
    let db: Database.Database | undefined;
    try {
      makeDataDir(options.dataDir);
      db = openConnection(options.dataDir, busyTimeoutMs);
      if (options.refuseUpgrade === undefined) migrate(db);
      else requireCurrentSchema(db, options.refuseUpgrade);
    } catch (error) {
      db?.close();
      throw new DataDirError(options.dataDir, error);
    }
    const checkpointer = new SqliteCheckpointer({ dataDir: options.dataDir, busyTimeoutMs, intervalMs: CHECKPOINT_INTERVAL_MS });
    const writer = new SqliteWriterThread({
      dataDir: options.dataDir,
      durability: options.durability ?? 'power',
      busyTimeoutMs,
      coalesceMs: options.coalesceMs ?? 0,
    });
    return new SqliteStore(db, writer, checkpointer);
  }

  async createNetwork(input: { name: string; key: string; owners?: string[] }, now: number): Promise<Network> {
    const network = await this.writer.send('createNetwork', { input, now });
    if (network === null) throw new NetworkExistsError(input.name);
    return network;
  }

  async getNetwork(name: string): Promise<Network | null> {
    return this.networks.get(name, async () => {
      const row = this.sql.networkByName.get(name);
      return row === undefined ? null : toNetwork(row);
    });
  }

  async listNetworks(): Promise<Network[]> {
    return this.sql.allNetworks.all().map(toNetwork);
  }

  async setPullUrlTemplate(networkId: number, template: string, now: number): Promise<void> {
    await this.writeNetwork('setPullUrlTemplate', { networkId, template, now });
  }

  async rotateNetworkKey(networkId: number, newKey: string, now: number): Promise<boolean> {
    return this.writeNetwork('rotateNetworkKey', { networkId, newKey, now });
  }

  async dropPreviousKey(networkId: number, now: number): Promise<boolean> {
    return this.writeNetwork('dropPreviousKey', { networkId, now });
  }

  /** A write to a network's row: the cache must not keep the row it replaced. */
  private async writeNetwork<K extends 'setPullUrlTemplate' | 'rotateNetworkKey' | 'dropPreviousKey'>(
    kind: K,
    request: WriteRequests[K],
  ): Promise<WriteResults[K]> {
    const result = await this.writer.send(kind, request);
    this.networks.clear();
    return result;
  }

  async recordPings(networkId: number, userIds: readonly string[], now: number): Promise<void> {
    await this.writer.send('recordPings', { networkId, userIds, now });
  }

  async claimDue(options: ClaimOptions): Promise<ClaimedPull[]> {
    return this.writer.send('claimDue', options);
  }

  async completePull(claim: ClaimedPull, completion: PullCompletion, now: number): Promise<boolean> {
    const lease = { networkId: claim.network.id, userId: claim.userId, leaseId: claim.leaseId };
    return this.writer.send('completePull', { lease, completion, now });
  }

  async releaseLeases(leaseIds: readonly string[] | 'all', dueAt: number, countAttempt = false): Promise<number> {
    return this.writer.send('releaseLeases', { leaseIds, dueAt, countAttempt });
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
    return this.sql.versions.all({ networkId, userId, before: beforeVersion ?? Number.MAX_SAFE_INTEGER, limit }).map((row) => ({
      version: row.version,
      profile: JSON.parse(row.profile) as Profile,
      changed: JSON.parse(row.changed) as string[],
      createdAt: row.created_at,
    }));
  }

  async close(): Promise<void> {
    // Queued writes commit before the thread stops.
    await this.writer.close();
    await this.checkpointer.close();
    this.db.close();
  }
}
