/**
 * The claims of a Livefyre-compatible token (spec section 2), as the official
 * Livefyre libraries write them.
 */

/** Allowed `user_id`: 1 to 255 of A-Z a-z 0-9 `_` `.` `-`. */
export const USER_ID_PATTERN = /^[A-Za-z0-9_.-]{1,255}$/;

/** {@link USER_ID_PATTERN} in words, for error messages. */
export const USER_ID_RULE = 'user id must be 1–255 characters of A-Z a-z 0-9 _ . -';

/** Null when `userId` is valid, else a message naming it and the rule. */
export function userIdProblem(userId: string): string | null {
  return USER_ID_PATTERN.test(userId) ? null : `${USER_ID_RULE}; got ${JSON.stringify(userId.slice(0, 80))}`;
}

/** `user_id` of a network's system user; a token for it is a system token. */
export const SYSTEM_USER_ID = 'system';

/** Longest `display_name` that {@link signToken} writes, in Unicode code points. */
export const MAX_DISPLAY_NAME_LENGTH = 50;

export interface TokenClaims {
  /** The network name, e.g. `labs.fyre.co`; must equal the verifying network's name exactly. */
  domain: string;
  /** Matches {@link USER_ID_PATTERN}; `system` for the network's system user. */
  user_id: string;
  /** Shown in apps. Informational only: p4p never reads a profile from it. */
  display_name?: string;
  /** Expiry in Unix seconds; may be fractional (the official libraries send now + N with milliseconds). */
  expires: number;
  /** Issued-at in Unix seconds, when present. */
  iat?: number;
}
