import { existsSync } from 'node:fs';
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
  return holdLock(dataDir, new Database(join(dataDir, LOCK_FILE), { timeout: 0 }));
}

/** Whether a `p4p serve` holds the data directory right now (one that never had a serve has no lock file, and none is made). */
export function dataDirIsServed(dataDir: string): boolean {
  const path = join(dataDir, LOCK_FILE);
  if (!existsSync(path)) return false;
  try {
    holdLock(dataDir, new Database(path, { timeout: 0, fileMustExist: true }))();
    return false;
  } catch (error) {
    if (error instanceof DataDirLockedError) return true;
    throw error;
  }
}

function holdLock(dataDir: string, lock: Database.Database): () => void {
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
