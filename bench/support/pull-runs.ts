import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { sleep } from './child-process.js';
import { PULL_CONCURRENCY, type P4pServe } from './p4p-serve.js';
import type { EndpointStats, PullEndpointProcess } from './pull-endpoint.js';

/** The product's bulk route takes at most this many ids per request. */
const BULK_SIZE = 1000;
const BULK_REQUESTS_IN_FLIGHT = 4;
/** Users checked in the store to see that the last answered pulls are stored. */
const LAST_PULLS_CHECKED = PULL_CONCURRENCY;

/** Runs `task` over `items` with at most `concurrency` at a time. */
export async function forEachConcurrently<T>(items: readonly T[], concurrency: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) await task(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
}

/** Splits ids into bulk pings of up to 1,000. */
export function bulkChunks(userIds: readonly string[]): string[][] {
  const chunks: string[][] = [];
  for (let first = 0; first < userIds.length; first += BULK_SIZE) chunks.push(userIds.slice(first, first + BULK_SIZE));
  return chunks;
}

export async function queuePings(serve: P4pServe, userIds: readonly string[]): Promise<void> {
  await forEachConcurrently(bulkChunks(userIds), BULK_REQUESTS_IN_FLIGHT, (chunk) => serve.bulkPing(chunk));
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | null>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await probe();
    if (found !== null) return found;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

/** Waits until every user in `userIds` has a stored profile. */
export async function waitStored(serve: P4pServe, userIds: readonly string[], timeoutMs = 120_000): Promise<void> {
  const token = serve.systemToken();
  for (const userId of userIds) await waitFor(`${userId} to be stored`, timeoutMs, () => serve.storedAt(userId, token));
}

/** Waits until the endpoint has answered `served` pulls in all and has none in flight for 1 s. */
export async function waitEndpointQuiet(endpoint: PullEndpointProcess, atLeastServed: number, timeoutMs = 300_000): Promise<EndpointStats> {
  let last = -1;
  let quietSince = Date.now();
  return waitFor('the pull endpoint to go quiet', timeoutMs, async () => {
    const stats = await endpoint.stats();
    if (stats.served !== last || stats.inFlight > 0) {
      last = stats.served;
      quietSince = Date.now();
      return null;
    }
    return stats.served >= atLeastServed && Date.now() - quietSince >= 1000 ? stats : null;
  });
}

/**
 * Pulls per second of p4p: the users are queued (bulk pings) while the
 * endpoint holds its answers, then the clock runs from the release until
 * the endpoint has answered every pull and the last answered users are
 * stored (validated, committed, readable through the API).
 */
export async function productPullsPerSecond(serve: P4pServe, endpoint: PullEndpointProcess, userIds: readonly string[]): Promise<number> {
  await endpoint.control({ hold: true, reset: true });
  await queuePings(serve, userIds);
  const started = performance.now();
  await endpoint.control({ hold: false });
  // One waiting request rather than polling: the run is timed without taking CPU from the serve.
  const stats = await endpoint.waitServed(userIds.length, 300_000);
  await waitStored(serve, stats.recent.slice(-LAST_PULLS_CHECKED));
  return userIds.length / ((performance.now() - started) / 1000);
}

/** Baseline of row 5: an undici Pool of `concurrency` connections, GET and JSON parse, `concurrency` at a time. */
export async function undiciPullsPerSecond(endpoint: PullEndpointProcess, count: number, concurrency = PULL_CONCURRENCY): Promise<number> {
  const pool = new Pool(endpoint.origin, { connections: concurrency });
  try {
    return await timed(count, concurrency, async (n) => {
      const { statusCode, body } = await pool.request({ method: 'GET', path: `/users/undici${n}`, headers: { accept: 'application/json' } });
      const profile = (await body.json()) as { id?: unknown };
      if (statusCode !== 200 || profile.id !== `undici${n}`) throw new Error(`baseline GET answered ${statusCode}`);
    });
  } finally {
    await pool.close();
  }
}

/** Baseline of row 6, the naive worker: a loop of global fetch() and json(), `concurrency` at a time. */
export async function fetchPullsPerSecond(endpoint: PullEndpointProcess, count: number, concurrency = PULL_CONCURRENCY): Promise<number> {
  return timed(count, concurrency, async (n) => {
    const response = await fetch(`${endpoint.origin}/users/fetch${n}`, { headers: { accept: 'application/json' } });
    const profile = (await response.json()) as { id?: unknown };
    if (response.status !== 200 || profile.id !== `fetch${n}`) throw new Error(`baseline fetch answered ${response.status}`);
  });
}

async function timed(count: number, concurrency: number, pull: (n: number) => Promise<void>): Promise<number> {
  const numbers = Array.from({ length: count }, (_, n) => n);
  const started = performance.now();
  await forEachConcurrently(numbers, concurrency, pull);
  return count / ((performance.now() - started) / 1000);
}

/** `<prefix>0 … <prefix>(count-1)`. */
export function userIdRange(prefix: string, count: number, first = 0): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}${first + i}`);
}
