/** The fixed parts of the JWT compact serialisation that p4p reads. */

/** Longest token accepted, in characters (p4p-sdk writes none longer). Real tokens are about 250. */
export { MAX_TOKEN_LENGTH } from 'p4p-sdk';

/** The header the official Livefyre libraries and p4p-sdk write (jsonwebtoken's key order). */
export const HS256_HEADER_JSON = '{"typ":"JWT","alg":"HS256"}';
/** base64url of {@link HS256_HEADER_JSON}. */
export const HS256_HEADER_B64 = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9';
/** base64url of `{"alg":"HS256","typ":"JWT"}`, the other common spelling, also on the fast path. */
export const HS256_HEADER_B64_ALG_FIRST = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9';

/** An HMAC-SHA256 MAC is 32 bytes: 43 base64url characters without padding. */
export const HS256_SIGNATURE_CHARS = 43;

/** Three base64url parts without padding; the signature may be empty here so that an unsigned token gets a precise message. */
export const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

export const BASE64URL_PART = /^[A-Za-z0-9_-]*$/;

/**
 * The 43rd character of a 32-byte MAC carries 4 bits and 2 zero padding bits.
 * Accepting only these keeps one MAC to one spelling, so a token string stays
 * a stable identity (for logs and replay checks).
 */
export const CANONICAL_LAST_SIGNATURE_CHARS = 'AEIMQUYcgkosw048';
