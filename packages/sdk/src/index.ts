export { P4pApiError, P4pInputError, P4pNetworkError } from './errors.js';
export {
  CLOCK_SKEW_SECONDS,
  DEFAULT_SYSTEM_TOKEN_SECONDS,
  MAX_DISPLAY_NAME_LENGTH,
  MAX_TOKEN_LENGTH,
  SYSTEM_USER_ID,
  USER_ID_PATTERN,
  USER_ID_RULE,
  buildSystemToken,
  buildUserAuthToken,
  readValidToken,
  signToken,
  validateToken,
  type TokenClaims,
} from './tokens.js';
