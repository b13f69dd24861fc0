import { parseRetryAfter as parseRetryAfterHeader } from 'p4p-sdk';

/** Longest wait p4p takes from a Retry-After header: 1 hour, in ms. */
export const MAX_RETRY_AFTER_MS = 3_600_000;

/**
 * A pull endpoint's Retry-After header (delta-seconds or an HTTP date) as a
 * wait in ms, capped at MAX_RETRY_AFTER_MS; null when absent or unparsable.
 * `nowMs` is passed in so tests control the clock.
 */
export function parseRetryAfter(value: string | string[] | undefined, nowMs: number): number | null {
  const waitMs = parseRetryAfterHeader(Array.isArray(value) ? value[0] : value, nowMs);
  return waitMs === undefined ? null : Math.min(waitMs, MAX_RETRY_AFTER_MS);
}
