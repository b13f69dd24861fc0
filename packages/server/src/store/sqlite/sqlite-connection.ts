import { join } from 'node:path';
import Database from 'better-sqlite3';

export const SQLITE_FILE_NAME = 'p4p.db';

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
