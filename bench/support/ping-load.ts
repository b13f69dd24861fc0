import autocannon from 'autocannon';
import { buildSystemToken } from '../../packages/server/src/tokens/sign-token.js';

/**
 * Connections of a saturating ping load (rows 1, 2, 9, 10) and of row 3's
 * load at half its rate. autocannon's connections each wait for their
 * answer, so the rate is at most connections ÷ latency: with 32, a server
 * whose answers wait for an fsync was held back by its latency before its
 * throughput (row 2 read 0.61 on a machine with slow fsyncs, 0.86–1.10
 * with 128).
 */
export const SATURATING_CONNECTIONS = 128;
/** Connections of the freshness loads at an offered rate (rows 8, 10): far below what the server sustains, and more connections only make autocannon's pacing burstier. */
export const PACED_CONNECTIONS = 32;
/** Distinct pre-signed tokens per load; a longer load reuses them (the server keeps no token cache). */
const TOKEN_POOL_SIZE = 100_000;

export interface PingTarget {
  url: string;
  network: string;
  key: string;
}

export interface PingLoadOptions {
  durationSeconds: number;
  connections?: number;
  /** Offered pings per second over all connections; saturating when absent. */
  overallRate?: number;
  /** User ids are `<prefix><n>`, n counting from `firstUser`, so every ping is for a distinct user. */
  userPrefix: string;
  firstUser?: number;
  /** User ids to ping, in order, instead of counting (cycled). */
  userIds?: readonly string[];
  /** Called with the user id and Date.now() of every 200. */
  onAck?: (userId: string, atMs: number) => void;
}

export interface PingLoadResult {
  pingsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  sent: number;
  ok: number;
  failed: number;
}

const bodyPools = new Map<string, string[]>();

/** Form bodies `lftoken=<system token>` as the official Node library sends them, each token distinct (its `expires` differs). */
function formBodies(target: PingTarget): string[] {
  const poolKey = `${target.network}\n${target.key}`;
  let bodies = bodyPools.get(poolKey);
  if (bodies === undefined) {
    const nowMs = Date.now();
    bodies = Array.from({ length: TOKEN_POOL_SIZE }, (_, i) => `lftoken=${buildSystemToken(target.network, target.key, 3600, nowMs + i)}`);
    bodyPools.set(poolKey, bodies);
  }
  return bodies;
}

/**
 * Single pings through autocannon against `target`: the official library's
 * path and form-encoded token, one distinct user and token per request.
 */
export async function pingLoad(target: PingTarget, options: PingLoadOptions): Promise<PingLoadResult> {
  const bodies = formBodies(target);
  let next = options.firstUser ?? 0;
  const { userIds, userPrefix, onAck } = options;
  const result = await autocannon({
    url: target.url,
    connections: options.connections ?? (options.overallRate === undefined ? SATURATING_CONNECTIONS : PACED_CONNECTIONS),
    duration: options.durationSeconds,
    timeout: 30,
    ...(options.overallRate === undefined ? {} : { overallRate: options.overallRate }),
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        setupRequest: (request) => {
          const n = next++;
          const userId = userIds === undefined ? `${userPrefix}${n}` : userIds[n % userIds.length]!;
          return { ...request, path: `/api/v3_0/user/${userId}/refresh`, body: bodies[n % bodies.length]! };
        },
        ...(onAck === undefined
          ? {}
          : {
              onResponse: (status: number, body: string) => {
                if (status === 200) onAck((JSON.parse(body) as { user_id: string }).user_id, Date.now());
              },
            }),
      },
    ],
  });
  const ok = result['2xx'];
  return {
    pingsPerSecond: ok / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    sent: result.requests.sent,
    ok,
    failed: result.non2xx + result.errors + result.timeouts,
  };
}
