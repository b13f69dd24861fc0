/**
 * The SQLite writer thread: owns the write connection and commits the
 * store's writes in groups. While a group commits here (and its WAL fsync
 * runs in the thread pool), the main thread keeps reading requests, so the
 * next group grows with the load.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { BatchedWriter } from './batched-writer.js';
import { openConnection, WRITER_CHECKPOINT_PAGES } from './sqlite-connection.js';
import { SqliteWrites, writeOptionsFor } from './sqlite-writes.js';
import { crossError, type FromWriter, type ToWriter, type WriteOutcome, type WriterThreadOptions } from './writer-protocol.js';

const port = parentPort!;
const options = workerData as WriterThreadOptions;
const db = openConnection(options.dataDir, options.busyTimeoutMs);
// The checkpointer thread keeps the WAL short; the writer checkpoints only should it fall behind.
db.pragma(`wal_autocheckpoint = ${WRITER_CHECKPOINT_PAGES}`);
const writes = new SqliteWrites(db, options.coalesceMs);
const writer = new BatchedWriter(db, options.durability, () => writes.rolledBack());

let outbox: WriteOutcome[] = [];

function sendReplies(): void {
  if (outbox.length === 0) return;
  port.postMessage({ type: 'results', results: outbox } satisfies FromWriter);
  outbox = [];
}

/** Outcomes settled in one commit go back in one message, once every promise of the batch has settled. */
function reply(outcome: WriteOutcome): void {
  if (outbox.length === 0) queueMicrotask(sendReplies);
  outbox.push(outcome);
}

port.on('message', (message: ToWriter) => {
  if (message.type === 'close') {
    // Queued writes commit (and durable ones sync) first, and their results go out before the port closes.
    void writer.write(() => undefined, { durable: true }).finally(async () => {
      await writer.close();
      sendReplies();
      db.close();
      port.close();
    });
    return;
  }
  for (const { id, op } of message.writes) {
    writer.write(() => writes.apply(op), writeOptionsFor(op)).then(
      (value) => reply({ id, ok: true, value }),
      (error: unknown) => reply({ id, ok: false, error: crossError(error) }),
    );
  }
});
