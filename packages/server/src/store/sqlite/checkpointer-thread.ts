/**
 * The checkpointer thread: copies the WAL back into the database file every
 * `intervalMs` (PASSIVE: it neither waits for nor blocks the writer).
 * A checkpoint writes the pages changed since the last one and fsyncs the
 * database file; run by the writer thread, as SQLite's automatic checkpoint
 * is, it held up every write queued behind it, the more so the larger the
 * database (docs/benchmarks.md, row 9).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openConnection } from './sqlite-connection.js';

export interface CheckpointerOptions {
  dataDir: string;
  busyTimeoutMs: number;
  intervalMs: number;
}

const port = parentPort!;
const options = workerData as CheckpointerOptions;
const db = openConnection(options.dataDir, options.busyTimeoutMs);
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // Tried again at the next tick; meanwhile the writer's own automatic checkpoint bounds the WAL.
  }
}, options.intervalMs);

// The only message is "stop".
port.once('message', () => {
  clearInterval(timer);
  db.close();
  port.close();
});
