import type { ClientBase } from 'pg';

/**
 * Numbered schema migrations, applied in order at start; the table
 * p4p_schema_migrations records those applied. Never edit a shipped
 * migration: add one.
 *
 * Every table is keyed by network_id first (primary keys and indexes), so
 * one network's rows can be copied out by `WHERE network_id = $1`, and the
 * tables can later be partitioned by network_id without changing a query.
 */
const MIGRATIONS: readonly string[] = [
  /* 1 */ `
  CREATE TABLE networks (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL UNIQUE,
    key text NOT NULL,
    previous_key text,
    owners json NOT NULL DEFAULT '[]',
    pull_url_template text,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL
  );

  CREATE TABLE users (
    network_id integer NOT NULL REFERENCES networks(id),
    user_id text NOT NULL,
    state text NOT NULL CHECK (state IN ('idle', 'waiting', 'in_flight', 'retrying', 'failed')),
    dirty boolean NOT NULL DEFAULT false,
    due_at bigint,
    attempts integer NOT NULL DEFAULT 0,
    lease_id text,
    lease_until bigint,
    last_ping_at bigint,
    last_pull_at bigint,
    last_outcome text,
    last_message text,
    profile json,
    version integer NOT NULL DEFAULT 0,
    updated_at bigint,
    PRIMARY KEY (network_id, user_id)
  );
  CREATE INDEX users_queued ON users (network_id, due_at) WHERE state IN ('waiting', 'retrying');
  CREATE INDEX users_leased ON users (network_id, lease_until) WHERE state = 'in_flight';
  CREATE UNIQUE INDEX users_by_lease ON users (lease_id) WHERE lease_id IS NOT NULL;

  CREATE TABLE profile_versions (
    network_id integer NOT NULL,
    user_id text NOT NULL,
    version integer NOT NULL,
    profile json NOT NULL,
    changed json NOT NULL,
    created_at bigint NOT NULL,
    PRIMARY KEY (network_id, user_id, version)
  );

  CREATE TABLE pull_attempts (
    id bigint GENERATED ALWAYS AS IDENTITY,
    network_id integer NOT NULL,
    user_id text NOT NULL,
    at bigint NOT NULL,
    outcome text NOT NULL,
    http_status integer,
    duration_ms integer NOT NULL,
    message text,
    warnings json NOT NULL DEFAULT '[]',
    response_excerpt text,
    PRIMARY KEY (network_id, user_id, id)
  );
  `,
  /* 2 */ `
  ALTER TABLE users ADD COLUMN queued_at bigint;
  `,
  /* 3: the first steps of a claim in one round trip (postgres-store.ts, claimIn). */ `
  CREATE FUNCTION p4p_lock_due_networks(p_now bigint, p_skip integer[], p_lock_key integer, p_finished text[])
  RETURNS TABLE (due_network_id integer, in_flight bigint)
  LANGUAGE plpgsql VOLATILE
  -- The tables of the schema it was created in, whatever the caller's search_path.
  SET search_path FROM CURRENT
  AS $$
  DECLARE
    v_ids integer[];
    v_id integer;
  BEGIN
    -- A dead process's leases come back once they expire; rows another claimer is requeueing are skipped.
    WITH expired AS MATERIALIZED (
      SELECT e.network_id, e.user_id FROM users e WHERE e.state = 'in_flight' AND e.lease_until <= p_now FOR UPDATE SKIP LOCKED)
    UPDATE users u SET state = 'waiting', due_at = u.lease_until, lease_id = NULL, lease_until = NULL
    FROM expired x WHERE u.network_id = x.network_id AND u.user_id = x.user_id;

    SELECT array_agg(n.id ORDER BY n.id) INTO v_ids FROM networks n
    WHERE n.pull_url_template IS NOT NULL AND NOT (n.id = ANY(p_skip)) AND EXISTS (
      SELECT 1 FROM users d WHERE d.network_id = n.id AND d.state IN ('waiting', 'retrying') AND d.due_at <= p_now);
    IF v_ids IS NULL THEN RETURN; END IF;

    -- Claimers of a network take turns, locking in id order so that they cannot deadlock. Under READ COMMITTED
    -- (every p4p transaction) each statement of a volatile function reads a fresh snapshot, so the counts below
    -- include the leases of the claimer waited for.
    FOREACH v_id IN ARRAY v_ids LOOP
      PERFORM pg_advisory_xact_lock(p_lock_key, v_id);
    END LOOP;
    -- Pulls in flight, but for the finished ones whose completion the caller has not committed yet.
    RETURN QUERY
      SELECT t.nid, (SELECT count(*) FROM users f
                     WHERE f.network_id = t.nid AND f.state = 'in_flight' AND (f.lease_id = ANY(p_finished)) IS NOT TRUE)
      FROM unnest(v_ids) AS t(nid) ORDER BY t.nid;
  END $$;
  `,
];

/** The latest schema version this p4p knows. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** Key of the session advisory lock that serialises migrations between processes starting at once. */
const MIGRATION_LOCK_KEY = 0x70347031;

/**
 * Applies the migrations not yet applied, each in its own transaction, under
 * an advisory lock: N processes starting at once apply each migration once.
 * Resolves to the versions it applied.
 *
 * The statement timeout is lifted meanwhile (waiting for another process's
 * migration, or a long migration, is no stuck query), and restored to the
 * connection's own default before the connection is handed back.
 */
export async function migrate(client: ClientBase): Promise<number[]> {
  await client.query('SET statement_timeout = 0');
  await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
  try {
    await client.query(`
      CREATE TABLE IF NOT EXISTS p4p_schema_migrations (
        version integer PRIMARY KEY,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
    const { rows } = await client.query<{ version: number | null }>('SELECT max(version) AS version FROM p4p_schema_migrations');
    const current = rows[0]?.version ?? 0;
    if (current > MIGRATIONS.length) {
      throw new Error(`the database schema is version ${current}, newer than this p4p knows (${MIGRATIONS.length}); upgrade p4p`);
    }
    const applied: number[] = [];
    for (let index = current; index < MIGRATIONS.length; index += 1) {
      await client.query('BEGIN');
      try {
        await client.query(MIGRATIONS[index]!);
        await client.query('INSERT INTO p4p_schema_migrations (version) VALUES ($1)', [index + 1]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
      applied.push(index + 1);
    }
    return applied;
  } finally {
    // When the connection broke, the lock went with it, and the error to report is the original one.
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await client.query('RESET statement_timeout').catch(() => undefined);
  }
}
