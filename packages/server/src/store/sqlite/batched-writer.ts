import type Database from 'better-sqlite3';
import { StoreUnavailableError } from '../store.js';

interface Job {
  run: () => unknown;
  weight: number;
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

/**
 * Group commit: writes queued during one turn of the event loop run in a
 * single transaction, so one fsync covers them all. Each write runs in its
 * own savepoint, so a failing write rolls back alone and rejects alone; the
 * promises settle only after the COMMIT, which is what makes an answer sent
 * after `await write(...)` durable.
 */
export class BatchedWriter {
  private queue: Job[] = [];
  private scheduled = false;
  private readonly runOne: (run: () => unknown) => unknown;
  private readonly runBatch: Database.Transaction<(jobs: Job[]) => Array<{ ok: boolean; value: unknown }>>;

  constructor(
    private readonly db: Database.Database,
    /** Most rows (the sum of the writes' weights) in one transaction, so one commit never stalls the event loop for long. */
    private readonly maxRowsPerCommit = 20_000,
  ) {
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

  /** Queues a write; `weight` is about how many rows it touches. Resolves after its commit. */
  write<T>(run: () => T, weight = 1): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run, weight, resolve: resolve as (value: unknown) => void, reject });
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
      for (const job of jobs) job.reject(failure);
      return;
    }
    jobs.forEach((job, index) => {
      const result = results[index]!;
      if (result.ok) job.resolve(result.value);
      else job.reject(result.value);
    });
  }
}
