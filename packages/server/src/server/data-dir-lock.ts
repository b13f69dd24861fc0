import { join } from 'node:path';
import Database from 'better-sqlite3';
import { makeDataDir } from '../store/sqlite/make-data-dir.js';

const LOCK_FILE = 'serve.lock';

/** Another `p4p serve` holds the data directory. */
export class DataDirLockedError extends Error {
  constructor(dataDir: string) {
    super(`another p4p serve is using ${dataDir}; stop it or pass another --data`);
    this.name = 'DataDirLockedError';
  }
}

/**
 * One `p4p serve` per SQLite data directory: that process may then treat
 * every lease in the file as its own (released at start, so a crash strands
 * nothing). The lock is an exclusive SQLite transaction held open on a side
 * file: the operating system drops it when the process dies, however it
 * dies, so there is no stale lock to take over. Returns the release.
 */
export function lockDataDir(dataDir: string): () => void {
  makeDataDir(dataDir);
  const lock = new Database(join(dataDir, LOCK_FILE), { timeout: 0 });
  try {
    lock.exec('CREATE TABLE IF NOT EXISTS lock (held INTEGER)');
    lock.exec('BEGIN EXCLUSIVE');
  } catch (error) {
    lock.close();
    if ((error as { code?: string }).code === 'SQLITE_BUSY') throw new DataDirLockedError(dataDir);
    throw error;
  }
  return () => {
    lock.exec('ROLLBACK');
    lock.close();
  };
}

/** Whether a `p4p serve` holds the data directory right now. */
export function dataDirIsServed(dataDir: string): boolean {
  try {
    lockDataDir(dataDir)();
    return false;
  } catch (error) {
    if (error instanceof DataDirLockedError) return true;
    throw error;
  }
}
