/**
 * Livefyre-compatible tokens (spec section 2), byte for byte as the official
 * `livefyre` libraries write them: header `{"typ":"JWT","alg":"HS256"}`,
 * base64url parts without padding, HMAC-SHA256 keyed with the network key's
 * UTF-8 bytes, claims `domain`, `user_id`, `display_name`, `expires` (Unix
 * seconds, fractional) and `iat`.
 *
 * Validation follows the same rules as the p4p server: HS256 only (the header
 * must say so exactly; `none` and every other algorithm are refused), a
 * constant-time MAC compare, `expires` required and at most 60 s in the past,
 * the standard `exp` enforced too when present, `iat` and `exp` finite
 * numbers when present.
 */
import { Buffer } from 'node:buffer';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { P4pInputError } from './errors.js';
import { networkKeyProblem, networkNameProblem } from './network-rules.js';
import { controlCharacterIn } from './profile/field-rules.js';
import { quoteText } from './quote-text.js';

/** Allowed `user_id`: 1 to 255 of A-Z a-z 0-9 `_` `.` `-` (the p4p server's rule). */
export const USER_ID_PATTERN = /^[A-Za-z0-9_.-]{1,255}$/;

/** {@link USER_ID_PATTERN} in words, for error messages. */
export const USER_ID_RULE = 'user id must be 1–255 characters of A-Z a-z 0-9 _ . -';

/** `user_id` of a network's system user. */
export const SYSTEM_USER_ID = 'system';

/** Longest `display_name` a token may carry, in Unicode code points. */
export const MAX_DISPLAY_NAME_LENGTH = 50;

/** Lifetime of a system token when none is given, in seconds (the official libraries' default). */
export const DEFAULT_SYSTEM_TOKEN_SECONDS = 86_400;

/** How far past `expires` a token still validates, in seconds (the p4p server's rule). */
export const CLOCK_SKEW_SECONDS = 60;

/** Longest token accepted or written, in characters (the p4p server's limit). */
export const MAX_TOKEN_LENGTH = 8192;

const HS256_HEADER_B64 = Buffer.from('{"typ":"JWT","alg":"HS256"}').toString('base64url');
const HS256_SIGNATURE_BYTES = 32;

export interface TokenClaims {
  /** The network name, e.g. `labs.fyre.co`. */
  domain: string;
  /** Matches {@link USER_ID_PATTERN}; `system` for the system user. */
  user_id: string;
  display_name?: string;
  /** Expiry in Unix seconds; may be fractional. */
  expires: number;
  /** Issued-at in Unix seconds. */
  iat?: number;
  /** Other claims are kept as they are. */
  [claim: string]: unknown;
}

/**
 * Signs `claims` as an HS256 JWT, serialising them in their own key order
 * (the official libraries write domain, user_id, display_name, expires, iat).
 *
 * @throws P4pInputError when the claims are not a plain object, the key is
 * empty, or the token would be longer than {@link MAX_TOKEN_LENGTH}.
 */
export function signToken(claims: Record<string, unknown>, key: string): string {
  if (claims === null || typeof claims !== 'object' || Array.isArray(claims)) {
    throw new P4pInputError('claims must be an object, e.g. { domain, user_id, display_name, expires, iat }');
  }
  assertKey(key);
  const signingInput = `${HS256_HEADER_B64}.${Buffer.from(JSON.stringify(claims), 'utf8').toString('base64url')}`;
  const token = `${signingInput}.${mac(signingInput, key).toString('base64url')}`;
  if (token.length > MAX_TOKEN_LENGTH) {
    throw new P4pInputError(`token would be ${token.length} characters; at most ${MAX_TOKEN_LENGTH} are accepted by p4p`);
  }
  return token;
}

/**
 * A token for one user, as the official `buildUserAuthToken`: `expires` is now
 * plus `expiresInSeconds`, `iat` is now in whole seconds.
 *
 * @param expiresInSeconds lifetime, a whole number of seconds above 0.
 * @param nowMs current time in Unix milliseconds; default `Date.now()`.
 * @throws P4pInputError naming the argument to fix.
 */
export function buildUserAuthToken(
  network: string,
  key: string,
  userId: string,
  displayName: string,
  expiresInSeconds: number,
  nowMs: number = Date.now(),
): string {
  assertNetworkName(network);
  assertUserId(userId);
  assertDisplayName(displayName);
  if (typeof expiresInSeconds !== 'number' || !Number.isSafeInteger(expiresInSeconds) || expiresInSeconds <= 0) {
    throw new P4pInputError(
      `expiresInSeconds must be a whole number of seconds above 0, got ${describe(expiresInSeconds)}`,
    );
  }
  if (typeof nowMs !== 'number' || !Number.isFinite(nowMs)) {
    throw new P4pInputError(`nowMs must be a finite Unix time in milliseconds, got ${describe(nowMs)}`);
  }
  const nowSeconds = nowMs / 1000;
  return signToken(
    {
      domain: network,
      user_id: userId,
      display_name: displayName,
      expires: nowSeconds + expiresInSeconds,
      iat: Math.floor(nowSeconds),
    },
    key,
  );
}

/**
 * A system token (user_id and display_name `system`), as the official
 * `buildLivefyreToken`; valid for a day unless `expiresInSeconds` says otherwise.
 */
