interface Pending<Item, Result> {
  items: Item[];
  resolve: (results: Result[]) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: items added while a commit is running (or during the same
 * turn of the event loop) are written together by the next `commit` call,
 * one transaction for many callers. Every caller's promise settles only
 * after its transaction committed (or failed, and then all of that batch's
 * callers reject), so an answer sent after `await add(...)` is durable.
 * `commit` returns one result per item, in order; each caller gets its own.
 */
export class GroupCommit<Item, Result = void> {
  private queue: Array<Pending<Item, Result>> = [];
  private running = false;

  constructor(
    private readonly commit: (items: Item[]) => Promise<Result[]>,
    /** Most items in one transaction, so one commit stays short. */
    private readonly maxItems = 5000,
  ) {}

  add(items: Item[]): Promise<Result[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ items, resolve, reject });
      if (!this.running) {
        this.running = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.takeBatch();
      const items = batch.flatMap((pending) => pending.items);
      try {
        const results = items.length > 0 ? await this.commit(items) : [];
        let offset = 0;
        for (const pending of batch) {
          pending.resolve(results.slice(offset, offset + pending.items.length));
          offset += pending.items.length;
        }
      } catch (error) {
        for (const pending of batch) pending.reject(error);
      }
    }
    this.running = false;
  }

  /** Resolves once everything added so far has been committed (or failed). */
  async flushed(): Promise<void> {
    await this.add([]).catch(() => undefined);
  }

  private takeBatch(): Array<Pending<Item, Result>> {
    let items = 0;
    let count = 0;
    while (count < this.queue.length && (count === 0 || items + this.queue[count]!.items.length <= this.maxItems)) {
      items += this.queue[count]!.items.length;
      count += 1;
    }
    return this.queue.splice(0, count);
  }
}
