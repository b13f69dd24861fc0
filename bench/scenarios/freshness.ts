import { sqliteLocation, withServe, type P4pServe, type StoreLocation } from '../support/p4p-serve.js';
import { pingLoad } from '../support/ping-load.js';
import { forEachConcurrently, waitEndpointQuiet } from '../support/pull-runs.js';
import type { PullEndpointProcess } from '../support/pull-endpoint.js';
import { boundRow, type ResultRow } from '../support/report.js';
import type { BenchSettings } from '../support/settings.js';
import { checked, targetOf } from './ingest.js';

export interface Freshness {
  p50Ms: number;
  p99Ms: number;
  pings: number;
}

function percentile(sorted: readonly number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)]!;
}

/**
 * Pings distinct users at `rate` per second; for each, the time from the
 * driver receiving the 200 to the profile's `updated_at` (the store's clock
 * when it completed the pull; same machine, same clock), read afterwards
 * through the read API.
 */
export async function measureFreshness(serve: P4pServe, endpoint: PullEndpointProcess, rate: number, settings: BenchSettings): Promise<Freshness> {
  const ackedAt = new Map<string, number>();
  await endpoint.control({ reset: true, delayMs: 0 });
  const load = checked(
    await pingLoad(targetOf(serve), { durationSeconds: settings.loadSeconds, overallRate: rate, userPrefix: 'f', onAck: (userId, atMs) => ackedAt.set(userId, atMs) }),
  );
  await waitEndpointQuiet(endpoint, ackedAt.size);
  const token = serve.systemToken();
  const lags: number[] = [];
  await forEachConcurrently([...ackedAt], 16, async ([userId, acked]) => {
    const stored = await serve.storedAt(userId, token);
    if (stored === null) throw new Error(`user ${userId} was acknowledged but never stored`);
    lags.push(stored - acked);
  });
  lags.sort((a, b) => a - b);
  return { p50Ms: percentile(lags, 0.5), p99Ms: percentile(lags, 0.99), pings: load.ok };
}

export function freshnessRow(name: string, freshness: Freshness, rate: number): ResultRow {
  return boundRow(name, 'ms', freshness.p99Ms, '<', 100,
    `p50 ${freshness.p50Ms} ms, p99 ${freshness.p99Ms} ms over ${freshness.pings} pings at ${rate}/s (Livefyre: 1–10 minutes)`);
}

/** Row 8, at half of p4p's measured pull rate (the slower half of the loop). */
export async function freshnessRows(endpoint: PullEndpointProcess, pullsPerSecond: number, settings: BenchSettings, store: StoreLocation = sqliteLocation()): Promise<ResultRow[]> {
  const rate = Math.round(pullsPerSecond / 2);
  try {
    const freshness = await withServe(store, endpoint.template, {}, (serve) => measureFreshness(serve, endpoint, rate, settings));
    return [freshnessRow('8 freshness: ping acknowledged → profile stored, p99', freshness, rate)];
  } finally {
    await store.dispose();
  }
}
