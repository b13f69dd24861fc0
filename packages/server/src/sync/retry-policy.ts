/** When and how often a failed pull is tried again. Only retriable outcomes (timeouts, network errors, 408, 429, 5xx) are retried. */
export interface RetryPolicy {
  /** Delay before the first retry, in ms; later ones double. Default 1000. */
  baseDelayMs: number;
  /** Longest delay between two attempts, in ms. Default 300000 (5 minutes). */
  maxDelayMs: number;
  /** Attempts per cycle before the user is marked `failed`. Default 10 (about 10 minutes of trying). */
  maxAttempts: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { baseDelayMs: 1000, maxDelayMs: 300_000, maxAttempts: 10 };

/**
 * Exponential backoff with ±25 % jitter after failed attempt number
 * `attempt` (1-based), never sooner than the endpoint's Retry-After.
 */
export function retryDelayMs(
  policy: RetryPolicy,
  attempt: number,
  retryAfterMs: number | null,
  random: () => number = Math.random,
): number {
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(attempt - 1, 30));
  const jittered = Math.round(exponential * (0.75 + random() * 0.5));
  return Math.max(jittered, retryAfterMs ?? 0);
}

/** When to try again, or null when the cycle ends here (success, permanent failure, or give-up). */
export function nextRetryAt(
  policy: RetryPolicy,
  attempt: number,
  answer: { retriable: boolean; retryAfterMs: number | null },
  now: number,
): number | null {
  if (!answer.retriable || attempt >= policy.maxAttempts) return null;
  return now + retryDelayMs(policy, attempt, answer.retryAfterMs);
}
