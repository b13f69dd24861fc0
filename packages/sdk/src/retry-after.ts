/**
 * A Retry-After header (delta-seconds or an HTTP date) as a wait in ms; a
 * date in the past gives 0. `undefined` when absent or unparsable.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  const raw = value?.trim();
  if (raw === undefined || raw === '') return undefined;
  if (/^\d+$/.test(raw)) return Number(raw) * 1000;
  // Only date-shaped values: Date.parse alone would also accept "5" or "-1".
  if (!/[a-z]/i.test(raw)) return undefined;
  const at = Date.parse(raw);
  return Number.isNaN(at) ? undefined : Math.max(at - nowMs, 0);
}
