import type { Store } from '../store/store.js';
import type { PingRateLimiter } from './ping-rate-limiter.js';

/** What the routes need from the rest of p4p. */
export interface AppContext {
  store: Store;
  now: () => number;
  /** Allow pull URLs on loopback, private and link-local addresses. */
  allowPrivateTargets: boolean;
  rateLimiter: PingRateLimiter;
  /** Called after pings are durably recorded (wakes the pull worker). */
  onPings: () => void;
  /** Called after a network's pull URL changed. */
  onPullUrlChanged: (networkId: number) => void;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Network and user a request concerned, and whether its token was signed with the network's previous key, for its log line. */
    audit: { network?: string; userId?: string; users?: number; previousKey?: true };
  }
}

/** ISO 8601, or null. */
export function isoTime(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
