/**
 * The claims of a Livefyre-compatible token (spec section 2), as the official
 * Livefyre libraries write them. The rules are p4p-sdk's, so a customer's
 * tokens and p4p's checks cannot drift apart.
 */
import { quoteText, USER_ID_PATTERN, USER_ID_RULE } from 'p4p-sdk';

export { MAX_DISPLAY_NAME_LENGTH, SYSTEM_USER_ID, USER_ID_PATTERN, USER_ID_RULE, type TokenClaims } from 'p4p-sdk';

/** Null when `userId` is valid, else a message naming it and the rule. */
export function userIdProblem(userId: string): string | null {
  return USER_ID_PATTERN.test(userId) ? null : `${USER_ID_RULE}; got ${quoteText(userId, 80)}`;
}
