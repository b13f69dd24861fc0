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
export {
  DISPLAY_RULE_FIELDS,
  NAME_PARTS,
  NOTIFICATION_FREQUENCIES,
  NOTIFICATION_KINDS,
  PROFILE_FIELDS,
  type BooleanInput,
  type DisplayRuleField,
  type NamePart,
  type NotificationFrequency,
  type NotificationKind,
  type Profile,
  type ProfileInput,
} from './profile/profile.js';
export {
  DISPLAY_NAME_MAX_CHARS,
  DISPLAY_NAME_MIN_CHARS,
  MAX_EMAIL_CHARS,
  MAX_TAGS,
  MAX_URL_CHARS,
  MAX_WEBSITES,
} from './profile/field-rules.js';
export { MAX_BAD_ELEMENTS, MAX_WARNINGS, validateProfile, type ProfileCheck } from './profile/validate-profile.js';
export * from './doctor/index.js';
export {
  baseUrlFrom,
  MAX_BULK_USER_IDS,
  Network,
  REQUEST_TOKEN_SECONDS,
  type CallOptions,
  type NetworkOptions,
  type RegistrationResult,
} from './client/network.js';
export { DEFAULT_RETRY_POLICY, MIN_ATTEMPT_MS, type RetryPolicy } from './client/retry-policy.js';
export { parseRetryAfter } from './retry-after.js';
export { escapeHidden, quoteText } from './quote-text.js';
export { MAX_KEY_LENGTH, networkKeyProblem, networkNameProblem } from './network-rules.js';
export {
  createPullHandler,
  type PullHandler,
  type PullHandlerOptions,
  type TokenValidator,
} from './pull/create-pull-handler.js';
export {
  createFastifyPullHandler,
  type FastifyLikeReply,
  type FastifyLikeRequest,
} from './pull/fastify-pull-handler.js';
export { redactUrl } from './redact-url.js';
export { checkTemplateShape, MAX_TEMPLATE_LENGTH, type TemplateShape } from './pull-template.js';
export { buildPullUrl, fillPullTemplate, USER_ID_PLACEHOLDER } from './pull-url.js';
export { contentCoding, pullRequestHeaders } from './pull-headers.js';
