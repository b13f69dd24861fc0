/**
 * Error codes of token checks. These codes are a public contract: never
 * change what one means.
 *
 * - `token_invalid`: malformed, wrong algorithm, or bad signature.
 * - `token_expired`: well signed, but `expires` (or `exp`) is past, beyond the allowed clock skew.
 * - `token_wrong_network`: well signed, but `domain` is not the network that verified it.
 */
export const TOKEN_ERROR_CODES = ['token_invalid', 'token_expired', 'token_wrong_network'] as const;

export type TokenErrorCode = (typeof TOKEN_ERROR_CODES)[number];

export interface TokenFailure {
  ok: false;
  code: TokenErrorCode;
  /** Says what is wrong and what to fix; never contains the token or a key. */
  message: string;
}

export function tokenFailure(code: TokenErrorCode, message: string): TokenFailure {
  return { ok: false, code, message };
}

const PRINTABLE_SHORT = /^[\x20-\x26\x28-\x7e]{0,64}$/;

/**
 * A value read from an unverified token, fit for a message: short printable
 * strings are quoted, anything else is described by type (and length), so a
 * message can never carry a whole token, a key or control characters.
 */
export function describeUntrusted(value: unknown): string {
  if (typeof value === 'string') {
    return PRINTABLE_SHORT.test(value) ? `'${value}'` : `a ${value.length}-character string`;
  }
  return jsonType(value);
}

export function jsonType(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}
