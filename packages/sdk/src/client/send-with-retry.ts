/**
 * One call to p4p over fetch, retried by the {@link RetryPolicy} until it
 * succeeds, fails for good, or its time budget runs out.
 */
import { P4pApiError, P4pNetworkError } from '../errors.js';
import { parseRetryAfter } from '../retry-after.js';
import { isRetryableStatus, retryDelayMs, type RetryPolicy } from './retry-policy.js';

export interface P4pRequest {
  method: 'POST';
  url: string;
  /** Built again for every attempt, so a long wait never sends a stale token. */
  headers: () => Record<string, string>;
  body?: string;
  /** The status that means success (200 for pings, 204 for registration). */
  expectedStatus: number;
}

/** Longest error message kept from a non-JSON error answer, in characters. */
const MAX_EXCERPT_CHARS = 200;

/**
 * Resolves with the successful response. Rejects with {@link P4pApiError}
 * for an error answer (after retries for 429 and 5xx) and with
 * {@link P4pNetworkError} when p4p stayed unreachable. A Retry-After longer
 * than the remaining budget ends the call at once: waiting could not help.
 */
export async function sendWithRetry(request: P4pRequest, policy: RetryPolicy): Promise<Response> {
  const deadline = Date.now() + policy.totalTimeoutMs;
  for (let retry = 1; ; retry++) {
    const attemptMs = Math.max(1, Math.min(policy.attemptTimeoutMs, deadline - Date.now()));
    let response: Response;
    try {
      response = await fetch(request.url, {
        method: request.method,
        headers: request.headers(),
        body: request.body,
        redirect: 'manual',
        signal: AbortSignal.timeout(attemptMs),
      });
    } catch (error) {
      const waitMs = retryDelayMs(policy, retry, undefined);
      if (Date.now() + waitMs >= deadline) {
        throw new P4pNetworkError(`could not reach p4p at ${request.url} within ${policy.totalTimeoutMs} ms (${retry} attempts)`, {
          cause: error,
        });
      }
      await sleep(waitMs);
      continue;
    }

    if (response.status === request.expectedStatus) return response;
    const failure = await apiErrorFrom(response);
    if (!isRetryableStatus(response.status)) throw failure;
    const waitMs = retryDelayMs(policy, retry, failure.retryAfterMs);
    if (Date.now() + waitMs >= deadline) throw failure;
    await sleep(waitMs);
  }
}

/** The server's `{ code, message }`, or a description of whatever else came back (a proxy's HTML page, a redirect). */
async function apiErrorFrom(response: Response): Promise<P4pApiError> {
  const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), Date.now());
  const text = await response.text().catch(() => '');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const { code, message } = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  if (typeof code === 'string' && typeof message === 'string') {
    return new P4pApiError(response.status, code, message, retryAfterMs);
  }
  const location = response.headers.get('location');
  const detail = location !== null ? `; Location: ${location}` : text.trim() === '' ? '' : `: ${text.trim().slice(0, MAX_EXCERPT_CHARS)}`;
  return new P4pApiError(
    response.status,
    `http_${response.status}`,
    `p4p answered ${response.status} ${response.statusText} without a p4p error body${detail}; check the url option`,
    retryAfterMs,
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
