import type Database from 'better-sqlite3';
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { StoreUnavailableError } from '../store.js';

interface Job {
  run: () => unknown;
  weight: number;
  durable: boolean;
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
   * its promise waits for an fsync of the WAL when the store's durability is
   * `power`. False: a crash of p4p is enough (claims, pull results: if a
   * power loss drops one, the lease is requeued at restart and the pull
   * simply happens again). Default false.
   */
  durable?: boolean;
}

/** fsync(2) of the file at `path` through a descriptor of its own, on libuv's thread pool. */
async function syncFile(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Group commit: writes queued during one turn of the event loop run in a
 * single transaction, each in its own savepoint, so a failing write rolls
 * back alone and rejects alone. Promises settle in commit order and only
 * once the write is as durable as asked, which is what makes an answer sent
 * after `await write(...)` durable.
 *
 * Every commit runs with `synchronous = NORMAL`: in WAL mode that writes the
 * WAL without syncing it (SQLite syncs the WAL only before a checkpoint).
 * A batch holding a durable write under `power` is then made durable by an
 * fsync of the `-wal` file, started at once on libuv's thread pool, so the
 * event loop keeps reading requests and the next batches commit and start
 * their own fsyncs meanwhile (the disk serves overlapping fsyncs about as
 * fast as one: see docs/benchmarks.md). This relies on: fsync(2) flushing the file's
 * data whichever descriptor names it; SQLite keeping the WAL file (same
 * inode) while a connection is open: a checkpoint restarts writing at its
 * start, `journal_size_limit` truncates it in place, and only the last
 * connection's close deletes it. Opening the path for each fsync also
 * catches a WAL deleted from under p4p (the open fails). The directory is
 * synced once, since SQLite syncs it for a new WAL only at a FULL commit or
 * checkpoint. A failed fsync rejects the batches it covered as
 * unavailable, and every later durable write too: the kernel may have
 * dropped the unsynced WAL pages, so no later commit can be trusted to be
 * on disk until a restart recovers from what is.
 */
export class BatchedWriter {
  private queue: Job[] = [];
  private scheduled = false;
  private readonly runOne: (run: () => unknown) => unknown;
  private readonly runBatch: Database.Transaction<(jobs: Job[]) => Array<{ ok: boolean; value: unknown }>>;
  private readonly walPath: string;
  /** Settles once every batch committed so far has settled: batches settle in commit order. */
  private settled: Promise<void> = Promise.resolve();
  private directorySynced: Promise<void> | null = null;
  /** Set by the first failed fsync; every batch settling after it that needed an fsync fails with it. */
  private syncFailure: StoreUnavailableError | null = null;

  constructor(
    private readonly db: Database.Database,
    /** `power`: durable writes settle after an fsync of the WAL; `process`: none waits for one. */
    private readonly durability: 'power' | 'process',
    /** Most rows (the sum of the writes' weights) in one transaction, so one commit never stalls the event loop for long. */
    private readonly maxRowsPerCommit = 20_000,
  ) {
    if (db.pragma('journal_mode', { simple: true }) !== 'wal') throw new Error(`${db.name} must be in WAL mode for the batched writer`);
    db.pragma('synchronous = NORMAL');
    this.walPath = `${db.name}-wal`;
    this.runOne = db.transaction((run: () => unknown) => run());
    this.runBatch = db.transaction((jobs: Job[]) =>
      jobs.map((job) => {
        try {
          return { ok: true, value: this.runOne(job.run) };
        } catch (error) {
          // SQLite rolled the whole transaction back (disk full, I/O error): the batch fails as one.
          if (!this.db.inTransaction) throw error;
          return { ok: false, value: normalise(error) };
        }
      }),
    );
  }

  /** Queues a write. Resolves after its commit (and its fsync, when durable under `power`). */
  write<T>(run: () => T, { weight = 1, durable = false }: WriteOptions = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run, weight, durable, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
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
    let results: Array<{ ok: boolean; value: unknown }>;
    try {
      results = this.runBatch.immediate(jobs);
    } catch (error) {
      const failure = normalise(error);
      this.settleInOrder(undefined, () => jobs.forEach((job) => job.reject(failure)));
      return;
    }
    const needsSync = this.durability === 'power' && jobs.some((job) => job.durable);
    this.settleInOrder(needsSync ? this.syncWal() : undefined, () => {
      const failure = needsSync ? this.syncFailure : null;
      jobs.forEach((job, index) => {
        const result = results[index]!;
        if (!result.ok) job.reject(result.value);
        else if (failure) job.reject(failure);
        else job.resolve(result.value);
      });
    });
  }

  /** Runs `settle` once `synced` (the batch's fsync, if any) and every earlier batch have settled. */
  private settleInOrder(synced: Promise<void> | undefined, settle: () => void): void {
    this.settled = Promise.all([this.settled, synced]).then(settle);
  }

  /** fsyncs the WAL, holding every commit so far; a failure is kept in `syncFailure`. */
  private async syncWal(): Promise<void> {
    try {
      if (this.syncFailure) return;
      this.directorySynced ??= syncFile(dirname(this.walPath));
      await this.directorySynced;
      await syncFile(this.walPath);
    } catch (error) {
      const reason = `could not fsync ${this.walPath}; restart p4p once the disk is fixed: ${(error as Error).message}`;
      this.syncFailure ??= new StoreUnavailableError({ cause: new Error(reason, { cause: error }) });
    }
  }
}
