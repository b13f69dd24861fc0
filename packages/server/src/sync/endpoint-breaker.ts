/**
 * A circuit breaker per network's pull endpoint, so that an endpoint that is
 * down is not hammered by the pulls of every queued user (and pings cannot
 * defeat its backoff). Failures are counted in rounds: a round begins with a
 * failure, and a failure of a pull that started before the current round
 * began belongs to it, so 16 concurrent pulls failing together count once,
 * and pulls that keep the slots full still add a round per pull time. After
 * `threshold` failed rounds with no real answer in between, the network's
 * pulls pause, 1 s and doubling; a Retry-After pauses them at once (capped,
 * each user's own retry honours it in full). Any real answer, even a 404,
 * closes the breaker.
 *
 * The state is in memory: losing it on restart only costs a few probes.
 */
export interface BreakerPolicy {
  /** Failed rounds in a row before pausing. Default 5. */
  threshold: number;
  /** First pause in ms; doubles with every further failed round. Default 1000. */
  baseDelayMs: number;
  /** Longest pause in ms, also the cap on a Retry-After pause. Default 60000. */
  maxDelayMs: number;
}

export const DEFAULT_BREAKER_POLICY: BreakerPolicy = { threshold: 5, baseDelayMs: 1000, maxDelayMs: 60_000 };

interface EndpointHealth {
  failedRounds: number;
  /** When the current round's first failure was seen. */
  roundStartedAt: number;
  pausedUntil: number;
}

export interface EndpointAnswer {
  retriable: boolean;
  retryAfterMs: number | null;
  /** When the pull that got this answer started. */
  startedAt: number;
}

export class EndpointBreaker {
  private readonly health = new Map<number, EndpointHealth>();

  constructor(private readonly policy: BreakerPolicy = DEFAULT_BREAKER_POLICY) {}

  record(networkId: number, answer: EndpointAnswer, now: number): void {
    if (!answer.retriable) {
      this.health.delete(networkId);
      return;
    }
    const health = this.health.get(networkId) ?? { failedRounds: 0, roundStartedAt: -Infinity, pausedUntil: 0 };
    if (answer.startedAt >= health.roundStartedAt) {
      health.failedRounds += 1;
      health.roundStartedAt = now;
    }
    const over = health.failedRounds - this.policy.threshold;
    if (over >= 0) {
      const pause = Math.min(this.policy.maxDelayMs, this.policy.baseDelayMs * 2 ** Math.min(over, 30));
      health.pausedUntil = Math.max(health.pausedUntil, now + pause);
    }
    if (answer.retryAfterMs !== null) {
      health.pausedUntil = Math.max(health.pausedUntil, now + Math.min(answer.retryAfterMs, this.policy.maxDelayMs));
    }
    this.health.set(networkId, health);
  }

  /** Forgets a network's failures, e.g. when its pull URL changed. */
  reset(networkId: number): void {
    this.health.delete(networkId);
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
