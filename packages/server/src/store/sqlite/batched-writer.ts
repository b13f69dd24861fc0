import type Database from 'better-sqlite3';

interface Job {
  run: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
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
    db: Database.Database,
    /** Most writes in one transaction; the rest wait for the next one. */
    private readonly maxBatch = 2000,
  ) {
    this.runOne = db.transaction((run: () => unknown) => run());
    this.runBatch = db.transaction((jobs: Job[]) =>
      jobs.map((job) => {
        try {
          return { ok: true, value: this.runOne(job.run) };
        } catch (error) {
          return { ok: false, value: error };
        }
      }),
    );
  }

  write<T>(run: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    const jobs = this.queue.splice(0, this.maxBatch);
    if (this.queue.length > 0) setImmediate(() => this.flush());
    else this.scheduled = false;
    let results: Array<{ ok: boolean; value: unknown }>;
    try {
      results = this.runBatch.immediate(jobs);
    } catch (error) {
      for (const job of jobs) job.reject(error);
      return;
    }
    jobs.forEach((job, index) => {
      const result = results[index]!;
      if (result.ok) job.resolve(result.value);
      else job.reject(result.value);
    });
  }
}
