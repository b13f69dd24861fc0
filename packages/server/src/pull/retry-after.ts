/** Longest wait p4p takes from a Retry-After header: 1 hour, in ms. */
export const MAX_RETRY_AFTER_MS = 3_600_000;

/**
 * Parses a Retry-After header value (delta-seconds or an HTTP date) into a wait in ms,
 * capped at MAX_RETRY_AFTER_MS. A date in the past gives 0. Null when absent or unparsable.
 * `nowMs` is the current time in ms since the epoch (passed in so tests control it).
 */
export function parseRetryAfter(value: string | string[] | undefined, nowMs: number): number | null {
  const raw = (Array.isArray(value) ? value[0] : value)?.trim();
  if (raw === undefined || raw === '') return null;
  if (/^\d+$/.test(raw)) return Math.min(Number(raw) * 1000, MAX_RETRY_AFTER_MS);
  // Only date-shaped values: Date.parse alone would also accept "5" or "-1".
  if (!/[a-z]/i.test(raw)) return null;
  const at = Date.parse(raw);
  if (Number.isNaN(at)) return null;
  return Math.min(Math.max(at - nowMs, 0), MAX_RETRY_AFTER_MS);
}
