import { randomBytes } from 'node:crypto';

/** A network name is domain-like, e.g. `labs.fyre.co`: lowercase labels joined by dots, at most 253 characters. */
const NETWORK_NAME = /^(?=.{3,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;

/** Shortest network key accepted, in characters: a key is an HMAC secret. */
export const MIN_KEY_LENGTH = 16;
export const MAX_KEY_LENGTH = 512;

/** Null when valid, else what to fix. */
export function networkNameProblem(name: string): string | null {
  if (NETWORK_NAME.test(name)) return null;
  return `network name ${JSON.stringify(name.slice(0, 80))} is not domain-like; use lowercase labels joined by dots, e.g. labs.fyre.co`;
}

/** Null when valid, else what to fix. */
export function networkKeyProblem(key: string): string | null {
  if (key.length < MIN_KEY_LENGTH || key.length > MAX_KEY_LENGTH) {
    return `network key must be ${MIN_KEY_LENGTH}–${MAX_KEY_LENGTH} characters (got ${key.length}); omit --key to get a random 256-bit key`;
  }
  if (!/^[\x21-\x7e]+$/.test(key)) return 'network key must be printable ASCII without spaces';
  return null;
}

/** A random 256-bit key, base64url. */
export function generateNetworkKey(): string {
  return randomBytes(32).toString('base64url');
}
