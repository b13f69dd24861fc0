import pg from 'pg';
import type { Profile } from '../../profile/profile.js';
import {
  ATTEMPTS_KEPT_PER_USER,
  NetworkExistsError,
  SETTLE_MAX_MS,
  StoreUnavailableError,
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
import { NetworkCache } from '../network-cache.js';
import { attemptFromRow, networkFromRow, storableText, userRecordFromRow, type AttemptRow, type NetworkRow, type UserRow } from '../store-rows.js';
import { GroupCommit } from './group-commit.js';
import { normalise } from './postgres-errors.js';
import { migrate, SCHEMA_VERSION } from './postgres-migrations.js';

export interface PostgresStoreOptions {
  /** postgres://user@host:port/database */
  url: string;
  /** Most connections this process opens. Default 10. */
  poolMax?: number;
  /** Longest a statement may run, in ms; also how long a query waits for a free connection. Default 5000. */
  statementTimeoutMs?: number;
  /** A pinged user not already queued becomes due this many ms later (see Store.recordPings). Default 0. */
  coalesceMs?: number;
}

/** The channel on which a committed ping, release or pull URL change announces due work to every process. */
export const WORK_CHANNEL = 'p4p_work';

/** Payload prefix of the notification that a network's pull URL changed; the network id follows. */
export const PULL_URL_CHANGED = 'pull_url:';

/** Key (first half) of the transaction advisory locks that serialise claimers of one network across processes. */
const CLAIM_LOCK_KEY = 0x70347032;

/** bigint columns hold Unix ms and counts, all far below 2^53: read them as numbers. */
const TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 ? Number : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

interface PingItem {
  networkId: number;
  userId: string;
  now: number;
}

interface CompletionItem {
  claim: ClaimedPull;
  completion: PullCompletion;
  now: number;
}

const QUEUED = `state IN ('waiting', 'retrying')`;


/**
 * One row per (network, user) pinged in a batch, with its first and last
 * ping time: applying that row once is the same as applying each ping in
 * turn. Sorted, so that every process locks rows in the same order and two
 * ping batches cannot deadlock.
 */
function coalescePings(items: readonly PingItem[]): Array<{ networkId: number; userId: string; first: number; last: number }> {
  const byUser = new Map<string, { networkId: number; userId: string; first: number; last: number }>();
  for (const { networkId, userId, now } of items) {
    const key = `${networkId}\u0000${userId}`;
    const row = byUser.get(key);
    if (row === undefined) byUser.set(key, { networkId, userId, first: now, last: now });
    else {
      row.first = Math.min(row.first, now);
      row.last = Math.max(row.last, now);
    }
  }
  return [...byUser.values()].sort((a, b) => a.networkId - b.networkId || (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0));
}

/**
 * The shared store: one PostgreSQL database used by any number of p4p
 * processes. Pings and pull results are group-committed. Pings and claims
 * commit with synchronous_commit on: a claim lost in a database crash would
 * put the user back in the queue while its claimer, alive, still pulls it, and
 * another process could pull it at the same time. Pull results commit without
 * waiting for the WAL flush: a lost one keeps the lease, so the pull only
 * happens again after the lease expires. Claimers of one network are serialised by a transaction advisory lock, so the per-network
 * in-flight limit holds across processes; rows are leased with
 * FOR UPDATE SKIP LOCKED so claimers never wait on pings.
 */
export class PostgresStore implements Store {
  private readonly pings: GroupCommit<PingItem>;
  private readonly completions: GroupCommit<CompletionItem, boolean>;
  private readonly networks = new NetworkCache();
  /**
   * Leases of pulls that are over but whose completion is not committed yet.
   * A claim does not count them as in flight: the Store contract frees a
   * finished pull's place at once, and waiting for the commit would delay
   * every claim behind a batch of completions.
   */
  private readonly finishedLeases = new Set<string>();
  /** Rotates which network is served first, for fairness between networks. */
  private claimRotation = Math.floor(Math.random() * 1000);

  private constructor(
    private readonly pool: pg.Pool,
    private readonly coalesceMs: number,
  ) {
    this.pings = new GroupCommit((items) => this.transaction((client) => this.writePings(client, items), { durable: true }));
    this.completions = new GroupCommit((items) => this.transaction((client) => this.writeCompletions(client, items)));
  }

  /** Connects, applies pending migrations (under an advisory lock) and returns the store. */
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const statementTimeoutMs = options.statementTimeoutMs ?? 5000;
    const pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolMax ?? 10,
      connectionTimeoutMillis: statementTimeoutMs,
      statement_timeout: statementTimeoutMs,
      idle_in_transaction_session_timeout: statementTimeoutMs * 2,
      application_name: 'p4p',
      keepAlive: true,
      types: TYPES,
    });
    // An idle connection dropped by the server (restart, admin shutdown) is discarded by the pool; nothing else to do.
    pool.on('error', () => undefined);
    try {
      const client = await pool.connect();
      try {
        await migrate(client);
      } finally {
        client.release();
      }
    } catch (error) {
      await pool.end();
      throw normalise(error);
    }
    return new PostgresStore(pool, options.coalesceMs ?? 0);
  }

  /** Applies pending migrations and closes: `p4p migrate`. */
  static async migrate(url: string): Promise<{ applied: number[]; version: number }> {
    const client = new pg.Client({ connectionString: url, application_name: 'p4p-migrate' });
    try {
      await client.connect();
      return { applied: await migrate(client), version: SCHEMA_VERSION };
    } catch (error) {
      throw normalise(error);
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  /** Runs `work` in one transaction on one connection; a broken connection is discarded, never reused. */
  private async transaction<T>(work: (client: pg.PoolClient) => Promise<T>, { durable = false } = {}): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw normalise(error);
    }
    try {
      // READ COMMITTED whatever the database's default: the claim's counts rely on each statement's fresh snapshot.
      await client.query(`BEGIN ISOLATION LEVEL READ COMMITTED; SET LOCAL synchronous_commit = ${durable ? 'on' : 'off'}`);
      const result = await work(client);
      await client.query('COMMIT');
      client.release();
      return result;
    } catch (error) {
      try {
        await client.query('ROLLBACK');
        client.release();
      } catch {
        client.release(true);
      }
      throw normalise(error);
    }
  }

  private async query<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
    try {
      return (await this.pool.query<R>(text, values)).rows;
    } catch (error) {
      throw normalise(error);
    }
  }

  async createNetwork(input: { name: string; key: string; owners?: string[] }, now: number): Promise<Network> {
    try {
      const { rows } = await this.transaction(
        (client) =>
          client.query<NetworkRow>(
            `INSERT INTO networks (name, key, owners, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) RETURNING *`,
            [input.name, input.key, JSON.stringify(input.owners ?? []), now],
          ),
        { durable: true },
      );
      return networkFromRow(rows[0]!);
    } catch (error) {
      if ((error as { code?: string }).code === '23505') throw new NetworkExistsError(input.name, { cause: error });
      throw error;
    }
  }

  async getNetwork(name: string): Promise<Network | null> {
    return this.networks.get(name, async () => {
      const [row] = await this.query<NetworkRow>('SELECT * FROM networks WHERE name = $1', [name]);
      return row === undefined ? null : networkFromRow(row);
    });
  }

  async listNetworks(): Promise<Network[]> {
    return (await this.query<NetworkRow>('SELECT * FROM networks ORDER BY name')).map(networkFromRow);
  }

  async setPullUrlTemplate(networkId: number, template: string, now: number): Promise<void> {
    await this.transaction(async (client) => {
      await client.query('UPDATE networks SET pull_url_template = $1, updated_at = $2 WHERE id = $3', [template, now, networkId]);
      await client.query(`UPDATE users SET due_at = $1, attempts = 0 WHERE network_id = $2 AND state = 'retrying'`, [now, networkId]);
      await client.query('SELECT pg_notify($1, $2)', [WORK_CHANNEL, `${PULL_URL_CHANGED}${networkId}`]);
    }, { durable: true });
    this.networks.clear();
  }

  async rotateNetworkKey(networkId: number, newKey: string, now: number): Promise<boolean> {
    return this.updateNetwork('UPDATE networks SET previous_key = key, key = $1, updated_at = $2 WHERE id = $3 AND previous_key IS NULL', [
      newKey,
      now,
      networkId,
    ]);
  }

  async dropPreviousKey(networkId: number, now: number): Promise<boolean> {
    return this.updateNetwork('UPDATE networks SET previous_key = NULL, updated_at = $1 WHERE id = $2 AND previous_key IS NOT NULL', [now, networkId]);
  }

  /** One durable UPDATE of a network's row; true when it changed the row. The cache must not keep the row it replaced. */
  private async updateNetwork(sql: string, values: unknown[]): Promise<boolean> {
    const updated = await this.transaction((client) => client.query(sql, values), { durable: true });
    this.networks.clear();
    return updated.rowCount! > 0;
  }

  async recordPings(networkId: number, userIds: readonly string[], now: number): Promise<void> {
    if (userIds.length === 0) return;
    await this.pings.add(userIds.map((userId) => ({ networkId, userId, now })));
  }

  /**
   * One statement is the whole ping transition for every user of the batch,
   * and sends the NOTIFY (delivered at COMMIT): one round trip between BEGIN
   * and COMMIT.
   */
  private async writePings(client: pg.PoolClient, items: readonly PingItem[]): Promise<void[]> {
    const rows = coalescePings(items);
    await client.query(
      `WITH pinged AS (
         INSERT INTO users (network_id, user_id, state, due_at, queued_at, last_ping_at)
         SELECT network_id, user_id, 'waiting', first_at + $5::bigint, first_at + $5::bigint, last_at
         FROM unnest($1::integer[], $2::text[], $3::bigint[], $4::bigint[]) AS p (network_id, user_id, first_at, last_at)
         ON CONFLICT (network_id, user_id) DO UPDATE SET
           last_ping_at = GREATEST(users.last_ping_at, excluded.last_ping_at),
           dirty = CASE WHEN users.state = 'in_flight' THEN true ELSE users.dirty END,
           due_at = CASE WHEN users.state IN ('idle', 'failed') THEN excluded.due_at
                         WHEN users.state = 'waiting' AND users.queued_at IS NOT NULL
                           THEN GREATEST(users.due_at, LEAST(excluded.last_ping_at, users.queued_at + ${SETTLE_MAX_MS}))
                         ELSE users.due_at END,
           queued_at = CASE WHEN users.state IN ('idle', 'failed') THEN excluded.due_at ELSE users.queued_at END,
           attempts = CASE WHEN users.state IN ('idle', 'failed') THEN 0 ELSE users.attempts END,
           state = CASE WHEN users.state IN ('idle', 'failed') THEN 'waiting' ELSE users.state END)
       SELECT pg_notify($6, 'pings')`,
      [rows.map((r) => r.networkId), rows.map((r) => r.userId), rows.map((r) => r.first), rows.map((r) => r.last), this.coalesceMs, WORK_CHANNEL],
    );
    return items.map(() => undefined);
  }

  async claimDue(options: ClaimOptions): Promise<ClaimedPull[]> {
    // Durable: see the class comment (a lost claim could make two processes pull one user).
    return this.transaction((client) => this.claimIn(client, options), { durable: true });
  }

  /**
   * A claim is BEGIN, the function of migration 3 (it requeues expired
   * leases, finds the networks with due users, locks them and counts their
   * pulls in flight but for `finishedLeases`), one lease statement per fair
   * share, COMMIT: four round trips when one network has due users.
   */
  private async claimIn(client: pg.PoolClient, { now, limit, perNetworkLimit, leaseMs, skipNetworkIds }: ClaimOptions): Promise<ClaimedPull[]> {
    const { rows: due } = await client.query<NetworkRow & { in_flight: number }>(
      `SELECT n.*, c.in_flight FROM p4p_lock_due_networks($1, $2::integer[], $3, $4::text[]) c JOIN networks n ON n.id = c.due_network_id ORDER BY n.id`,
      [now, [...(skipNetworkIds ?? [])], CLAIM_LOCK_KEY, [...this.finishedLeases]],
    );
    if (due.length === 0) return [];
    const networks = due.map(networkFromRow);
    const inFlight = new Map(due.map((row) => [row.id, row.in_flight]));
    const claimed: ClaimedPull[] = [];
    const shares = fairShares(networks, this.claimRotation++, inFlight, perNetworkLimit, limit);
    for (let step = shares.next(); !step.done; ) {
      const { network, take } = step.value;
      const leased = await this.lease(client, network, now, now + leaseMs, take);
      claimed.push(...leased);
      step = shares.next(leased.length);
    }
    return claimed;
  }

  /** Leases up to `take` of the network's longest-due users, skipping rows a ping is writing right now. */
  private async lease(client: pg.PoolClient, network: Network, now: number, leaseUntil: number, take: number): Promise<ClaimedPull[]> {
    const { rows } = await client.query<{ user_id: string; lease_id: string; attempts: number; profile: Profile | null; version: number; due_at: number }>(
      `WITH d AS MATERIALIZED (
         SELECT user_id, due_at FROM users WHERE network_id = $1 AND ${QUEUED} AND due_at <= $2
         ORDER BY due_at LIMIT $4 FOR UPDATE SKIP LOCKED)
       UPDATE users u SET state = 'in_flight', lease_id = gen_random_uuid()::text, lease_until = $3,
         attempts = u.attempts + 1, dirty = false
       FROM d WHERE u.network_id = $1 AND u.user_id = d.user_id
       RETURNING u.user_id, u.lease_id, u.attempts, u.profile, u.version, d.due_at`,
      [network.id, now, leaseUntil, take],
    );
    return rows
      .sort((a, b) => a.due_at - b.due_at)
      .map((row) => ({
        leaseId: row.lease_id,
        network,
        userId: row.user_id,
        attempt: row.attempts,
        currentProfile: row.profile,
        currentVersion: row.version,
      }));
  }

  async completePull(claim: ClaimedPull, completion: PullCompletion, now: number): Promise<boolean> {
    const item = { claim, completion, now };
    this.finishedLeases.add(claim.leaseId);
    try {
      const [applied] = await this.completions.add([item]);
      return applied!;
    } catch (error) {
      if (error instanceof StoreUnavailableError) throw error;
      // A batch fails whole and nothing of it was applied: alone, only the completion at fault fails again.
      const [applied] = await this.transaction((client) => this.writeCompletions(client, [item]));
      return applied!;
    } finally {
      this.finishedLeases.delete(claim.leaseId);
    }
  }

  /**
   * Applies a batch of finished pulls in one statement (one round trip): each
   * completion's whole transition, applied only while its lease is still
   * ours, then the attempts, the new versions and the trim of old attempts
   * for the users it applied to. Users are locked in key order, as pings lock
   * them, so the two cannot deadlock. A lease completed twice in one batch
   * counts once, and a user holds one lease at a time, so each user gains at
   * most one attempt: the trim, which sees the attempts as they were before
   * the statement, keeps the newest ATTEMPTS_KEPT_PER_USER - 1 of them.
   */
  private async writeCompletions(client: pg.PoolClient, items: readonly CompletionItem[]): Promise<boolean[]> {
    const first = new Map<string, CompletionItem>();
    for (const item of items) if (!first.has(item.claim.leaseId)) first.set(item.claim.leaseId, item);
    const batch = [...first.values()];
    const column = <T>(pick: (item: CompletionItem) => T): T[] => batch.map(pick);
    const attempt = <T>(pick: (attempt: PullCompletion['attempt']) => T): T[] => column((item) => pick(item.completion.attempt));
    const { rows: updated } = await client.query<{ lease_id: string }>(
      `WITH c AS (
         SELECT * FROM unnest($1::integer[], $2::text[], $3::text[], $4::bigint[], $5::boolean[], $6::boolean[], $7::bigint[],
                              $8::text[], $9::text[], $10::json[], $11::json[],
                              $12::bigint[], $13::integer[], $14::integer[], $15::json[], $16::text[])
           AS c (network_id, user_id, lease_id, retry_at, gave_up, succeeded, now, outcome, message, profile, changed,
                 at, http_status, duration_ms, warnings, response_excerpt)),
       locked AS MATERIALIZED (
         SELECT u.network_id, u.user_id FROM users u JOIN c USING (network_id, user_id, lease_id)
         ORDER BY u.network_id, u.user_id FOR UPDATE OF u),
       done AS (
         UPDATE users u SET
           state = CASE WHEN c.retry_at IS NOT NULL THEN 'retrying' WHEN c.gave_up THEN 'failed'
                        WHEN u.dirty THEN 'waiting' WHEN c.succeeded THEN 'idle' ELSE 'failed' END,
           due_at = CASE WHEN c.retry_at IS NOT NULL THEN c.retry_at WHEN NOT c.gave_up AND u.dirty THEN c.now ELSE NULL END,
           attempts = CASE WHEN c.retry_at IS NULL AND NOT c.gave_up AND u.dirty THEN 0 ELSE u.attempts END,
           queued_at = CASE WHEN c.retry_at IS NULL AND NOT c.gave_up AND u.dirty THEN c.now ELSE u.queued_at END,
           dirty = false, lease_id = NULL, lease_until = NULL,
           last_pull_at = c.now, last_outcome = c.outcome, last_message = c.message,
           profile = COALESCE(c.profile, u.profile),
           version = u.version + CASE WHEN c.profile IS NOT NULL THEN 1 ELSE 0 END,
           updated_at = CASE WHEN c.profile IS NOT NULL THEN c.now ELSE u.updated_at END
         FROM c JOIN locked USING (network_id, user_id)
         WHERE u.network_id = c.network_id AND u.user_id = c.user_id AND u.lease_id = c.lease_id
         RETURNING c.lease_id, u.version),
       recorded AS (
         INSERT INTO pull_attempts (network_id, user_id, at, outcome, http_status, duration_ms, message, warnings, response_excerpt)
         SELECT c.network_id, c.user_id, c.at, c.outcome, c.http_status, c.duration_ms, c.message, c.warnings, c.response_excerpt
         FROM c JOIN done USING (lease_id)),
       versioned AS (
         INSERT INTO profile_versions (network_id, user_id, version, profile, changed, created_at)
         SELECT c.network_id, c.user_id, done.version, c.profile, c.changed, c.now
         FROM c JOIN done USING (lease_id) WHERE c.profile IS NOT NULL),
       trimmed AS (
         DELETE FROM pull_attempts p USING (
           SELECT c.network_id, c.user_id, (
             SELECT id FROM pull_attempts a WHERE a.network_id = c.network_id AND a.user_id = c.user_id
             ORDER BY id DESC LIMIT 1 OFFSET $17 - 1) AS cutoff
           FROM c JOIN done USING (lease_id)) t
         WHERE p.network_id = t.network_id AND p.user_id = t.user_id AND p.id <= t.cutoff)
       SELECT lease_id FROM done`,
      [
        column((i) => i.claim.network.id), column((i) => i.claim.userId), column((i) => i.claim.leaseId),
        column((i) => i.completion.retryAt), column((i) => i.completion.gaveUp),
        column((i) => i.completion.attempt.outcome === 'ok' || i.completion.attempt.outcome === 'unchanged'),
        column((i) => i.now), attempt((a) => a.outcome), attempt((a) => storableText(a.message)),
        column((i) => (i.completion.newVersion === null ? null : JSON.stringify(i.completion.newVersion.profile))),
        column((i) => (i.completion.newVersion === null ? null : JSON.stringify(i.completion.newVersion.changed))),
        attempt((a) => a.at), attempt((a) => a.httpStatus), attempt((a) => a.durationMs),
        attempt((a) => JSON.stringify(a.warnings)), attempt((a) => storableText(a.responseExcerpt)),
        ATTEMPTS_KEPT_PER_USER,
      ],
    );
    const appliedLeases = new Set(updated.map((row) => row.lease_id));
    return items.map((item) => first.get(item.claim.leaseId) === item && appliedLeases.has(item.claim.leaseId));
  }

  async releaseLeases(leaseIds: readonly string[] | 'all', dueAt: number, countAttempt = false): Promise<number> {
    const uncount = leaseIds === 'all' || !countAttempt ? 1 : 0;
    return this.transaction(async (client) => {
      const released = await client.query(
        `UPDATE users SET state = 'waiting', due_at = $1, attempts = GREATEST(attempts - $2, 0), lease_id = NULL, lease_until = NULL
         WHERE state = 'in_flight' AND ($3::text[] IS NULL OR lease_id = ANY($3::text[]))`,
        [dueAt, uncount, leaseIds === 'all' ? null : leaseIds],
      );
      if (released.rowCount! > 0) await client.query('SELECT pg_notify($1, $2)', [WORK_CHANNEL, 'released']);
      return released.rowCount!;
    });
  }

  async nextWakeAt(after: number, skipNetworkIds: ReadonlySet<number> = new Set()): Promise<number | null> {
    // One index probe per network (users_queued), so a paused network's long queue is never walked.
    const [row] = await this.query<{ due: number | null; lease_end: number | null }>(
      `SELECT
         (SELECT min((SELECT due_at FROM users WHERE network_id = n.id AND ${QUEUED} AND due_at > $1 ORDER BY due_at LIMIT 1))
          FROM networks n WHERE n.pull_url_template IS NOT NULL AND NOT (n.id = ANY($2::integer[]))) AS due,
         (SELECT min(lease_until) FROM users WHERE state = 'in_flight' AND lease_until > $1) AS lease_end`,
      [after, [...skipNetworkIds]],
    );
    const { due, lease_end: leaseEnd } = row!;
    if (due === null || leaseEnd === null) return due ?? leaseEnd;
    return Math.min(due, leaseEnd);
  }

  async getUser(networkId: number, userId: string): Promise<UserRecord | null> {
    const [row] = await this.query<UserRow>('SELECT * FROM users WHERE network_id = $1 AND user_id = $2', [networkId, userId]);
    return row === undefined ? null : userRecordFromRow(row);
  }

  async listAttempts(networkId: number, userId: string): Promise<PullAttempt[]> {
    const rows = await this.query<AttemptRow>(
      'SELECT * FROM pull_attempts WHERE network_id = $1 AND user_id = $2 ORDER BY id DESC LIMIT $3',
      [networkId, userId, ATTEMPTS_KEPT_PER_USER],
    );
    return rows.map(attemptFromRow);
  }

  async listVersions(
    networkId: number,
    userId: string,
    { limit, beforeVersion }: { limit: number; beforeVersion?: number },
  ): Promise<ProfileVersion[]> {
    const rows = await this.query<{ version: number; profile: Profile; changed: string[]; created_at: number }>(
      `SELECT version, profile, changed, created_at FROM profile_versions
       WHERE network_id = $1 AND user_id = $2 AND version < $3::bigint ORDER BY version DESC LIMIT $4`,
      [networkId, userId, beforeVersion ?? 2 ** 31 - 1, limit],
    );
    return rows.map((row) => ({ version: row.version, profile: row.profile, changed: row.changed, createdAt: row.created_at }));
  }

  async close(): Promise<void> {
    await Promise.all([this.pings.flushed(), this.completions.flushed()]);
    await this.pool.end();
  }
}