export function buildSystemToken(
  network: string,
  key: string,
  expiresInSeconds: number = DEFAULT_SYSTEM_TOKEN_SECONDS,
  nowMs: number = Date.now(),
): string {
  return buildUserAuthToken(network, key, SYSTEM_USER_ID, SYSTEM_USER_ID, expiresInSeconds, nowMs);
}

/**
 * The claims of `token` when it is a well-formed HS256 token signed with
 * `key` and not expired (60 s of clock skew allowed), else `undefined`.
 * It does not check `domain` or `user_id`; callers compare those. Never throws.
 *
 * @param nowMs current time in Unix milliseconds; default `Date.now()`.
 */
export function readValidToken(token: unknown, key: string, nowMs: number = Date.now()): TokenClaims | undefined {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) return undefined;
  if (typeof key !== 'string' || key.length === 0) return undefined;
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  if (!isHs256Header(headerPart)) return undefined;

  const signature = decodeBase64url(signaturePart);
  if (signature?.length !== HS256_SIGNATURE_BYTES || signature.toString('base64url') !== signaturePart) {
    return undefined;
  }
  if (!timingSafeEqual(mac(`${headerPart}.${payloadPart}`, key), signature)) return undefined;

  const claims = decodeJson(payloadPart);
  if (!isTokenClaims(claims)) return undefined;
  // Written so that NaN anywhere (a bad nowMs) means "expired", never "valid".
  const oldestAcceptedSeconds = nowMs / 1000 - CLOCK_SKEW_SECONDS;
  if (!(claims.expires > oldestAcceptedSeconds)) return undefined;
  if (claims['exp'] !== undefined && !((claims['exp'] as number) > oldestAcceptedSeconds)) return undefined;
  return claims;
}

/** True when `token` is a well-formed, unexpired HS256 token signed with `key` (see {@link readValidToken}). Never throws. */
export function validateToken(token: unknown, key: string, nowMs?: number): boolean {
  return readValidToken(token, key, nowMs) !== undefined;
}

/** @throws P4pInputError unless `userId` matches {@link USER_ID_PATTERN}. */
export function assertUserId(userId: unknown): asserts userId is string {
  if (typeof userId !== 'string' || !USER_ID_PATTERN.test(userId)) {
    const got = typeof userId === 'string' ? quoteText(userId, 80) : describe(userId);
    throw new P4pInputError(`${USER_ID_RULE}; got ${got}`);
  }
}

function assertDisplayName(displayName: unknown): void {
  if (typeof displayName !== 'string') {
    throw new P4pInputError(`displayName must be a string, got ${describe(displayName)}`);
  }
  const length = [...displayName].length;
  if (length > MAX_DISPLAY_NAME_LENGTH) {
    throw new P4pInputError(
      `displayName is ${length} characters; at most ${MAX_DISPLAY_NAME_LENGTH} are allowed (spec section 2)`,
    );
  }
  // The rule p4p applies to a pulled display_name: apps show this one in its place.
  const control = controlCharacterIn(displayName);
  if (control !== null) {
    throw new P4pInputError(`displayName must be text on one line, without control characters or unpaired surrogates; got ${control}`);
  }
}

/** @throws P4pInputError unless `network` is a domain-like network name, as p4p requires. */
export function assertNetworkName(network: unknown): asserts network is string {
  if (typeof network !== 'string') {
    throw new P4pInputError(`network name must be a string such as 'labs.fyre.co', got ${describe(network)}`);
  }
  const problem = networkNameProblem(network);
  if (problem !== null) throw new P4pInputError(problem);
}

/** @throws P4pInputError unless `key` is a network key p4p accepts (never shown in the message). */
export function assertKey(key: unknown): asserts key is string {
  if (typeof key !== 'string') throw new P4pInputError('key must be the network key as a string');
  const problem = networkKeyProblem(key);
  if (problem !== null) throw new P4pInputError(problem);
}

function isHs256Header(headerPart: string): boolean {
  if (headerPart === HS256_HEADER_B64) return true;
  const header = decodeJson(headerPart);
  if (header === null || typeof header !== 'object' || Array.isArray(header)) return false;
  const { alg, typ, crit } = header as Record<string, unknown>;
  return alg === 'HS256' && (typ === undefined || (typeof typ === 'string' && typ.toUpperCase() === 'JWT')) && crit === undefined;
}

function isTokenClaims(value: unknown): value is TokenClaims {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const { domain, user_id: userId, display_name: displayName, expires, iat, exp } = value as Record<string, unknown>;
  return (
    typeof domain === 'string' &&
    domain.length > 0 &&
    typeof userId === 'string' &&
    USER_ID_PATTERN.test(userId) &&
    (displayName === undefined || typeof displayName === 'string') &&
    isUnixSeconds(expires) &&
    // Optional, but when present a finite number, as the p4p server requires.
    (iat === undefined || isUnixSeconds(iat)) &&
    (exp === undefined || isUnixSeconds(exp))
  );
}

function isUnixSeconds(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function mac(signingInput: string, key: string): Buffer {
  return createHmac('sha256', Buffer.from(key, 'utf8')).update(signingInput).digest();
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;

function decodeBase64url(part: string): Buffer | undefined {
  // A length of 1 mod 4 is not base64 at all; Buffer would silently drop the last character.
  return BASE64URL.test(part) && part.length % 4 !== 1 ? Buffer.from(part, 'base64url') : undefined;
}

function decodeJson(part: string): unknown {
  const bytes = decodeBase64url(part);
  if (bytes === undefined) return undefined;
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

function describe(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return quoteText(value, 80);
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
}
