/** Per-network ping rate limit, as a token bucket. */
export interface PingRateLimit {
  /** Sustained pings per second per network; 0 turns the limit off. Default 10000. */
  perSecond: number;
  /** Pings a network may send at once above the sustained rate. Default 20000. */
  burst: number;
}

export const DEFAULT_PING_RATE_LIMIT: PingRateLimit = { perSecond: 10_000, burst: 20_000 };

/**
 * In-memory token buckets, one per network: a runaway loop at one customer
 * cannot fill the queue for everyone. A bulk ping takes one token per user.
 */
export class PingRateLimiter {
  private readonly buckets = new Map<number, { tokens: number; at: number }>();

  constructor(private readonly limit: PingRateLimit) {}

  /** Takes `count` tokens, or says after how many seconds they would be there. */
  take(networkId: number, count: number, now: number): { ok: true } | { ok: false; retryAfterSeconds: number } {
    const { perSecond, burst } = this.limit;
    if (perSecond === 0) return { ok: true };
    const bucket = this.buckets.get(networkId) ?? { tokens: burst, at: now };
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * perSecond);
    bucket.at = now;
    this.buckets.set(networkId, bucket);
    if (bucket.tokens >= count) {
      bucket.tokens -= count;
      return { ok: true };
    }
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((count - bucket.tokens) / perSecond)) };
  }
}
