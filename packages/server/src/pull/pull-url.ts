/** The placeholder in a pull URL template that is replaced by the user id. */
export const USER_ID_PLACEHOLDER = '{id}';

/**
 * Template with {id} (every occurrence) replaced by encodeURIComponent(userId), then
 * `?lftoken=` or `&lftoken=` appended (`&` when the URL already has a query string);
 * any #fragment is dropped (it is never sent to a server anyway).
 *
 * The ids "." and ".." (valid user ids) are sent as "%2E" and "%2E%2E": unencoded they
 * would be dot segments and address a different resource (`/users/..` is `/`).
 */
export function buildPullUrl(template: string, userId: string, lftoken: string): string {
  const hashAt = template.indexOf('#');
  const withoutFragment = hashAt === -1 ? template : template.slice(0, hashAt);
  const filled = withoutFragment.split(USER_ID_PLACEHOLDER).join(encodeUserId(userId));
  const separator = !filled.includes('?') ? '?' : /[?&]$/.test(filled) ? '' : '&';
  return `${filled}${separator}lftoken=${encodeURIComponent(lftoken)}`;
}

function encodeUserId(userId: string): string {
  if (userId === '.' || userId === '..') return userId.replaceAll('.', '%2E');
  return encodeURIComponent(userId);
}
