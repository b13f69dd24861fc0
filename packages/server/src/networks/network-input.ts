import { randomBytes } from 'node:crypto';
export { MAX_KEY_LENGTH, networkKeyProblem, networkNameProblem } from 'p4p-sdk';

/**
 * Keys shorter than this are accepted (a customer moving from Livefyre keeps
 * the key its identity system already has) but called weak.
 */
export const WEAK_KEY_LENGTH = 16;

/** A warning for a valid but short key, or null. */
export function weakKeyWarning(key: string): string | null {
  if (key.length >= WEAK_KEY_LENGTH) return null;
  return `warning: a ${key.length}-character key is weak; use ${WEAK_KEY_LENGTH} or more random characters when the identity system can change it`;
}

/** A random 256-bit key, base64url. */
export function generateNetworkKey(): string {
  return randomBytes(32).toString('base64url');
}
