import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * Creates the data directory and any missing parents, one level at a time;
 * refuses a path that is not a directory (SQLite would only say it cannot open it).
 * Node 20's `mkdirSync(path, { recursive: true })` never returns for a path
 * under /proc (it retries forever), which hung `p4p serve --data /proc/x`;
 * one level at a time, the first directory that cannot be made throws.
 */
export function makeDataDir(dataDir: string): void {
  if (existsSync(dataDir) && !statSync(dataDir).isDirectory()) {
    throw new Error(`${dataDir} is not a directory`);
  }
  const missing: string[] = [];
  for (let dir = resolve(dataDir); !existsSync(dir) && dirname(dir) !== dir; dir = dirname(dir)) missing.push(dir);
  for (const dir of missing.reverse()) {
    try {
      mkdirSync(dir);
    } catch (error) {
      // Made meanwhile by another process: as good as made here.
      if ((error as { code?: string }).code !== 'EEXIST') throw error;
    }
  }
}
