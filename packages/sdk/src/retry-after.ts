/** The three HTTP-date forms a recipient must accept (RFC 9110 section 5.6.7), all in GMT. */
const IMF_FIXDATE = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;
const RFC850_DATE = /^(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day, \d{2}-(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)-\d{2} \d{2}:\d{2}:\d{2} GMT$/;
const ASCTIME_DATE = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d \d{2}:\d{2}:\d{2} \d{4}$/;

/**
 * A Retry-After header (delta-seconds or an HTTP date) as a wait in ms; a
 * date in the past gives 0. `undefined` when absent or not one of those
 * forms: Date.parse alone would read "foo 2030" as a date.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  const raw = value?.trim();
  if (raw === undefined || raw === '') return undefined;
  if (/^\d+$/.test(raw)) return Number(raw) * 1000;
  let at = NaN;
  if (IMF_FIXDATE.test(raw) || RFC850_DATE.test(raw)) at = Date.parse(raw);
  // asctime carries no zone; it is GMT, not the local time Date.parse would assume.
  else if (ASCTIME_DATE.test(raw)) at = Date.parse(`${raw} GMT`);
  return Number.isNaN(at) ? undefined : Math.max(at - nowMs, 0);
}
