import { USER_ID_PLACEHOLDER } from './pull-url.js';

/** Longest pull URL template accepted, in characters (spec section 4). */
export const MAX_TEMPLATE_LENGTH = 2048;

export type TemplateShape = { ok: true; url: URL } | { ok: false; message: string };

/**
 * The shape rules of a pull URL template (spec section 4), shared by p4p's
 * registration and the endpoint doctor so both refuse the same templates with
 * the same words. In order: a non-empty string of at most MAX_TEMPLATE_LENGTH
 * characters, without spaces or control characters, containing {id} outside
 * the #fragment, an absolute http or https URL once {id} is filled in, {id}
 * not in the scheme, host or port, no user name or password, no lftoken of
 * its own. `url` is the template filled with a sample id.
 * Whether the host may be pulled from is p4p's own rule, not checked here.
 *
 * @param name how messages call the template, e.g. "pull_profile_url".
 */
export function checkTemplateShape(template: unknown, name = 'pull_profile_url'): TemplateShape {
  const invalid = (problem: string): TemplateShape => ({ ok: false, message: `${name} ${problem}` });
  if (Array.isArray(template)) return invalid('is given more than once: give one absolute https URL containing {id}');
  if (template !== undefined && template !== null && typeof template !== 'string') {
    return invalid(`must be a string, not a ${typeof template}: give an absolute https URL containing {id}`);
  }
  if (typeof template !== 'string' || template.trim() === '') {
    return { ok: false, message: `${name} is missing or empty: give an absolute https URL containing {id}` };
  }
  if (template.length > MAX_TEMPLATE_LENGTH) {
    return invalid(`is ${template.length} characters long; the limit is ${MAX_TEMPLATE_LENGTH}: shorten it`);
  }
  const unsafeAt = template.search(/[\s\x00-\x1f\x7f]/);
  if (unsafeAt !== -1) {
    // The URL parser would drop tabs and newlines and keep the rest, so what is stored would not be what is pulled.
    const code = template.codePointAt(unsafeAt)!.toString(16).toUpperCase().padStart(4, '0');
    return invalid(`has a space or control character (U+${code}) at position ${unsafeAt + 1}: percent-encode it (a space is %20) or remove it`);
  }
  if (!template.includes(USER_ID_PLACEHOLDER)) {
    return invalid('does not contain {id}: put {id} where the user id goes, e.g. https://example.com/users/{id}');
  }
  const hashAt = template.indexOf('#');
  if (hashAt !== -1 && !template.slice(0, hashAt).includes(USER_ID_PLACEHOLDER)) {
    return invalid('has {id} only in the #fragment, which is never sent: move it into the path or query');
  }

  const url = parseWithSampleId(template, 'sample-user-1');
  if (url === null) {
    return invalid('is not an absolute URL: it must start with https:// (or http://) and a host name');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return invalid(`uses the ${url.protocol.slice(0, -1)} scheme: only https and http URLs are accepted`);
  }
  if (url.origin !== parseWithSampleId(template, 'other-user-2')?.origin) {
    return invalid('has {id} in the host or port: put {id} in the path or the query string');
  }
  if (url.username !== '' || url.password !== '') {
    return invalid('contains a user name or password: remove them; p4p authenticates with the lftoken it adds');
  }
  if (url.searchParams.has('lftoken')) {
    // A second lftoken would reach the endpoint beside p4p's, and many endpoints read only the first.
    return invalid('already has an lftoken in its query string: remove it; p4p adds its own signed lftoken to every pull');
  }
  return { ok: true, url };
}

function parseWithSampleId(template: string, sampleId: string): URL | null {
  try {
    return new URL(template.split(USER_ID_PLACEHOLDER).join(sampleId));
  } catch {
    return null;
  }
}
