import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { runCli } from './run-cli.js';

/**
 * The PostgreSQL the tests use: 127.0.0.1:5432, trust auth, user postgres
 * (P4P_TEST_POSTGRES_URL overrides it). Every PostgreSQL test file asks
 * `postgresSkip()` first: when the server is unreachable the tests are
 * skipped with a loud message, unless P4P_REQUIRE_POSTGRES=1 (CI), which
 * turns that into a failure.
 */
export const POSTGRES_ADMIN_URL = process.env.P4P_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** The admin URL with another database name (and optionally a search_path). */
export function databaseUrl(database: string, schema?: string): string {
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${database}`;
  if (schema !== undefined) url.searchParams.set('options', `-c search_path=${schema}`);
  return url.toString();
}

async function adminQuery<Row extends pg.QueryResultRow = pg.QueryResultRow>(sql: string): Promise<pg.QueryResult<Row>> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await client.query<Row>(sql);
  } finally {
    await client.end();
  }
}

/** Resolves when PostgreSQL answers a query, rejects with the reason when it does not. */
export async function postgresAnswers(): Promise<void> {
  await adminQuery('SELECT 1');
}

/** The `skip` option for describe(): false when PostgreSQL answers, else the reason (loudly reported once per file). */
export async function postgresSkip(): Promise<string | false> {
  try {
    await postgresAnswers();
    return false;
  } catch (error) {
    const reason = `PostgreSQL at ${POSTGRES_ADMIN_URL} is unreachable (${(error as Error).message})`;
    if (process.env.P4P_REQUIRE_POSTGRES === '1') throw new Error(`${reason}, and P4P_REQUIRE_POSTGRES=1 requires it`);
    process.stderr.write(`\n${'!'.repeat(78)}\n!! SKIPPING PostgreSQL tests: ${reason}\n!! Start PostgreSQL or set P4P_REQUIRE_POSTGRES=1 to make this a failure.\n${'!'.repeat(78)}\n\n`);
    return `SKIPPED: ${reason}`;
  }
}

/** A uniquely named database for one test run; `drop()` removes it (ending any connection left to it). */
export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** A test database's name: `<prefix>_<pid of the test process>_<8 hex digits>`. */
const TEST_DATABASE_NAME = /^p4p_\w*_(\d+)_[0-9a-f]{8}$/;

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * Drops the test databases left by test processes that died before their
 * `after()` ran (a crash, a SIGKILL), so they do not pile up. Another file
 * doing the same at once may win the race: a failed drop is left to it.
 */
async function dropStaleTestDatabases(): Promise<void> {
  const { rows } = await adminQuery<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE 'p4p\\_%'`);
  for (const { datname } of rows) {
    const pid = TEST_DATABASE_NAME.exec(datname)?.[1];
    if (pid === undefined || processIsAlive(Number(pid))) continue;
    await adminQuery(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`).catch(() => undefined);
  }
}

export async function createTestDatabase(prefix = 'p4p_test'): Promise<TestDatabase> {
  await dropStaleTestDatabases();
  const name = `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  return {
    name,
    url: databaseUrl(name),
    drop: async () => {
      await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

/** A fresh schema in `database` (cheaper than a database): its URL sets the search_path to it. */
export async function createTestSchema(database: TestDatabase): Promise<{ url: string; drop(): Promise<void> }> {
  const schema = `s_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA ${schema}`);
  } finally {
    await client.end();
  }
  return {
    url: databaseUrl(database.name, schema),
    async drop() {
      const admin = new pg.Client({ connectionString: database.url });
      await admin.connect();
      try {
        await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      } finally {
        await admin.end();
      }
    },
  };
}

/** `p4p network create NAME --json --database URL`; resolves to the key, rejects when the command fails. */
export async function createNetworkIn(databaseUrl: string, name: string): Promise<string> {
  const run = await runCli(['network', 'create', name, '--json', '--database', databaseUrl]);
  if (run.code !== 0) throw new Error(`p4p network create failed (exit ${run.code}, signal ${run.signal}): ${run.stderr}`);
  return (JSON.parse(run.stdout) as { key: string }).key;
}
