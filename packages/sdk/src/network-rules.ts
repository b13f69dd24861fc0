/**
 * What a network's name and key must be (spec section 1). p4p refuses any
 * other at `network create`; the SDK refuses them when a Network is made, so
 * a mistyped name or a key read with its trailing newline fails at once,
 * instead of as a 403 on every ping.
 */
import { quoteText } from './quote-text.js';

/** A network name is domain-like, e.g. `labs.fyre.co`: lowercase labels (letters, digits, `-`, `_`) joined by dots, at most 253 characters. */
const NETWORK_NAME = /^(?=.{3,253}$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)+$/;

/** Longest network key, in characters. */
export const MAX_KEY_LENGTH = 512;

/** Null when `name` is a valid network name, else what to fix. */
export function networkNameProblem(name: string): string | null {
  if (NETWORK_NAME.test(name)) return null;
  return `network name ${quoteText(name, 80)} is not domain-like; use lowercase labels joined by dots, e.g. labs.fyre.co`;
}

/** Null when `key` is a valid network key, else what to fix. */
export function networkKeyProblem(key: string): string | null {
  if (key.length === 0 || key.length > MAX_KEY_LENGTH) return `network key must be 1–${MAX_KEY_LENGTH} characters (got ${key.length})`;
  // Any other printable character is fine: a key is used as its UTF-8 bytes, as the official libraries do.
  if (/[\s\p{Cc}]/u.test(key)) return 'network key must be printable characters without spaces or line breaks (a line break read from a file counts)';
  return null;
}
