import { quoteText } from 'p4p-sdk';
import type { PullOutcome } from './pull-outcome.js';
import { parseRetryAfter } from './retry-after.js';
import { redactUrl } from '../log/redact-url.js';

/** How p4p reads a non-200 HTTP status (spec section 5). */
export interface StatusFailure {
  outcome: Exclude<PullOutcome, 'ok' | 'unchanged'>;
  retriable: boolean;
  message: string;
  retryAfterMs: number | null;
}

type Headers = Record<string, string | string[] | undefined>;

/**
 * Classifies every status other than 200: other 2xx invalid_response; 3xx redirect (never
 * followed); 401/403 auth_failed; 404 not_found; 408, 429 and 5xx retriable http_error with
 * Retry-After; anything else a final http_error. None of these is retried hot except the
 * retriable ones. `nowMs` dates Retry-After values.
 */
export function classifyStatus(status: number, headers: Headers, nowMs: number): StatusFailure {
  if (status >= 200 && status < 300) {
    return final('invalid_response', `expected 200 with a profile, got ${status}`);
  }
  if (status >= 300 && status < 400) {
    const location = headerValue(headers, 'location');
    const where = location === undefined ? 'without a Location header' : `to ${redactUrl(location)}`;
    return final(
      'redirect',
      `answered ${status} redirecting ${where}; p4p never follows redirects: register the final URL as the pull URL`,
    );
  }
  if (status === 401 || status === 403) {
    return final(
      'auth_failed',
      `answered ${status}: the endpoint rejected p4p's lftoken. The network key in p4p differs from the one the identity system validates with; make them the same`,
    );
  }
  if (status === 404) {
    return final('not_found', 'answered 404: user not found at the identity system');
  }
  if (status === 408 || status === 429 || (status >= 500 && status < 600)) {
    const retryAfter = headerValue(headers, 'retry-after');
    const retryAfterMs = parseRetryAfter(retryAfter, nowMs);
    const hint =
      retryAfterMs !== null
        ? ` (Retry-After: ${Math.round(retryAfterMs / 1000)} s)`
        : retryAfter === undefined
          ? ''
          : ` (Retry-After ${quoteText(retryAfter, 40)} ignored: send whole seconds or an HTTP date)`;
    return { outcome: 'http_error', retriable: true, message: `answered ${status}, a temporary failure${hint}`, retryAfterMs };
  }
  return final('http_error', `answered ${status}, which p4p does not retry`);
}

function final(outcome: StatusFailure['outcome'], message: string): StatusFailure {
  return { outcome, retriable: false, message, retryAfterMs: null };
}

function headerValue(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}
