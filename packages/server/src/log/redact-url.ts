/** Query parameters whose values are secrets and must never reach a log line or a stored message. */
const SECRET_PARAMS = new Set(['lftoken', 'actor_token']);

/** One `name=value` pair of a query string, at its start or after `?`, `&` or `;`. */
const QUERY_PAIR = /(^|[?&;])([^&;=#?]*)=([^&#;]*)/g;

function isSecretName(rawName: string): boolean {
  let name = rawName;
  try {
    // Judge the name as a query parser would read it, so `lf%74oken` is caught too.
    name = decodeURIComponent(rawName.replaceAll('+', ' '));
  } catch {
    // A malformed escape: judge the raw spelling.
  }
  return SECRET_PARAMS.has(name.toLowerCase());
}

/**
 * Replaces the values of the lftoken and actor_token query parameters with "[redacted]";
 * works on absolute URLs, request paths like "/x?lftoken=..." and bare query strings;
 * never throws.
 *
 * Text matching rather than URL parsing, so that malformed URLs are redacted too and
 * nothing else is rewritten.
 */
export function redactUrl(url: string): string {
  try {
    return String(url).replace(QUERY_PAIR, (pair, separator: string, name: string) =>
      isSecretName(name) ? `${separator}${name}=[redacted]` : pair,
    );
  } catch {
    return '[unprintable url]';
  }
}
