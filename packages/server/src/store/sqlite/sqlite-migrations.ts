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
];

export function migrate(db: Database.Database): void {
  const version = (): number => db.pragma('user_version', { simple: true }) as number;
  if (version() > MIGRATIONS.length) {
    throw new Error(`the database schema is version ${version()}, newer than this p4p knows (${MIGRATIONS.length}); upgrade p4p`);
  }
  for (let index = version(); index < MIGRATIONS.length; index += 1) {
    db.transaction(() => {
      // Read again under the write lock: another process may have just applied it.
      if (version() > index) return;
      db.exec(MIGRATIONS[index]!);
      db.pragma(`user_version = ${index + 1}`);
    }).immediate();
  }
}
