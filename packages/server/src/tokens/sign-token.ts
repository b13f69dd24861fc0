import { Buffer } from 'node:buffer';
import { createHmac } from 'node:crypto';
import { hmacKeyFor } from './hmac-key.js';
import { HS256_HEADER_B64, MAX_TOKEN_LENGTH } from './jwt-format.js';
import { MAX_DISPLAY_NAME_LENGTH, SYSTEM_USER_ID, USER_ID_PATTERN, type TokenClaims } from './token-claims.js';

/**
 * Signs claims as the official Livefyre libraries do: header
 * `{"typ":"JWT","alg":"HS256"}`, payload keys in the order domain, user_id,
 * display_name, expires, iat, base64url parts without padding, HMAC-SHA256
 * with the key's UTF-8 bytes.
 *
 * @throws TypeError when a claim or the key is not valid (empty domain, user id
 * outside {@link USER_ID_PATTERN}, display_name over 50 code points,
 * non-finite expires or iat, empty key, or a token over 8 KiB).
 */
export function signToken(claims: TokenClaims, key: string): string {
  assertSignable(claims, key);
  const payload: Record<string, unknown> = { domain: claims.domain, user_id: claims.user_id };
  if (claims.display_name !== undefined) payload['display_name'] = claims.display_name;
  payload['expires'] = claims.expires;
  if (claims.iat !== undefined) payload['iat'] = claims.iat;

  const signingInput = `${HS256_HEADER_B64}.${Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url')}`;
  const token = `${signingInput}.${createHmac('sha256', hmacKeyFor(key)).update(signingInput).digest('base64url')}`;
  if (token.length > MAX_TOKEN_LENGTH) {
    throw new TypeError(`token would be ${token.length} characters; at most ${MAX_TOKEN_LENGTH} are accepted (shorten domain)`);
  }
  return token;
}

/**
 * A system token for `networkName`: user_id and display_name `system`,
 * `expires` = now + ttlSeconds (fractional seconds), `iat` = now in whole seconds.
 *
 * @param ttlSeconds lifetime in seconds; finite and positive.
 * @param nowMs current time in Unix milliseconds; default `Date.now()`.
 * @throws TypeError on a bad ttlSeconds or nowMs, or whatever {@link signToken} refuses.
 */
export function buildSystemToken(networkName: string, key: string, ttlSeconds: number, nowMs: number = Date.now()): string {
  if (typeof ttlSeconds !== 'number' || !Number.isFinite(ttlSeconds) || ttlSeconds <= 0) {
    throw new TypeError(`ttlSeconds must be a finite number of seconds above 0, got ${String(ttlSeconds)}`);
  }
  if (typeof nowMs !== 'number' || !Number.isFinite(nowMs)) {
    throw new TypeError(`nowMs must be a finite Unix time in milliseconds, got ${String(nowMs)}`);
  }
  const nowSeconds = nowMs / 1000;
  return signToken(
    {
      domain: networkName,
      user_id: SYSTEM_USER_ID,
      display_name: SYSTEM_USER_ID,
      expires: nowSeconds + ttlSeconds,
      iat: Math.floor(nowSeconds),
    },
    key,
  );
}

function assertSignable(claims: TokenClaims, key: string): void {
  if (claims === null || typeof claims !== 'object') {
    throw new TypeError('claims must be an object with domain, user_id and expires');
  }
  const { domain, user_id: userId, display_name: displayName, expires, iat } = claims;
  if (typeof domain !== 'string' || domain.length === 0) {
    throw new TypeError("claim 'domain' must be the network name as a non-empty string");
  }
  if (typeof userId !== 'string' || !USER_ID_PATTERN.test(userId)) {
    throw new TypeError("claim 'user_id' must be 1 to 255 characters of A-Z a-z 0-9 _ . -");
  }
  if (displayName !== undefined) {
    if (typeof displayName !== 'string') throw new TypeError("claim 'display_name' must be a string when present");
    // Code points never outnumber UTF-16 units, so the cheap check settles most names.
    const length = displayName.length <= MAX_DISPLAY_NAME_LENGTH ? displayName.length : [...displayName].length;
    if (length > MAX_DISPLAY_NAME_LENGTH) {
      throw new TypeError(`claim 'display_name' is ${length} characters; at most ${MAX_DISPLAY_NAME_LENGTH} are allowed`);
    }
  }
  if (typeof expires !== 'number' || !Number.isFinite(expires)) {
    throw new TypeError(`claim 'expires' must be a finite number of Unix seconds, got ${describeNumber(expires)}`);
  }
  if (iat !== undefined && (typeof iat !== 'number' || !Number.isFinite(iat))) {
    throw new TypeError(`claim 'iat' must be a finite number of Unix seconds when present, got ${describeNumber(iat)}`);
  }
  if (typeof key !== 'string' || key.length === 0) {
    throw new TypeError('key must be a non-empty string (the network key)');
  }
}

function describeNumber(value: unknown): string {
  return typeof value === 'number' ? String(value) : typeof value;
}
