import type { Worker } from 'node:worker_threads';
import { StoreUnavailableError } from '../store.js';
import type { WriteKind, WriteOp, WriteRequests, WriteResults } from './sqlite-writes.js';
import { startWorker } from './start-worker.js';
import { reviveError, type FromWriter, type ToWriter, type WriterThreadOptions } from './writer-protocol.js';

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** The main thread's side of the writer thread: posts writes, settles their promises with the thread's results. */
export class SqliteWriterThread {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private outbox: Array<{ id: number; op: WriteOp }> = [];
  private nextId = 0;
  /** Set when the thread stopped other than by close(): every write fails with it. */
  private stopped: Error | null = null;
  /** close() was called: the thread keeps the process alive until it has exited. */
  private closing = false;
  private readonly exited: Promise<void>;

  constructor(options: WriterThreadOptions) {
    this.worker = startWorker('writer-thread', options);
    // Only pending writes keep the process alive.
    this.worker.unref();
    this.worker.on('message', (message: FromWriter) => this.settle(message));
    this.worker.on('error', (error) => this.stop(error));
    this.exited = new Promise((resolve) => {
      this.worker.once('exit', (code) => {
        this.stop(new Error(`the SQLite writer thread exited with code ${code}`));
        resolve();
      });
    });
  }

  /** Writes queued during one turn of the event loop go to the thread in one message. */
  send<K extends WriteKind>(kind: K, request: WriteRequests[K]): Promise<WriteResults[K]> {
    if (this.stopped !== null) return Promise.reject(new StoreUnavailableError({ cause: this.stopped }));
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      if (this.outbox.length === 0) setImmediate(() => this.post());
      this.outbox.push({ id, op: { kind, request } as WriteOp });
    });
  }

  /** Commits what is queued, then stops the thread. */
  async close(): Promise<void> {
    if (this.stopped === null) {
      this.post();
      this.closing = true;
      this.worker.ref();
      this.worker.postMessage({ type: 'close' } satisfies ToWriter);
    }
    await this.exited;
  }

  private post(): void {
    if (this.outbox.length === 0) return;
    this.worker.postMessage({ type: 'writes', writes: this.outbox } satisfies ToWriter);
    this.outbox = [];
  }

  private settle(message: FromWriter): void {
    for (const outcome of message.results) {
      const pending = this.pending.get(outcome.id)!;
      this.pending.delete(outcome.id);
      if (outcome.ok) pending.resolve(outcome.value);
      else pending.reject(reviveError(outcome.error));
    }
    if (this.pending.size === 0 && !this.closing) this.worker.unref();
  }

  private stop(cause: Error): void {
    this.stopped ??= cause;
    const failure = new StoreUnavailableError({ cause: this.stopped });
    for (const pending of this.pending.values()) pending.reject(failure);
    this.pending.clear();
    this.outbox = [];
  }
}
