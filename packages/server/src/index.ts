/** The p4p server as a library: what `p4p serve` runs, for embedding and for tests. */
export { startServer, type P4pServer } from './server/p4p-server.js';
export { DEFAULT_SERVE_CONFIG, type ServeConfig, type PullConfig } from './server/serve-config.js';
export { buildApp } from './http/build-app.js';
export { API_ERRORS, type ApiErrorCode } from './http/api-errors.js';
export { SqliteStore } from './store/sqlite/sqlite-store.js';
export type { Store, Network, UserRecord, PullAttempt, ProfileVersion, SyncState } from './store/store.js';
export { PULL_OUTCOMES, type PullOutcome } from './pull/pull-outcome.js';
export type { Profile } from './profile/profile.js';
export { validateProfile } from './profile/validate-profile.js';
export { signToken, buildSystemToken } from './tokens/sign-token.js';
export { parseToken, verifyToken, isSystemUser } from './tokens/verify-token.js';
export { createLogger } from './log/create-logger.js';
