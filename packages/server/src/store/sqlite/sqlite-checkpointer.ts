import { once } from 'node:events';
import type { Worker } from 'node:worker_threads';
import type { CheckpointerOptions } from './checkpointer-thread.js';
import { startWorker } from './start-worker.js';

/**
 * The main thread's handle on the checkpointer thread. Its failures are not
 * the store's: a checkpoint that fails is tried again, and should the thread
 * stop, the writer's automatic checkpoint (every WRITER_CHECKPOINT_PAGES)
 * still bounds the WAL.
 */
export class SqliteCheckpointer {
  private readonly worker: Worker;
  private readonly exited: Promise<unknown>;

  constructor(options: CheckpointerOptions) {
    this.worker = startWorker('checkpointer-thread', options);
    this.worker.unref();
    this.worker.on('error', () => undefined);
    this.exited = once(this.worker, 'exit');
  }

  async close(): Promise<void> {
    // Kept alive until it has closed its connection.
    this.worker.ref();
    this.worker.postMessage('stop');
    await this.exited;
  }
}
