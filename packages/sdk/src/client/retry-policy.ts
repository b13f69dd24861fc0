/**
 * When and how long the SDK waits before trying a call to p4p again.
 * Retried: network errors and timeouts, 5xx, 429. Never: any other 4xx,
 * which retrying cannot fix.
 */
import { P4pInputError } from '../errors.js';

export interface RetryPolicy {
  /** Budget for one call, all attempts and waits included, in ms. Default 30 000. */
  totalTimeoutMs: number;
  /**
   * Longest single attempt, in ms (never beyond what is left of the budget).
   * Default 10 000. No attempt starts with less than
   * min(attemptTimeoutMs, {@link MIN_ATTEMPT_MS}) of the budget left.
   */
  attemptTimeoutMs: number;
  /** First backoff ceiling, doubled on every retry, in ms. Default 200. */
  baseDelayMs: number;
  /** Largest backoff ceiling, in ms. Default 5 000. A server's Retry-After is honoured beyond it. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  totalTimeoutMs: 30_000,
  attemptTimeoutMs: 10_000,
  baseDelayMs: 200,
  maxDelayMs: 5_000,
};

/** The shortest attempt worth starting, in ms: one squeezed into less time would likely only time out. */
export const MIN_ATTEMPT_MS = 1000;

const POLICY_KEYS = Object.keys(DEFAULT_RETRY_POLICY);

export function isRetryableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

/**
 * The wait before retry number `retry` (1 for the first): "full jitter"
 * exponential backoff (a random wait up to base × 2^(retry-1), capped at
 * maxDelayMs), so that many clients failing together do not come back
 * together, or the server's Retry-After when that is longer. Never shorter
 * than the backoff: a `Retry-After: 0` (or a past date) would otherwise make
 * a hot loop of thousands of requests.
 */
export function retryDelayMs(policy: RetryPolicy, retry: number, retryAfterMs: number | undefined): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(retry - 1, 30));
  return Math.max(retryAfterMs ?? 0, Math.random() * ceiling);
}

/** The least budget an attempt needs to be started, in ms. */
export function attemptFloorMs(policy: RetryPolicy): number {
  return Math.min(policy.attemptTimeoutMs, MIN_ATTEMPT_MS);
}

/** Longest delay Node's timers take, in ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** `policy` with `overrides` applied, each checked. @throws P4pInputError naming the bad setting. */
export function retryPolicyFrom(overrides: Partial<RetryPolicy> = {}): RetryPolicy {
  if (overrides === null || typeof overrides !== 'object' || Array.isArray(overrides)) {
    throw new P4pInputError(`retry must be an object with some of ${POLICY_KEYS.join(', ')}`);
  }
  const unknown = Object.keys(overrides).filter((name) => !POLICY_KEYS.includes(name));
  if (unknown.length > 0) {
    throw new P4pInputError(`retry.${unknown[0]} is not a retry setting; the settings are ${POLICY_KEYS.join(', ')}`);
  }
  const policy = { ...DEFAULT_RETRY_POLICY, ...overrides };
  for (const [name, value] of Object.entries(policy)) {
    // Node's timers take at most 2^31 - 1 ms and whole ones; past that a wait fires after 1 ms.
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > MAX_TIMER_MS) {
      throw new P4pInputError(`retry.${name} must be a whole number of ms from 0 to ${MAX_TIMER_MS} (about 24 days); got ${String(value)}`);
    }
  }
  if (policy.attemptTimeoutMs === 0) throw new P4pInputError('retry.attemptTimeoutMs must be above 0');
  if (policy.baseDelayMs > policy.maxDelayMs) {
    throw new P4pInputError('retry.baseDelayMs must not exceed retry.maxDelayMs');
  }
  return policy;
}
