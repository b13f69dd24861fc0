import { Buffer } from 'node:buffer';
import {
  BASE64URL_PART,
  CANONICAL_LAST_SIGNATURE_CHARS,
  HS256_HEADER_B64,
  HS256_HEADER_B64_ALG_FIRST,
  HS256_SIGNATURE_CHARS,
  JWT_SHAPE,
  MAX_TOKEN_LENGTH,
} from './jwt-format.js';
import { USER_ID_PATTERN, type TokenClaims } from './token-claims.js';
import { describeUntrusted, jsonType, tokenFailure, type TokenFailure } from './token-errors.js';

/** A token that is well formed; its signature, network and expiry are not checked yet. */
export interface ParsedToken {
  ok: true;
  claims: TokenClaims;
  /** `header.payload` exactly as received: the bytes the MAC covers. */
  signingInput: string;
  /** The MAC as received: 43 base64url characters, in the one canonical spelling of 32 bytes. */
  signature: string;
  /** The standard `exp` claim (Unix seconds) when the token has one; enforced as well as `expires`. */
  exp: number | undefined;
}

const PART_NAMES = ['header', 'payload', 'signature'] as const;

/**
 * Decodes and shape-checks a token WITHOUT verifying its signature, so that
 * the network can be found from `domain`. Nothing read here may be trusted
 * before {@link verifyToken} succeeds. Never throws.
 */
export function parseToken(token: unknown): ParsedToken | TokenFailure {
  if (typeof token !== 'string') {
    return invalid(`token must be a string, got ${jsonType(token)}`);
  }
  if (token.length === 0) return invalid('token is empty; send a JWT signed with the network key');
  if (token.length > MAX_TOKEN_LENGTH) {
    return invalid(`token is ${token.length} characters; at most ${MAX_TOKEN_LENGTH} are accepted`);
  }
  if (!JWT_SHAPE.test(token)) return invalid(describeBadShape(token));

  const headerEnd = token.indexOf('.');
  const payloadEnd = token.indexOf('.', headerEnd + 1);
  const headerPart = token.slice(0, headerEnd);
  if (headerPart !== HS256_HEADER_B64 && headerPart !== HS256_HEADER_B64_ALG_FIRST) {
    const headerProblem = checkHeader(headerPart);
    if (headerProblem !== undefined) return invalid(headerProblem);
  }

  const signaturePart = token.slice(payloadEnd + 1);
  const signatureProblem = checkSignaturePart(signaturePart);
  if (signatureProblem !== undefined) return invalid(signatureProblem);

  const payload = decodeJson(token.slice(headerEnd + 1, payloadEnd));
  if (payload === undefined) return invalid('token payload (part 2) is not base64url-encoded JSON');
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    return invalid(`token payload must be a JSON object, got ${jsonType(payload)}`);
  }
  return readClaims(payload as Record<string, unknown>, token.slice(0, payloadEnd), signaturePart);
}

function readClaims(
  payload: Record<string, unknown>,
  signingInput: string,
  signaturePart: string,
): ParsedToken | TokenFailure {
  const { domain, user_id: userId, display_name: displayName, expires, iat, exp } = payload;
  if (typeof domain !== 'string' || domain.length === 0) {
    return invalid(
      domain === undefined
        ? "token has no 'domain' claim; set it to the network name (e.g. 'labs.fyre.co')"
        : `token claim 'domain' must be the network name as a non-empty string, got ${describeUntrusted(domain)}`,
    );
  }
  if (typeof userId !== 'string') {
    return invalid(
      userId === undefined
        ? "token has no 'user_id' claim; set it to the user id ('system' for the network's system user)"
        : `token claim 'user_id' must be a string, got ${jsonType(userId)}`,
    );
  }
  if (!USER_ID_PATTERN.test(userId)) {
    return invalid("token claim 'user_id' must be 1 to 255 characters of A-Z a-z 0-9 _ . -");
  }
  if (displayName !== undefined && typeof displayName !== 'string') {
    return invalid(`token claim 'display_name' must be a string when present, got ${jsonType(displayName)}`);
  }
  if (expires === undefined) {
    return invalid(
      exp === undefined
        ? "token has no 'expires' claim; set it to the expiry time in Unix seconds"
        : "token has no 'expires' claim, only the standard 'exp', which is not read in its place; " +
            "set 'expires' to the expiry time in Unix seconds, as the Livefyre libraries do",
    );
  }
  const timeProblem = checkTime('expires', expires) ?? checkTime('iat', iat) ?? checkTime('exp', exp);
  if (timeProblem !== undefined) return invalid(timeProblem);

  // In the official libraries' order, so signing these claims again gives the same token.
  const claims: TokenClaims = {
    domain,
    user_id: userId,
    ...(displayName === undefined ? {} : { display_name: displayName }),
    expires: expires as number,
    ...(iat === undefined ? {} : { iat: iat as number }),
  };
  return {
    ok: true,
    claims,
    signingInput,
    signature: signaturePart,
    exp: exp as number | undefined,
  };
}

