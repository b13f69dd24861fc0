import { join } from 'node:path';
import Database from 'better-sqlite3';

export const SQLITE_FILE_NAME = 'p4p.db';

/** WAL pages (4 KiB) after which the writer checkpoints by itself: 40 MiB, ten times SQLite's default, a backstop behind the checkpointer thread. */
export const WRITER_CHECKPOINT_PAGES = 10_000;

/** How often the checkpointer thread copies the WAL back into the database file, in ms. */
export const CHECKPOINT_INTERVAL_MS = 100;

/** One connection to the data directory's database, set up the way every p4p connection is. */
export function openConnection(dataDir: string, busyTimeoutMs: number): Database.Database {
  const db = new Database(join(dataDir, SQLITE_FILE_NAME));
  try {
    db.pragma('journal_mode = WAL');
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    db.pragma('foreign_keys = ON');
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}
