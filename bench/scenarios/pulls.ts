import { sqliteLocation, withServe } from '../support/p4p-serve.js';
import {
  fetchPullsPerSecond,
  forEachConcurrently,
  productPullsPerSecond,
  undiciPullsPerSecond,
  userIdRange,
  waitEndpointQuiet,
  bulkChunks,
} from '../support/pull-runs.js';
import type { PullEndpointProcess } from '../support/pull-endpoint.js';
import { ratioRow, type ResultRow } from '../support/report.js';
import type { BenchSettings } from '../support/settings.js';

/** The naive baseline is slow; this many pulls measure its rate well enough. */
const MAX_FETCH_BASELINE_PULLS = 20_000;

/** Rows 5 and 6. Returns p4p's pull rate too: row 8 offers half of it. */
export async function pullThroughputRows(endpoint: PullEndpointProcess, settings: BenchSettings): Promise<{ rows: ResultRow[]; pullsPerSecond: number }> {
  const store = sqliteLocation();
  try {
    const product = await withServe(store, endpoint.template, {}, (serve) =>
      productPullsPerSecond(serve, endpoint, userIdRange('t', settings.pullUsers)),
    );
    await endpoint.control({ reset: true });
    const undici = await undiciPullsPerSecond(endpoint, settings.pullUsers);
    const naive = await fetchPullsPerSecond(endpoint, Math.min(settings.pullUsers, MAX_FETCH_BASELINE_PULLS));
    const users = settings.pullUsers.toLocaleString('en-US');
    return {
      pullsPerSecond: product,
      rows: [
        ratioRow(`5 pull throughput, ${users} users queued ÷ undici GET + JSON.parse`, 'pulls/s', product, undici, '>=', 0.6),
        ratioRow(`6 pull throughput ÷ naive worker (global fetch + json())`, 'pulls/s', product, naive, '>=', 3),
      ],
    };
  } finally {
    await store.dispose();
  }
}

/** A small seeded generator, so every run pings the same pattern. */
function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MAX_PINGS_PER_USER = 50;
const ENDPOINT_DELAY_MS = 50;
/** Bulk pings in flight at once, burst after burst. */
const BULK_PINGS_IN_FLIGHT = 8;

/**
 * Row 7: every user gets 1–50 pings, sent as bursts of bulk pings (burst r
 * holds every user with more than r pings; a user appears once per bulk
 * request, so none are merged before the store), while the endpoint answers
 * after 50 ms. Counted at the endpoint once it is quiet.
 */
export async function coalescingRows(endpoint: PullEndpointProcess, settings: BenchSettings): Promise<ResultRow[]> {
  const random = seededRandom(5);
  const userIds = userIdRange('c', settings.coalescingUsers);
  const pingsPerUser = userIds.map(() => 1 + Math.floor(random() * MAX_PINGS_PER_USER));
  const totalPings = pingsPerUser.reduce((sum, n) => sum + n, 0);
  const store = sqliteLocation();
  try {
    await endpoint.control({ reset: true, delayMs: ENDPOINT_DELAY_MS });
    const stats = await withServe(store, endpoint.template, {}, async (serve) => {
      const bursts = Array.from({ length: MAX_PINGS_PER_USER }, (_, burst) => userIds.filter((_, i) => pingsPerUser[i]! > burst));
      await forEachConcurrently(bursts.flatMap(bulkChunks), BULK_PINGS_IN_FLIGHT, (chunk) => serve.bulkPing(chunk));
      return waitEndpointQuiet(endpoint, userIds.length);
    });
    if (stats.distinctUsers !== userIds.length) throw new Error(`${stats.distinctUsers} of ${userIds.length} users were pulled`);
    const detail = `${totalPings.toLocaleString('en-US')} pings in ${MAX_PINGS_PER_USER} bursts; endpoint delay ${ENDPOINT_DELAY_MS} ms`;
    return [
      ratioRow(`7 coalescing: pulls ÷ distinct users (${userIds.length.toLocaleString('en-US')} users)`, 'pulls', stats.served, userIds.length, '<=', 1.05, detail),
      ratioRow('7 coalescing: most pulls for one user', 'pulls', stats.maxPerUser, 1, '<=', 2),
    ];
  } finally {
    await endpoint.control({ delayMs: 0 });
    await store.dispose();
  }
}