function checkTime(name: string, value: unknown): string | undefined {
  if (value === undefined || (typeof value === 'number' && Number.isFinite(value))) return undefined;
  return `token claim '${name}' must be a finite number of Unix seconds, got ${
    typeof value === 'number' ? String(value) : jsonType(value)
  }`;
}

function checkHeader(headerPart: string): string | undefined {
  const header = decodeJson(headerPart);
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    return 'token header (part 1) is not a base64url-encoded JSON object';
  }
  const { alg, typ, crit } = header as Record<string, unknown>;
  if (alg === undefined) return "token header has no 'alg'; only HS256 is accepted";
  if (alg !== 'HS256') {
    const caseHint = typeof alg === 'string' && alg.toUpperCase() === 'HS256' ? ' (the name is case-sensitive)' : '';
    return `token algorithm is ${describeUntrusted(alg)}; only HS256 is accepted${caseHint}`;
  }
  // RFC 7515 section 4.1.9: typ values compare case-insensitively.
  if (typ !== undefined && (typeof typ !== 'string' || typ.toUpperCase() !== 'JWT')) {
    return `token type (typ) is ${describeUntrusted(typ)}; only 'JWT' is accepted`;
  }
  // RFC 7515 section 4.1.11: a recipient must reject critical extensions it does not understand.
  if (crit !== undefined) return "token header lists critical extensions ('crit'); none are supported";
  return undefined;
}

function checkSignaturePart(signaturePart: string): string | undefined {
  if (signaturePart.length === 0) {
    return 'token is unsigned (empty signature); sign it with HS256 and the network key';
  }
  if (signaturePart.length !== HS256_SIGNATURE_CHARS) {
    return `token signature is ${signaturePart.length} base64url characters; an HS256 signature is ${HS256_SIGNATURE_CHARS} (32 bytes)`;
  }
  if (!CANONICAL_LAST_SIGNATURE_CHARS.includes(signaturePart.charAt(HS256_SIGNATURE_CHARS - 1))) {
    return 'token signature is not canonical base64url (its last character has padding bits set)';
  }
  return undefined;
}

/** Only reached for tokens that failed {@link JWT_SHAPE}, so it may be slow. */
function describeBadShape(token: string): string {
  const parts = token.split('.');
  if (parts.length !== 3) {
    return `token has ${parts.length} part${parts.length === 1 ? '' : 's'} separated by '.'; a JWT has exactly 3 (header.payload.signature)`;
  }
  for (const [index, part] of parts.entries()) {
    const name = PART_NAMES[index] ?? 'part';
    if (!BASE64URL_PART.test(part)) {
      return `token ${name} (part ${index + 1}) is not base64url: only A-Z a-z 0-9 - _ are allowed, without '=' padding or whitespace`;
    }
    if (part.length === 0 && index < 2) return `token ${name} (part ${index + 1}) is empty`;
  }
  return 'token is not a JWT (header.payload.signature)';
}

/** Where a part is decoded: any part of an accepted token fits, and reusing it spares a Buffer per token. */
const decoded = Buffer.allocUnsafeSlow(MAX_TOKEN_LENGTH);

/** `undefined` when the part is not base64url-encoded JSON. */
function decodeJson(part: string): unknown {
  // A length of 1 mod 4 is not base64 at all; Buffer would silently drop the last character.
  if (part.length % 4 === 1) return undefined;
  try {
    return JSON.parse(decoded.toString('utf8', 0, decoded.write(part, 'base64url'))) as unknown;
  } catch {
    return undefined;
  }
}

function invalid(message: string): TokenFailure {
  return tokenFailure('token_invalid', message);
}
