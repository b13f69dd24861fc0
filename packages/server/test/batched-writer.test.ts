import assert from 'node:assert/strict';
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

test('under power, a durable write settles after the WAL fsync that follows its commit; the others of its batch at the commit', async () => {
  const writer = new BatchedWriter(db, 'power');
  const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
  const settled: string[] = [];
  await Promise.all([
    writer.write(() => insert.run('ping'), { durable: true }).then(() => settled.push('durable')),
    writer.write(() => insert.run('claim')).then(() => settled.push('not durable')),
  ]);
  assert.deepEqual(settled, ['not durable', 'durable'], 'the durable write, queued first, waited for the fsync');
  assert.deepEqual(db.prepare('SELECT v FROM t ORDER BY rowid').pluck().all(), ['ping', 'claim']);
  // Under process, nothing waits for an fsync: the writes settle in their order.
  const processOnly = new BatchedWriter(db, 'process');
  settled.length = 0;
  await Promise.all([
    processOnly.write(() => insert.run('ping'), { durable: true }).then(() => settled.push('durable')),
    processOnly.write(() => insert.run('claim')).then(() => settled.push('not durable')),
  ]);
  assert.deepEqual(settled, ['durable', 'not durable']);
  await writer.close();
  db.exec('DELETE FROM t');
});

test('close() waits for the WAL fsync that durable writes are waiting for', async () => {
  const writer = new BatchedWriter(db, 'power');
  let settled = false;
  const ping = writer.write(() => db.prepare('INSERT INTO t (v) VALUES (?)').run('ping'), { durable: true }).then(() => (settled = true));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(db.prepare('SELECT COUNT(*) FROM t').pluck().get(), 1, 'committed');
  await writer.close();
  assert.equal(settled, true, 'settled before close() returned');
  await ping;
  db.exec('DELETE FROM t');
});

test('power refuses a database that is not in WAL mode, since it syncs the WAL file', () => {
  const rollbackJournal = new Database(join(temp.path, 'journal.db'));
  try {
    assert.throws(() => new BatchedWriter(rollbackJournal, 'power'), /open the database in WAL mode/);
  } finally {
    rollbackJournal.close();
  }
});

test('a write that throws after changing rows leaves none of its changes, and the others of its batch commit', async () => {
  let rollbacks = 0;
  const writer = new BatchedWriter(db, 'power', () => (rollbacks += 1));
  const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
  const results = await Promise.allSettled([
    writer.write(() => insert.run('first').changes),
    writer.write(() => {
      insert.run('half-done');
      throw new Error('the second statement failed');
    }),
    writer.write(() => insert.run('last').changes),
  ]);
  assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
  assert.equal((results[1] as PromiseRejectedResult).reason.message, 'the second statement failed');
  assert.deepEqual(db.prepare('SELECT v FROM t ORDER BY rowid').pluck().all(), ['first', 'last']);
  assert.equal(rollbacks, 2, 'the batch, then the failing write alone');
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
