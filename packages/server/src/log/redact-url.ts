/** Query parameters whose values are secrets and must never reach a log line or a stored message. */
const SECRET_PARAMS = ['lftoken', 'actor_token'] as const;

const SECRET_PARAM_PATTERN = new RegExp(`(^|[?&;])(${SECRET_PARAMS.join('|')})=[^&#;]*`, 'gi');

/**
 * Replaces the values of the lftoken and actor_token query parameters with "[redacted]";
 * works on absolute URLs and on request paths like "/x?lftoken=..."; never throws.
 *
 * Plain text matching rather than URL parsing, so that malformed URLs, paths and bare
 * query strings ("a=1&lftoken=…") are redacted too and nothing else is rewritten.
 */
export function redactUrl(url: string): string {
  try {
    return String(url).replace(SECRET_PARAM_PATTERN, '$1$2=[redacted]');
  } catch {
    return '[unprintable url]';
  }
}
