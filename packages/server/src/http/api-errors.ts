import { USER_ID_RULE } from '../tokens/token-claims.js';

/**
 * Every error the HTTP API answers with: a stable `code`, its HTTP status and
 * a default message. Answers are `{ "code", "message" }`; the message of a
 * particular error says exactly what to fix. docs/api.md lists the same codes
 * (a test keeps the two in step). Never change what a shipped code means.
 */
export const API_ERRORS = {
  invalid_user_id: { status: 400, message: USER_ID_RULE },
  invalid_body: { status: 400, message: 'the request body or parameters are malformed' },
  malformed_request: { status: 400, message: 'the request is not valid HTTP/1.1: check its request line, Content-Length and Transfer-Encoding' },
  invalid_pull_url: { status: 400, message: 'pull_profile_url must be an absolute http(s) URL containing {id}' },
  pull_url_blocked: { status: 400, message: 'pull_profile_url points at a loopback, private or link-local address' },
  token_missing: { status: 403, message: 'no token: send it as lftoken (query or body) or as Authorization: Bearer' },
  token_invalid: { status: 403, message: 'the token is malformed or its signature does not match' },
  token_expired: { status: 403, message: 'the token has expired' },
  token_wrong_network: { status: 403, message: 'the token is for another network' },
  unknown_network: { status: 403, message: "the token's domain is not a network of this p4p" },
  not_system_token: { status: 403, message: 'this call needs a system token (user_id "system" or a network owner)' },
  user_not_found: { status: 404, message: 'p4p has never heard of this user: ping it first' },
  not_found: { status: 404, message: 'no such route' },
  request_timeout: { status: 408, message: 'the request did not arrive whole in time: send it again' },
  pull_url_not_registered: { status: 409, message: 'the network has no pull URL yet: register one first' },
  body_too_large: { status: 413, message: 'the request body is over the limit' },
  unsupported_media_type: { status: 415, message: 'send application/x-www-form-urlencoded or application/json' },
  rate_limited: { status: 429, message: 'the network is over its ping rate limit' },
  headers_too_large: {
    status: 431,
    message: "the request line and headers are over 16 KiB: send the lftoken in the body, not the URL or a header, and keep user ids to 255 characters",
  },
  internal_error: { status: 500, message: 'internal error; it has been logged' },
  store_unavailable: { status: 503, message: 'the database is unavailable for a moment; retry after the Retry-After seconds' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ApiErrorCode = keyof typeof API_ERRORS;

/** An error answer; thrown anywhere in a route, rendered by the app's one error handler. */
export class ApiError extends Error {
  readonly status: number;

  constructor(
    readonly code: ApiErrorCode,
    message: string = API_ERRORS[code].message,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = API_ERRORS[code].status;
  }
}
