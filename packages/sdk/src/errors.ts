/**
 * The errors the SDK throws. Every one carries a stable `code`, so callers
 * can branch on it without parsing messages.
 */

/** A bad argument (user id, display name, expiry, URL, option…); the message says what to fix. Nothing was sent. */
export class P4pInputError extends TypeError {
  readonly code = 'invalid_input';
  override readonly name = 'P4pInputError';
}

/**
 * p4p answered with an error that retrying will not fix (a 4xx other than
 * 429), or retries ran out. `code` and `message` are the server's own
 * (`{ code, message }` body, see docs/api.md); `status` is the HTTP status.
 */
export class P4pApiError extends Error {
  override readonly name = 'P4pApiError';
  constructor(
    /** HTTP status of the last answer. */
    readonly status: number,
    /** The server's error code, e.g. `token_invalid`, `user_id_invalid`, `rate_limited`. */
    readonly code: string,
    message: string,
    /** The server's Retry-After, in ms, when it sent one (429, 503): when trying again can succeed. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/**
 * p4p could not be reached (DNS, connection refused or reset, timeout) and
 * retries ran out; the last network error is the `cause`.
 */
export class P4pNetworkError extends Error {
  readonly code = 'network_error';
  override readonly name = 'P4pNetworkError';
}
