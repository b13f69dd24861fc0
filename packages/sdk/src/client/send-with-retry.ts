/**
 * One call to p4p over fetch, retried by the {@link RetryPolicy} until it
 * succeeds, fails for good, or its time budget runs out.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { P4pApiError, P4pNetworkError } from '../errors.js';
import { escapeHidden } from '../quote-text.js';
import { parseRetryAfter } from '../retry-after.js';
import { attemptFloorMs, isRetryableStatus, retryDelayMs, type RetryPolicy } from './retry-policy.js';

export interface P4pRequest {
  method: 'POST';
  url: string;
  /** Built again for every attempt, so a long wait never sends a stale token. */
  headers: () => Record<string, string>;
  body?: string;
  /** The status that means success (200 for pings, 204 for registration). */
  expectedStatus: number;
}

export interface SendOptions {
  /** When the call must be over, in Unix ms. Default: now + `totalTimeoutMs`. */
  deadline?: number;
  /** Ends the call at once, rejecting with the signal's reason. */
  signal?: AbortSignal | undefined;
}

/** Longest error message kept from a non-JSON error answer, in characters. */
const MAX_EXCERPT_CHARS = 200;

/** Most of an answer's body ever read, in bytes: p4p's answers are small, a proxy's may not be. */
const MAX_BODY_BYTES = 64 * 1024;

/** A successful answer: the response, and its body as text (read, so the connection can be reused). */
export interface SentAnswer {
  response: Response;
  body: string;
}

/**
 * Resolves with the successful answer. Rejects with {@link P4pApiError} for an error
 * answer (after retries for 429 and 5xx) and with {@link P4pNetworkError}
 * when p4p stayed unreachable. When the next attempt could not start with
 * at least {@link attemptFloorMs} of the budget left (a Retry-After beyond
 * it, say), the call ends at once with the last answer: waiting could not help.
 */
export async function sendWithRetry(request: P4pRequest, policy: RetryPolicy, options: SendOptions = {}): Promise<SentAnswer> {
  const { deadline = Date.now() + policy.totalTimeoutMs, signal } = options;
  let lastFailure: P4pApiError | undefined;
  for (let retry = 1; ; retry++) {
    signal?.throwIfAborted();
    const attemptMs = Math.max(1, Math.min(policy.attemptTimeoutMs, deadline - Date.now()));
    const timeout = AbortSignal.timeout(attemptMs);
    let response: Response;
    try {
      response = await fetch(request.url, {
        method: request.method,
        headers: request.headers(),
        body: request.body,
        redirect: 'manual',
        signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]),
      });
    } catch (error) {
      signal?.throwIfAborted();
      if (await waitToRetry(policy, retry, undefined, deadline, signal)) continue;
      // An attempt cut short by the budget says little; the last answer says more.
      if (lastFailure !== undefined && attemptMs < policy.attemptTimeoutMs) throw lastFailure;
      throw new P4pNetworkError(`could not reach p4p at ${request.url} within ${policy.totalTimeoutMs} ms (${retry} attempts)`, {
        cause: error,
      });
    }

    if (response.status === request.expectedStatus) return { response, body: await readBody(response) };
    const failure = await apiErrorFrom(response);
    if (!isRetryableStatus(response.status)) throw failure;
    lastFailure = failure;
    if (!(await waitToRetry(policy, retry, failure.retryAfterMs, deadline, signal))) throw failure;
  }
}

/** Waits before the next attempt and resolves true, or resolves false at once when too little budget would be left for it. */
async function waitToRetry(
  policy: RetryPolicy,
  retry: number,
  retryAfterMs: number | undefined,
  deadline: number,
  signal: AbortSignal | undefined,
): Promise<boolean> {
  const waitMs = retryDelayMs(policy, retry, retryAfterMs);
  if (Date.now() + waitMs + attemptFloorMs(policy) > deadline) return false;
  // timers/promises rejects with its own AbortError; the caller's reason is what callers expect.
  await sleep(waitMs, undefined, { signal }).catch(() => signal?.throwIfAborted());
  return true;
}

/** The server's `{ code, message }`, or a description of whatever else came back (a proxy's HTML page, a redirect). */
async function apiErrorFrom(response: Response): Promise<P4pApiError> {
  const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), Date.now());
  const text = await readBody(response);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const { code, message } = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  // What the server says reaches the caller's logs: hidden characters there are escaped.
  if (typeof code === 'string' && typeof message === 'string') {
    return new P4pApiError(response.status, escapeHidden(code), escapeHidden(message), retryAfterMs);
  }
  const location = response.headers.get('location');
  const detail = location !== null ? `; Location: ${location}` : text.trim() === '' ? '' : `: ${escapeHidden(text.trim().slice(0, MAX_EXCERPT_CHARS))}`;
  return new P4pApiError(
    response.status,
    `http_${response.status}`,
    `p4p answered ${response.status} ${response.statusText} without a p4p error body${detail}; check the url option`,
    retryAfterMs,
  );
}

/** The body as text, at most {@link MAX_BODY_BYTES} of it; the rest is cancelled. A body cut off mid-way gives what came. */
async function readBody(response: Response): Promise<string> {
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  try {
    while (bytes < MAX_BODY_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      bytes += value.byteLength;
    }
  } catch {
    // The connection broke or the attempt timed out while reading: keep what came.
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).subarray(0, MAX_BODY_BYTES).toString('utf8');
}
