import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import Database from 'better-sqlite3';
import { BatchedWriter } from '../src/store/sqlite/batched-writer.js';
import { StoreUnavailableError } from '../src/store/store.js';
import { makeTempDir } from './support/temp-dir.js';

const temp = makeTempDir();
let db: Database.Database;
before(() => {
  db = new Database(join(temp.path, 'writer.db'));
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE t (v TEXT NOT NULL)');
});
after(() => {
  db.close();
  temp.remove();
});

test('writes of one turn commit together; a failing write rejects alone and the others commit', async () => {
  const writer = new BatchedWriter(db, 'power');
  const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
  const results = await Promise.allSettled([
    writer.write(() => insert.run('a').changes),
    writer.write(() => insert.run(null)),
    writer.write(() => insert.run('c').changes),
  ]);
  assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
  assert.deepEqual(db.prepare('SELECT v FROM t ORDER BY rowid').pluck().all(), ['a', 'c']);
  db.exec('DELETE FROM t');
});

test('a full disk rolls the whole batch back: every write is rejected as unavailable and none is recorded', async () => {
  const writer = new BatchedWriter(db, 'power');
  const pages = db.pragma('page_count', { simple: true }) as number;
  db.pragma(`max_page_count = ${pages + 2}`);
  try {
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    const results = await Promise.allSettled([
      writer.write(() => insert.run('small')),
      writer.write(() => insert.run('x'.repeat(64 * 1024))),
      writer.write(() => insert.run('after')),
    ]);
    for (const result of results) {
      assert.equal(result.status, 'rejected');
      assert.ok((result as PromiseRejectedResult).reason instanceof StoreUnavailableError, String((result as PromiseRejectedResult).reason));
    }
    assert.equal(db.prepare('SELECT COUNT(*) FROM t').pluck().get(), 0);
  } finally {
    db.pragma('max_page_count = 1073741823');
  }
});

test('acknowledgements follow commit order: writes committed while a durable write waits for its fsync settle after it', async () => {
  const writer = new BatchedWriter(db, 'power');
  const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
  const settled: number[] = [];
  const writes: Array<Promise<unknown>> = [];
  for (let batch = 0; batch < 20; batch += 1) {
    // Alternating durable and non-durable batches, one per event-loop turn.
    writes.push(writer.write(() => insert.run(String(batch)), { durable: batch % 2 === 0 }).then(() => settled.push(batch)));
    await new Promise((resolve) => setImmediate(resolve));
  }
  await Promise.all(writes);
  assert.deepEqual(settled, [...Array(20).keys()]);
  assert.equal(db.prepare('SELECT COUNT(*) FROM t').pluck().get(), 20);
  db.exec('DELETE FROM t');
});

test('a WAL deleted from under the writer cannot be synced: the durable write is rejected as unavailable, and so is every later one', async () => {
  const dir = makeTempDir();
  const own = new Database(join(dir.path, 'own.db'));
  try {
    own.pragma('journal_mode = WAL');
    own.exec('CREATE TABLE t (v TEXT NOT NULL)');
    const writer = new BatchedWriter(own, 'power');
    const insert = own.prepare('INSERT INTO t (v) VALUES (?)');
    assert.equal(await writer.write(() => insert.run('kept').changes, { durable: true }), 1);
    // SQLite keeps writing to its open descriptor of the deleted file, so these commits would vanish at close.
    rmSync(`${own.name}-wal`);
    for (const value of ['lost', 'later']) {
      const error = await writer.write(() => insert.run(value), { durable: true }).then(
        () => assert.fail('a write whose WAL cannot be synced was acknowledged'),
        (reason: unknown) => reason,
      );
      assert.ok(error instanceof StoreUnavailableError, String(error));
      assert.match(error.message, /could not fsync .*own\.db-wal; restart p4p/);
    }
    // A write that needs no fsync still succeeds.
    assert.equal(await writer.write(() => insert.run('claim').changes), 1);
  } finally {
    own.close();
    dir.remove();
  }
});

test('the writer refuses a database that is not in WAL mode, whose durability it could not keep', () => {
  const dir = makeTempDir();
  const rollback = new Database(join(dir.path, 'rollback.db'));
  try {
    assert.throws(() => new BatchedWriter(rollback, 'power'), /rollback\.db must be in WAL mode/);
  } finally {
    rollback.close();
    dir.remove();
  }
});
