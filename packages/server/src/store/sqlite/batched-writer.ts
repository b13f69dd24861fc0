import { closeSync, fdatasync, openSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { StoreUnavailableError } from '../store.js';

interface Job {
  run: () => unknown;
  weight: number;
  durable: boolean;
  /** What run returned, kept while the write waits for a WAL fsync. */
  value?: unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** SQLite result codes that mean "not now" rather than "never". */
const UNAVAILABLE_CODES = /^SQLITE_(BUSY|LOCKED|FULL|IOERR|CANTOPEN|READONLY)/;

/** A driver error as the rest of p4p sees it: unavailable (retry later) or as it was. */
function normalise(error: unknown): unknown {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && UNAVAILABLE_CODES.test(code) ? new StoreUnavailableError({ cause: error }) : error;
}

/** How a write must survive once its promise resolves. */
export interface WriteOptions {
  /** About how many rows it touches; a commit holds a bounded number. Default 1. */
  weight?: number;
  /**
   * True: it must survive a power loss (an acknowledged ping, a setting), so
   * it settles after a WAL fsync when the store's durability is `power`. False: a
   * crash of p4p is enough (claims, pull results: if a power loss drops one,
   * the lease is requeued at restart and the pull simply happens again).
   * Default false.
   */
  durable?: boolean;
}

/**
 * Group commit: writes queued during one turn of the event loop run in a
 * single transaction. A write's promise settles after its COMMIT and, for a
 * durable write under `power`, once an fsync of the WAL file that began after
 * that COMMIT has returned: that is what makes an answer sent after
 * `await write(...)` durable.
 *
 * Every commit runs with `synchronous = NORMAL` (no fsync inside COMMIT);
 * the WAL is fsynced from libuv's thread pool instead, so the next group
 * commits while the last one's fsync runs, and one fsync covers every group
 * committed before it began. (SQLite still syncs the WAL header when it
 * starts or restarts the log, and the log before a checkpoint copies it.)
 *
 * A write that throws rolls the whole batch back; the batch then runs again
 * one write per transaction, so that the failing write fails alone. (A
 * savepoint per write would isolate it in one pass, but costs about a
 * quarter of a pull's SQLite time on every write, to serve a rare case.)
 * Writes must therefore be safe to run again after a rollback.
 */
export class BatchedWriter {
  private queue: Job[] = [];
  private scheduled = false;
  private readonly runOne: Database.Transaction<(run: () => unknown) => unknown>;
  private readonly runAll: Database.Transaction<(jobs: Job[]) => unknown[]>;

  /** Under `power`: the WAL file, opened at the first durable commit. */
  private walFd: number | null = null;
  /** Durable writes committed since the running WAL fsync began: the next fsync settles them. */
  private awaitingSync: Job[] = [];
  /** The running WAL fsync, if any. */
  private syncing: Promise<void> | null = null;

  constructor(
    private readonly db: Database.Database,
    /** `power`: durable writes settle after a WAL fsync; `process`: nothing is fsynced. */
    private readonly durability: 'power' | 'process',
    /** Called after every rollback, for state kept outside the database that the rollback undid. */
    private readonly onRollback: () => void = () => undefined,
    /** Most rows (the sum of the writes' weights) in one transaction, so one commit never holds up the writes queued behind it for long. */
    private readonly maxRowsPerCommit = 20_000,
  ) {
    if (durability === 'power' && String(db.pragma('journal_mode', { simple: true })).toLowerCase() !== 'wal') {
      throw new Error('durability power syncs the WAL file: open the database in WAL mode');
    }
    db.pragma('synchronous = NORMAL');
    this.runOne = db.transaction((run: () => unknown) => run());
    this.runAll = db.transaction((jobs: Job[]) => jobs.map((job) => job.run()));
  }

  /** Queues a write. Resolves after its commit, and a durable one under `power` after the WAL fsync that follows it. */
  write<T>(run: () => T, { weight = 1, durable = false }: WriteOptions = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run, weight, durable, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Waits for the WAL fsyncs still to come (every write queued before has settled then), and closes the WAL file. */
  async close(): Promise<void> {
    while (this.syncing !== null) await this.syncing;
    if (this.walFd !== null) closeSync(this.walFd);
    this.walFd = null;
  }

  /** Settles a committed write now, or holds it for the next WAL fsync when it must survive a power loss. */
  private settle(job: Job, value: unknown): void {
    if (!job.durable || this.durability === 'process') return job.resolve(value);
    job.value = value;
    this.awaitingSync.push(job);
  }

  /** Starts a WAL fsync for the durable writes committed so far, unless one is running (its end starts the next). */
  private syncWal(): void {
    if (this.syncing !== null || this.awaitingSync.length === 0) return;
    const covered = this.awaitingSync;
    this.awaitingSync = [];
    this.syncing = new Promise((resolve) => {
      const done = (error: Error | null): void => {
        // An fsync that failed leaves the writes committed but not known to be on disk: they fail, and a retried ping is harmless.
        const failure = error === null ? null : new StoreUnavailableError({ cause: error });
        for (const job of covered) failure === null ? job.resolve(job.value) : job.reject(failure);
        this.syncing = null;
        resolve();
        this.syncWal();
      };
      try {
        // The writer's connection has written to the log, so SQLite keeps this -wal file (same inode) until that connection closes.
        this.walFd ??= openSync(`${this.db.name}-wal`, 'r+');
        fdatasync(this.walFd, done);
      } catch (error) {
        done(error as Error);
      }
    });
  }

  private takeBatch(): Job[] {
    let rows = 0;
    let count = 0;
    while (count < this.queue.length && (count === 0 || rows + this.queue[count]!.weight <= this.maxRowsPerCommit)) {
      rows += this.queue[count]!.weight;
      count += 1;
    }
    return this.queue.splice(0, count);
  }

  private flush(): void {
    const jobs = this.takeBatch();
    if (this.queue.length > 0) setImmediate(() => this.flush());
    else this.scheduled = false;
    let values: unknown[];
    try {
      values = this.runAll.immediate(jobs);
    } catch (error) {
      this.onRollback();
      const failure = normalise(error);
      // The database itself failed (disk full, I/O error, busy): every write of the batch fails with it.
      if (jobs.length === 1 || failure instanceof StoreUnavailableError) for (const job of jobs) job.reject(failure);
      else for (const job of jobs) this.runAlone(job);
      this.syncWal();
      return;
    }
    jobs.forEach((job, index) => this.settle(job, values[index]));
    this.syncWal();
  }

  private runAlone(job: Job): void {
    try {
      this.settle(job, this.runOne.immediate(job.run));
    } catch (error) {
      this.onRollback();
      job.reject(normalise(error));
    }
  }
}
