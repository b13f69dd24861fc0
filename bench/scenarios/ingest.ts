import { withBarePingServer } from '../support/bare-ping-process.js';
import { sqliteLocation, withServe, type P4pServe, type ServeOptions, type StoreLocation } from '../support/p4p-serve.js';
import { pingLoad, type PingLoadResult, type PingTarget } from '../support/ping-load.js';
import type { PullEndpointProcess } from '../support/pull-endpoint.js';
import { ratioRow, type ResultRow } from '../support/report.js';
import type { BenchSettings } from '../support/settings.js';

let runNumber = 0;
/** Share of the offered rate a server must acknowledge for its latency at that rate to count. */
const MIN_RATE_KEPT = 0.95;

/** A warm-up load, then the measured saturating load, each on users no one has pinged yet. */
export async function saturatingPings(target: PingTarget, settings: BenchSettings): Promise<PingLoadResult> {
  const prefix = `r${runNumber++}u`;
  await pingLoad(target, { durationSeconds: settings.warmupSeconds, userPrefix: `${prefix}w` });
  return checked(await pingLoad(target, { durationSeconds: settings.loadSeconds, userPrefix: prefix }));
}

export function checked(result: PingLoadResult): PingLoadResult {
  if (result.failed > result.sent * 0.001) throw new Error(`${result.failed} of ${result.sent} pings failed`);
  return result;
}

export function targetOf(serve: P4pServe): PingTarget {
  return { url: serve.url, network: serve.network, key: serve.key };
}

/**
 * Runs `work` on a fresh `p4p serve` whose endpoint holds every pull: the
 * figure is then the ping path alone (HTTP, token, durable commit), not the
 * pull work the pings cause (rows 5–8 measure that).
 */
export async function withIngestServe<T>(
  store: StoreLocation,
  endpoint: PullEndpointProcess,
  options: ServeOptions,
  work: (serve: P4pServe) => Promise<T>,
): Promise<T> {
  await endpoint.control({ hold: true, reset: true });
  try {
    return await withServe(store, endpoint.template, options, work);
  } finally {
    await endpoint.control({ hold: false });
    await store.dispose();
  }
}

/** Rows 1, 2 and 3. */
export async function ingestRows(endpoint: PullEndpointProcess, settings: BenchSettings): Promise<ResultRow[]> {
  const rows: ResultRow[] = [];
  const power = await withIngestServe(sqliteLocation(), endpoint, { durability: 'power' }, async (serve) => {
    const bare = await withBarePingServer(serve.network, serve.key, (target) => saturatingPings(target, settings));
    const saturated = await saturatingPings(targetOf(serve), settings);
    rows.push(ratioRow('1 durable ping ingest (SQLite) ÷ bare node:http', 'pings/s', saturated.pingsPerSecond, bare.pingsPerSecond, '>=', 0.5));

    const halfRate = Math.round(bare.pingsPerSecond / 2);
    const atHalf = { durationSeconds: settings.loadSeconds, overallRate: halfRate };
    const bareAtHalf = await withBarePingServer(serve.network, serve.key, (target) => pingLoad(target, { ...atHalf, userPrefix: `h${runNumber++}u` }));
    const productAtHalf = checked(await pingLoad(targetOf(serve), { ...atHalf, userPrefix: `h${runNumber++}u` }));
    const kept = productAtHalf.pingsPerSecond / halfRate;
    const latency = ratioRow(`3 ingest p99 latency at ${halfRate} pings/s (half the bare maximum)`, 'ms', productAtHalf.p99Ms, bareAtHalf.p99Ms, '<=', 3,
      `p50 ${productAtHalf.p50Ms} ms vs bare ${bareAtHalf.p50Ms} ms; p4p acknowledged ${Math.round(productAtHalf.pingsPerSecond)} pings/s`);
    // autocannon's connections wait for each answer, so a server that cannot keep up shows a bounded latency and a lower rate instead.
    if (kept < MIN_RATE_KEPT) {
      latency.pass = false;
      latency.detail += ` (${Math.round(kept * 100)} % of the offered rate: p4p cannot sustain it, so the latency is not comparable)`;
    }
    rows.push(latency);
    return saturated;
  });
  const processOnly = await withIngestServe(sqliteLocation(), endpoint, { durability: 'process' }, (serve) => saturatingPings(targetOf(serve), settings));
  rows.splice(1, 0, ratioRow('2 cost of durability: --durability power ÷ process', 'pings/s', power.pingsPerSecond, processOnly.pingsPerSecond, '>=', 0.9));
  return rows;
}
