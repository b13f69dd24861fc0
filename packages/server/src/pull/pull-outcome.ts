/**
 * Outcome of one pull attempt, as stored and shown in the read API.
 * These codes are a public contract: never change what one means.
 */
export const PULL_OUTCOMES = [
  'ok',
  'unchanged',
  'invalid_response',
  'auth_failed',
  'not_found',
  'http_error',
  'timeout',
  'network_error',
  'too_large',
  'redirect',
  'blocked_target',
  'internal_error',
] as const;

export type PullOutcome = (typeof PULL_OUTCOMES)[number];
