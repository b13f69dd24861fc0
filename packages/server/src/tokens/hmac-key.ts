import { Buffer } from 'node:buffer';
import { createSecretKey, type KeyObject } from 'node:crypto';

/** Enough for every network key in a deployment, twice over during rotations. */
const MAX_CACHED_KEYS = 256;

const keyObjects = new Map<string, KeyObject>();

/**
 * The HMAC key for a network key: its UTF-8 bytes, as the official libraries
 * use it. Cached because turning a string into key material on every verify
 * costs a measurable share of one HMAC.
 */
export function hmacKeyFor(key: string): KeyObject {
  let keyObject = keyObjects.get(key);
  if (keyObject === undefined) {
    if (keyObjects.size >= MAX_CACHED_KEYS) keyObjects.clear();
    keyObject = createSecretKey(Buffer.from(key, 'utf8'));
    keyObjects.set(key, keyObject);
  }
  return keyObject;
}
