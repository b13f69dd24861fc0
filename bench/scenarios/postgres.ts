import pg from 'pg';
import { runP4p, type StoreLocation } from '../support/p4p-serve.js';
import { productPullsPerSecond, undiciPullsPerSecond, userIdRange } from '../support/pull-runs.js';
import { withServe } from '../support/p4p-serve.js';
import { withBarePingServer } from '../support/bare-ping-process.js';
import type { PullEndpointProcess } from '../support/pull-endpoint.js';
import { ratioRow, skippedRow, type ResultRow } from '../support/report.js';
import type { BenchSettings } from '../support/settings.js';
import { freshnessRow, measureFreshness } from './freshness.js';
import { saturatingPings, targetOf, withIngestServe } from './ingest.js';

const ADMIN_URL = 'postgresql://postgres@127.0.0.1:5432/postgres';

const ROW_NAMES = ['10 PostgreSQL: ingest ÷ bare node:http', '10 PostgreSQL: pull throughput ÷ undici', '10 PostgreSQL: freshness p99'];
const GOALS = ['ratio >= 0.3', 'ratio >= 0.5', 'value < 100 ms'];

/** Why row 10 cannot run here, or null when it can. */
async function unavailableReason(): Promise<string | null> {
  const help = await runP4p(['serve', '--help']);
  if (!help.includes('--database')) return 'p4p serve has no --database option in this build';
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (error) {
    return `PostgreSQL at 127.0.0.1:5432 does not answer (${(error as Error).message})`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A uniquely named database, dropped by `dispose()`. */
export async function postgresLocation(): Promise<StoreLocation> {
  const name = `p4p_bench_${process.pid}_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  const url = `postgresql://postgres@127.0.0.1:5432/${name}`;
  return { args: ['--database', url], describe: 'PostgreSQL', dispose: () => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

/** Row 10: rows 1, 5 and 8 with `--database` on PostgreSQL at 127.0.0.1:5432, or skipped rows saying why not. */
export async function postgresRows(endpoint: PullEndpointProcess, settings: BenchSettings): Promise<ResultRow[]> {
  const reason = await unavailableReason();
  if (reason !== null) return ROW_NAMES.map((name, i) => skippedRow(name, GOALS[i]!, reason));

  const ingest = await withIngestServe(await postgresLocation(), endpoint, {}, async (serve) => {
    const bare = await withBarePingServer(serve.network, serve.key, (target) => saturatingPings(target, settings));
    const product = await saturatingPings(targetOf(serve), settings);
    return ratioRow(ROW_NAMES[0]!, 'pings/s', product.pingsPerSecond, bare.pingsPerSecond, '>=', 0.3);
  });

  const pullStore = await postgresLocation();
  let pullsPerSecond: number;
  try {
    pullsPerSecond = await withServe(pullStore, endpoint.template, {}, (serve) => productPullsPerSecond(serve, endpoint, userIdRange('t', settings.scalePullUsers)));
  } finally {
    await pullStore.dispose();
  }
  await endpoint.control({ reset: true });
  const undici = await undiciPullsPerSecond(endpoint, settings.scalePullUsers);
  const pulls = ratioRow(ROW_NAMES[1]!, 'pulls/s', pullsPerSecond, undici, '>=', 0.5);

  const freshStore = await postgresLocation();
  const rate = Math.round(pullsPerSecond / 2);
  try {
    const freshness = await withServe(freshStore, endpoint.template, {}, (serve) => measureFreshness(serve, endpoint, rate, settings));
    return [ingest, pulls, freshnessRow(ROW_NAMES[2]!, freshness, rate)];
  } finally {
    await freshStore.dispose();
  }
}
