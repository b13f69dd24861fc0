/**
 * The URL p4p pulls (spec section 5). It lives in the SDK so that p4p and the
 * endpoint doctor send exactly the same request; the server re-exports it.
 */

/** The placeholder in a pull URL template that is replaced by the user id. */
export const USER_ID_PLACEHOLDER = '{id}';

/**
 * Template with {id} (every occurrence) replaced by encodeURIComponent(userId);
 * any #fragment is dropped (it is never sent to a server anyway).
 *
 * The ids "." and ".." (valid user ids) are sent as "%2E" and "%2E%2E": unencoded they
 * would be dot segments and address a different resource (`/users/..` is `/`).
 */
export function fillPullTemplate(template: string, userId: string): string {
  const hashAt = template.indexOf('#');
  const withoutFragment = hashAt === -1 ? template : template.slice(0, hashAt);
  return withoutFragment.split(USER_ID_PLACEHOLDER).join(encodeUserId(userId));
}

/**
 * {@link fillPullTemplate}, then `?lftoken=` or `&lftoken=` appended (`&` when the URL
 * already has a query string).
 */
export function buildPullUrl(template: string, userId: string, lftoken: string): string {
  const filled = fillPullTemplate(template, userId);
  const separator = !filled.includes('?') ? '?' : /[?&]$/.test(filled) ? '' : '&';
  return `${filled}${separator}lftoken=${encodeURIComponent(lftoken)}`;
}

function encodeUserId(userId: string): string {
  if (userId === '.' || userId === '..') return userId.replaceAll('.', '%2E');
  return encodeURIComponent(userId);
}
