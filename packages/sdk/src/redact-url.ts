/**
 * One redactor for every URL p4p or the doctor prints or stores: log lines,
 * pull failure messages, a redirect's Location in a doctor report.
 */

/** Query parameters whose values are secrets and must never reach a log line or a stored message. */
const SECRET_PARAMS = new Set(['lftoken', 'actor_token']);

/** One `name=value` pair of a query string, at its start or after `?`, `&` or `;`. */
const QUERY_PAIR = /(^|[?&;])([^&;=#?]*)=([^&#;]*)/g;

/** Levels of percent-encoding looked through for a nested URL (`next=%2Fu%3Flftoken%3D…`). */
const MAX_NESTING = 4;

/** A query component as a query parser reads it; the raw text when it is malformed. */
function decodeComponent(raw: string): string {
  try {
    return decodeURIComponent(raw.replaceAll('+', ' '));
  } catch {
    return raw;
  }
}

function isSecretName(rawName: string): boolean {
  // Judged as a query parser reads it, so `lf%74oken` is caught too.
  return SECRET_PARAMS.has(decodeComponent(rawName).toLowerCase());
}

/** True when the value, once decoded, is or holds a URL with a secret parameter. */
function holdsSecret(rawValue: string, depth: number): boolean {
  if (depth >= MAX_NESTING) return false;
  const decoded = decodeComponent(rawValue);
  return decoded !== rawValue && redactLevel(decoded, depth + 1) !== decoded;
}

function redactLevel(url: string, depth: number): string {
  return url.replace(QUERY_PAIR, (pair, separator: string, name: string, value: string) =>
    isSecretName(name) || holdsSecret(value, depth) ? `${separator}${name}=[redacted]` : pair,
  );
}

/**
 * Replaces the values of the lftoken and actor_token query parameters with "[redacted]",
 * whatever the spelling of the name (`lf%74oken`), and the whole value of any parameter
 * that holds such a URL percent-encoded (`next=%2Fu%3Flftoken%3D…`); works on absolute
 * URLs, request paths like "/x?lftoken=..." and bare query strings; never throws.
 *
 * Text matching rather than URL parsing, so that malformed URLs are redacted too and
 * nothing else is rewritten.
 */
export function redactUrl(url: string): string {
  try {
    return redactLevel(String(url), 0);
  } catch {
    return '[unprintable url]';
  }
}
