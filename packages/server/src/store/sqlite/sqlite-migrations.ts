import type Database from 'better-sqlite3';

/**
 * Numbered schema migrations, applied in order at open; `PRAGMA user_version`
 * records the last one applied. Never edit a shipped migration: add one.
 */
const MIGRATIONS: readonly string[] = [
  /* 1 */ `
  CREATE TABLE networks (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    key TEXT NOT NULL,
    previous_key TEXT,
    owners TEXT NOT NULL DEFAULT '[]',
    pull_url_template TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );

  CREATE TABLE users (
    network_id INTEGER NOT NULL REFERENCES networks(id),
    user_id TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('idle', 'waiting', 'in_flight', 'retrying', 'failed')),
    dirty INTEGER NOT NULL DEFAULT 0,
    due_at INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0,
    lease_id TEXT,
    lease_until INTEGER,
    last_ping_at INTEGER,
    last_pull_at INTEGER,
    last_outcome TEXT,
    last_message TEXT,
    profile TEXT,
    version INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER,
    PRIMARY KEY (network_id, user_id)
  );
  CREATE INDEX users_queued ON users (network_id, due_at) WHERE state IN ('waiting', 'retrying');
  CREATE INDEX users_leased ON users (network_id, lease_until) WHERE state = 'in_flight';

  CREATE TABLE profile_versions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    network_id INTEGER NOT NULL,
    user_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    profile TEXT NOT NULL,
    changed TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (network_id, user_id, version)
  );

  CREATE TABLE pull_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    network_id INTEGER NOT NULL,
    user_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    http_status INTEGER,
    duration_ms INTEGER NOT NULL,
    message TEXT,
    warnings TEXT NOT NULL DEFAULT '[]',
    response_excerpt TEXT
  );
  CREATE INDEX pull_attempts_by_user ON pull_attempts (network_id, user_id, id);
  `,
  /* 2 */ `
  ALTER TABLE users ADD COLUMN queued_at INTEGER;
  `,
  /*
   * 3: a user's attempts and versions are chained from the users row instead
   * of indexed by user. With a million users, each per-user index put every
   * pull on two more scattered pages (docs/benchmarks.md, row 9); the chain
   * pointers live in the users row, which every pull writes anyway. Both
   * tables keep AUTOINCREMENT: a trimmed attempt leaves the next one's
   * previous_id dangling, and that id must never be given to another row.
   */ `
  ALTER TABLE users ADD COLUMN last_attempt_id INTEGER;
  ALTER TABLE users ADD COLUMN kept_attempts INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE users ADD COLUMN last_version_seq INTEGER;

  ALTER TABLE pull_attempts ADD COLUMN previous_id INTEGER;
  UPDATE pull_attempts SET previous_id = (
    SELECT MAX(p.id) FROM pull_attempts p
    WHERE p.network_id = pull_attempts.network_id AND p.user_id = pull_attempts.user_id AND p.id < pull_attempts.id);
  UPDATE users SET
    last_attempt_id = (SELECT MAX(p.id) FROM pull_attempts p WHERE p.network_id = users.network_id AND p.user_id = users.user_id),
    kept_attempts = (SELECT COUNT(*) FROM pull_attempts p WHERE p.network_id = users.network_id AND p.user_id = users.user_id),
    last_version_seq = (
      SELECT v.seq FROM profile_versions v WHERE v.network_id = users.network_id AND v.user_id = users.user_id
      ORDER BY v.version DESC LIMIT 1);
  DROP INDEX pull_attempts_by_user;

  -- A UNIQUE constraint's index cannot be dropped: the table is rebuilt without it.
  CREATE TABLE chained_versions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    network_id INTEGER NOT NULL,
    user_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    profile TEXT NOT NULL,
    changed TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    previous_seq INTEGER
  );
  INSERT INTO chained_versions (seq, network_id, user_id, version, profile, changed, created_at, previous_seq)
    SELECT seq, network_id, user_id, version, profile, changed, created_at, (
      SELECT p.seq FROM profile_versions p
      WHERE p.network_id = v.network_id AND p.user_id = v.user_id AND p.version < v.version
      ORDER BY p.version DESC LIMIT 1)
    FROM profile_versions v ORDER BY seq;
  DROP TABLE profile_versions;
  ALTER TABLE chained_versions RENAME TO profile_versions;
  `,
];

function schemaVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** The schema version of `db`, refused when a newer p4p wrote it. */
function knownSchemaVersion(db: Database.Database): number {
  const version = schemaVersion(db);
  if (version > MIGRATIONS.length) {
    throw new Error(`the database schema is version ${version}, newer than this p4p knows (${MIGRATIONS.length}); upgrade p4p`);
  }
  return version;
}

/** Refuses a file on another schema than this p4p's, saying `advice` when it is older, instead of migrating it. */
export function requireCurrentSchema(db: Database.Database, advice: string): void {
  const version = knownSchemaVersion(db);
  if (version < MIGRATIONS.length) {
    throw new Error(`the database schema is version ${version}, older than this p4p's (${MIGRATIONS.length}); ${advice}`);
  }
}

/** Applies the migrations not yet applied, up to `through` (all of them unless a test asks for an older schema). */
export function migrate(db: Database.Database, through = MIGRATIONS.length): void {
  for (let index = knownSchemaVersion(db); index < through; index += 1) {
    db.transaction(() => {
      // Read again under the write lock: another process may have just applied it.
      if (schemaVersion(db) > index) return;
      db.exec(MIGRATIONS[index]!);
      db.pragma(`user_version = ${index + 1}`);
    }).immediate();
  }
}
