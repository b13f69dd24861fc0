import { randomBytes } from 'node:crypto';
import { quoteText } from 'p4p-sdk';

/** A network name is domain-like, e.g. `labs.fyre.co`: lowercase labels (letters, digits, `-`, `_`) joined by dots, at most 253 characters. */
const NETWORK_NAME = /^(?=.{3,253}$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)+$/;

/**
 * Keys shorter than this are accepted (a customer moving from Livefyre keeps
 * the key its identity system already has) but called weak.
 */
export const WEAK_KEY_LENGTH = 16;
export const MAX_KEY_LENGTH = 512;

/** Null when valid, else what to fix. */
export function networkNameProblem(name: string): string | null {
  if (NETWORK_NAME.test(name)) return null;
  return `network name ${quoteText(name, 80)} is not domain-like; use lowercase labels joined by dots, e.g. labs.fyre.co`;
}

/** Null when valid, else what to fix. */
export function networkKeyProblem(key: string): string | null {
  if (key.length === 0 || key.length > MAX_KEY_LENGTH) {
    return `network key must be 1–${MAX_KEY_LENGTH} characters (got ${key.length}); omit --key to get a random 256-bit key`;
  }
  if (!/^[\x21-\x7e]+$/.test(key)) return 'network key must be printable ASCII without spaces';
  return null;
}

/** A warning for a valid but short key, or null. */
export function weakKeyWarning(key: string): string | null {
  if (key.length >= WEAK_KEY_LENGTH) return null;
  return `warning: a ${key.length}-character key is weak; use ${WEAK_KEY_LENGTH} or more random characters when the identity system can change it`;
}

/** A random 256-bit key, base64url. */
export function generateNetworkKey(): string {
  return randomBytes(32).toString('base64url');
}
