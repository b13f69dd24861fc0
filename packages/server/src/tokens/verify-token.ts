/**
 * Livefyre-compatible tokens (spec section 2): JWTs signed with HS256, the
 * network key's UTF-8 bytes as the HMAC key, claims `domain`, `user_id`,
 * `display_name`, `expires` and optional `iat`.
 *
 * Checking a token takes two steps, because the network (and so the key) is
 * named inside the token:
 *
 * 1. {@link parseToken} decodes and shape-checks it without trusting it.
 *    The header must say `alg` HS256 exactly (`none`, `hs256`, HS512 and
 *    every other value are refused before any key is touched); `typ`, when
 *    present, must be JWT (case-insensitive, RFC 7515); `crit` is refused.
 * 2. {@link verifyToken} checks, in this order: the MAC against each key given
 *    (current, then previous during a key rotation; constant-time compares),
 *    `domain === networkName` exactly, then expiry.
 *
 * Decisions:
 * - Expiry is the Livefyre `expires` claim, which every official library
 *   sends; it is required, and the standard `exp` is not accepted in its
 *   place (a token carrying only `exp` is rejected with a message that says
 *   so). When a token also carries `exp`, it is enforced too, as the official
 *   libraries' own jsonwebtoken-based validation does.
 * - A token is expired when `expires <= now - clockSkewSeconds` (default 60).
 * - `display_name` of any length is accepted on verify (it is informational);
 *   {@link signToken} refuses to write one over 50 code points.
 * - Base64url without padding only, and only the canonical spelling of the
 *   32-byte MAC, so a signed token cannot be re-spelled into a second valid one.
 * - An empty key never verifies anything (it would make tokens forgeable).
 * - Keys are prepared once and cached (tokens/hmac-sha256.ts); verify does one
 *   JSON.parse (of the payload; the two usual header spellings are recognised
 *   without decoding). The MAC is computed as base64url and compared with the
 *   token's own characters: a binary digest costs Node an unpooled Buffer,
 *   and the signature a decode (docs/benchmarks.md, row 4).
 * - Messages say what to fix and may quote short printable claim values read
 *   from the token (alg, typ, domain), never the token or a key.
 */
import { hmacSha256Base64url } from './hmac-sha256.js';
import { HS256_SIGNATURE_CHARS } from './jwt-format.js';
import type { ParsedToken } from './parse-token.js';
import { SYSTEM_USER_ID, type TokenClaims } from './token-claims.js';
import { describeUntrusted, tokenFailure, type TokenFailure } from './token-errors.js';

export { parseToken, type ParsedToken } from './parse-token.js';
export { TOKEN_ERROR_CODES, type TokenErrorCode, type TokenFailure } from './token-errors.js';

/** Clock skew allowed past `expires` when none is given, in seconds (spec: at most 60). */
export const DEFAULT_CLOCK_SKEW_SECONDS = 60;

export interface VerifyTokenOptions {
  /** The network's keys: the current one first, then the previous one during a rotation. */
  keys: readonly string[];
  /** The network the token must be for; compared to `domain` exactly. */
  networkName: string;
  /** Current time, in Unix milliseconds. */
  nowMs: number;
  /** How far past `expires` a token is still accepted, in seconds. Default 60. */
  clockSkewSeconds?: number;
}

/**
 * Verifies a parsed token's signature with each key, then its network, then
 * its expiry; says which key matched (0: the current one). Never throws.
 */
export function verifyToken(
  parsed: ParsedToken,
  opts: VerifyTokenOptions,
): { ok: true; claims: TokenClaims; keyIndex: number } | TokenFailure {
  const { keys, networkName, nowMs } = opts;
  const keyIndex = matchingKey(parsed, keys);
  if (keyIndex === -1) {
    return tokenFailure(
      'token_invalid',
      !keys.some((key) => typeof key === 'string' && key.length > 0)
        ? `network '${networkName}' has no key to verify tokens with; configure the network key`
        : `token signature does not match the key of network '${networkName}'; sign it with the network's current key`,
    );
  }

  const { claims } = parsed;
  if (claims.domain !== networkName) {
    return tokenFailure(
      'token_wrong_network',
      `token is for network ${describeUntrusted(claims.domain)}, not '${networkName}'; build it with domain '${networkName}'`,
    );
  }

  const skewSeconds = opts.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS;
  const oldestAcceptedSeconds = nowMs / 1000 - skewSeconds;
  if (!(claims.expires > oldestAcceptedSeconds)) {
    return expired('', 'expires', claims.expires, nowMs, skewSeconds);
  }
  if (parsed.exp !== undefined && !(parsed.exp > oldestAcceptedSeconds)) {
    return expired(" by its standard 'exp' claim", 'exp', parsed.exp, nowMs, skewSeconds);
  }
  return { ok: true, claims, keyIndex };
}

/** True for the network's system user or one of the network's owners. */
export function isSystemUser(claims: TokenClaims, owners: readonly string[] = []): boolean {
  return claims.user_id === SYSTEM_USER_ID || owners.includes(claims.user_id);
}

/** The index in `keys` of the key the token is signed with, or -1. */
function matchingKey(parsed: ParsedToken, keys: readonly string[]): number {
  const { signature, signingInput } = parsed;
  if (typeof signature !== 'string' || signature.length !== HS256_SIGNATURE_CHARS || typeof signingInput !== 'string') return -1;
  return keys.findIndex((key) => {
    // An empty key is a configuration error and would make every token forgeable.
    if (typeof key !== 'string' || key.length === 0) return false;
    return sameInConstantTime(hmacSha256Base64url(key, signingInput), signature);
  });
}

/**
 * Compares two strings of equal length without stopping at the first
 * difference, so the time taken says nothing about how much of a forged MAC
 * was right (what crypto.timingSafeEqual does for Buffers, without making two).
 */
function sameInConstantTime(a: string, b: string): boolean {
  let difference = a.length ^ b.length;
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return difference === 0;
}

function expired(
  how: string,
  claim: 'expires' | 'exp',
  expiresSeconds: number,
  nowMs: number,
  skewSeconds: number,
): TokenFailure {
  const agoSeconds = Math.round(nowMs / 1000 - expiresSeconds);
  return tokenFailure(
    'token_expired',
    `token expired ${agoSeconds} s ago${how} (${claim} ${expiresSeconds}; ${skewSeconds} s of clock skew allowed); build a fresh token`,
  );
}
