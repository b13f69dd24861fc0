import type { Level } from 'pino';
import { DEFAULT_PING_RATE_LIMIT, type PingRateLimit } from '../http/ping-rate-limiter.js';
import { MAX_BULK_USER_IDS } from '../http/routes/ping-routes.js';
import type { SqliteDurability } from '../store/sqlite/sqlite-store.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../sync/retry-policy.js';

/** What a process does: accept pings and serve the API, pull, or both. */
export const SERVE_ROLES = ['all', 'api', 'worker'] as const;
export type ServeRole = (typeof SERVE_ROLES)[number];

/** The shared PostgreSQL database, when one is used instead of the SQLite data directory. */
export interface DatabaseConfig {
  /** postgres://… */
  url: string;
  /** Most connections this process opens. Default 10. */
  poolMax: number;
  /** Longest a statement (or the wait for a connection) may take, in ms. Default 5000. */
  statementTimeoutMs: number;
}

/** Defaults of the PostgreSQL pool limits. */
export const DEFAULT_DATABASE_LIMITS = { poolMax: 10, statementTimeoutMs: 5000 } as const;

/** Everything `p4p serve` can be told, validated once at start. */
export interface ServeConfig {
  host: string;
  port: number;
  /** Directory of the SQLite database; unused when `database` is set. */
  dataDir: string;
  /** PostgreSQL instead of SQLite; null: SQLite in `dataDir`. */
  database: DatabaseConfig | null;
  role: ServeRole;
  /** SQLite only: PostgreSQL commits every ping with synchronous_commit on. */
  durability: SqliteDurability;
  allowPrivateTargets: boolean;
  logLevel: Level;
  pull: PullConfig;
  retry: RetryPolicy;
  pingRateLimit: PingRateLimit;
}

export interface PullConfig {
  /** Pulls in flight in this process. Default 64. */
  concurrency: number;
  /** Pulls in flight per network. Default 16. */
  perNetworkConcurrency: number;
  /** Default 5000. */
  connectTimeoutMs: number;
  /** Whole pull, connect to last byte. Default 10000. */
  totalTimeoutMs: number;
  /** Default 262144 (256 KiB). */
  maxBodyBytes: number;
  /** Lifetime of the lftoken sent with a pull. Default 300 (the spec allows at most 3600). */
  tokenTtlSeconds: number;
  /**
   * A lease outlives the longest pull by this margin, in ms. Default 30000.
   * With several processes it is how long a dead process's pulls wait before
   * another process takes them over.
   */
  leaseMarginMs: number;
  /**
   * A pinged user not already queued is pulled this many ms later, so that a
   * burst of pings for one user costs one pull; 0 pulls at once. Default 25.
   */
  coalesceMs: number;
}

export const DEFAULT_SERVE_CONFIG: ServeConfig = {
  host: '127.0.0.1',
  port: 8080,
  dataDir: './data',
  database: null,
  role: 'all',
  durability: 'power',
  allowPrivateTargets: false,
  logLevel: 'info',
  pull: {
    concurrency: 64,
    perNetworkConcurrency: 16,
    connectTimeoutMs: 5000,
    totalTimeoutMs: 10_000,
    maxBodyBytes: 256 * 1024,
    tokenTtlSeconds: 300,
    leaseMarginMs: 30_000,
    // 0: a burst window costs every change its length in freshness and measured no fewer pulls (docs/benchmarks.md, row 8).
    coalesceMs: 0,
  },
  retry: DEFAULT_RETRY_POLICY,
  pingRateLimit: DEFAULT_PING_RATE_LIMIT,
};

export function leaseMsFor(pull: PullConfig): number {
  return pull.totalTimeoutMs + pull.leaseMarginMs;
}

/** Rules between settings; each single value is checked where it is parsed. Throws with what to fix. */
export function checkServeConfig(config: ServeConfig): ServeConfig {
  const problems: string[] = [];
  if (config.pull.connectTimeoutMs > config.pull.totalTimeoutMs) {
    problems.push('--pull-connect-timeout-ms must not exceed --pull-timeout-ms');
  }
  // With a shared database the per-network limit counts every process's pulls, so it may exceed one process's concurrency.
  if (config.database === null && config.pull.perNetworkConcurrency > config.pull.concurrency) {
    problems.push('--pull-per-network must not exceed --pull-concurrency');
  }
  if (config.retry.baseDelayMs > config.retry.maxDelayMs) problems.push('--retry-base-ms must not exceed --retry-max-ms');
  if (config.pingRateLimit.perSecond > 0 && config.pingRateLimit.burst < MAX_BULK_USER_IDS) {
    problems.push(`--ping-burst must be at least ${MAX_BULK_USER_IDS}, the size of a full bulk ping`);
  }
  if (config.role !== 'all' && config.database === null) {
    problems.push(`--role ${config.role} needs a shared database (--database postgres://…): with SQLite one process does everything`);
  }
  if (problems.length > 0) throw new Error(problems.join('; '));
  return config;
}
