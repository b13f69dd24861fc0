/**
 * A circuit breaker per network's pull endpoint, so that an endpoint that is
 * down is not hammered by the pulls of every other user (and pings cannot
 * defeat its backoff). After `threshold` retriable failures in a row with no
 * real answer in between, the network's pulls pause with exponential backoff;
 * a Retry-After pauses them at once. Any real answer (even a 404) closes it.
 *
 * The state is in memory: losing it on restart only costs a few probes.
 */
export interface BreakerPolicy {
  /** Retriable failures in a row before pausing. Default 5. */
  threshold: number;
  /** First pause in ms; doubles with every further failure. Default 1000. */
  baseDelayMs: number;
  /** Longest pause in ms. Default 60000. */
  maxDelayMs: number;
}

export const DEFAULT_BREAKER_POLICY: BreakerPolicy = { threshold: 5, baseDelayMs: 1000, maxDelayMs: 60_000 };

interface EndpointHealth {
  failuresInARow: number;
  pausedUntil: number;
}

export class EndpointBreaker {
  private readonly health = new Map<number, EndpointHealth>();

  constructor(private readonly policy: BreakerPolicy = DEFAULT_BREAKER_POLICY) {}

  record(networkId: number, answer: { retriable: boolean; retryAfterMs: number | null }, now: number): void {
    if (!answer.retriable) {
      this.health.delete(networkId);
      return;
    }
    const health = this.health.get(networkId) ?? { failuresInARow: 0, pausedUntil: 0 };
    health.failuresInARow += 1;
    const over = health.failuresInARow - this.policy.threshold;
    if (over >= 0) {
      const pause = Math.min(this.policy.maxDelayMs, this.policy.baseDelayMs * 2 ** Math.min(over, 30));
      health.pausedUntil = Math.max(health.pausedUntil, now + pause);
    }
    if (answer.retryAfterMs !== null) health.pausedUntil = Math.max(health.pausedUntil, now + answer.retryAfterMs);
    this.health.set(networkId, health);
  }

  pausedNetworkIds(now: number): Set<number> {
    const paused = new Set<number>();
    for (const [networkId, health] of this.health) if (health.pausedUntil > now) paused.add(networkId);
    return paused;
  }

  /** The earliest end of a current pause, or null. */
  nextResumeAt(now: number): number | null {
    let earliest: number | null = null;
    for (const { pausedUntil } of this.health.values()) {
      if (pausedUntil > now && (earliest === null || pausedUntil < earliest)) earliest = pausedUntil;
    }
    return earliest;
  }
}
