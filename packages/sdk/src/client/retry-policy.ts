/**
 * When and how long the SDK waits before trying a call to p4p again.
 * Retried: network errors and timeouts, 5xx, 429. Never: any other 4xx,
 * which retrying cannot fix.
 */
import { P4pInputError } from '../errors.js';

export interface RetryPolicy {
  /** Budget for one call, all attempts and waits included, in ms. Default 30 000. */
  totalTimeoutMs: number;
  /** Longest single attempt, in ms (never beyond what is left of the budget). Default 10 000. */
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

export function isRetryableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

/**
 * The wait before retry number `retry` (1 for the first): the server's
 * Retry-After when it sent one, else "full jitter" exponential backoff
 * (a random wait up to base × 2^(retry-1), capped at maxDelayMs), so that
 * many clients failing together do not come back together.
 */
export function retryDelayMs(policy: RetryPolicy, retry: number, retryAfterMs: number | undefined): number {
  if (retryAfterMs !== undefined) return retryAfterMs;
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(retry - 1, 30));
  return Math.random() * ceiling;
}

/** `policy` with `overrides` applied, each checked. @throws P4pInputError naming the bad setting. */
export function retryPolicyFrom(overrides: Partial<RetryPolicy> = {}): RetryPolicy {
  const policy = { ...DEFAULT_RETRY_POLICY, ...overrides };
  for (const [name, value] of Object.entries(policy)) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new P4pInputError(`retry.${name} must be a finite number of ms, 0 or more; got ${String(value)}`);
    }
  }
  if (policy.attemptTimeoutMs === 0) throw new P4pInputError('retry.attemptTimeoutMs must be above 0');
  if (policy.baseDelayMs > policy.maxDelayMs) {
    throw new P4pInputError('retry.baseDelayMs must not exceed retry.maxDelayMs');
  }
  return policy;
}
