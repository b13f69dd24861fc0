import { Command, Option } from 'commander';
import type { Level } from 'pino';
import { createLogger } from '../log/create-logger.js';
import { startServer } from '../server/p4p-server.js';
import { DataDirError } from '../store/sqlite/sqlite-store.js';
import { checkServeConfig, DEFAULT_DATABASE_LIMITS, DEFAULT_SERVE_CONFIG as D, SERVE_ROLES, type ServeConfig, type ServeRole } from '../server/serve-config.js';
import { StoreUnavailableError } from '../store/store.js';
import { CliError } from './cli-error.js';
import { DATA_DIR_HINT, dataOption, databaseOption, integerIn, listenAddress, oneOf, safeDatabaseUrl } from './options.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;

/** An integer option with its environment variable (P4P_ + the flag in capitals) and range. */
function intOption(flag: string, description: string, fallback: number, min: number, max: number): Option {
  const env = `P4P_${flag.toUpperCase().replaceAll('-', '_')}`;
  return new Option(`--${flag} <n>`, description).env(env).argParser(integerIn(min, max)).default(fallback);
}

interface ServeOptions {
  port: number; host: string; data: string; database?: string; role: ServeRole; databasePoolMax: number;
  databaseStatementTimeoutMs: number; allowPrivateTargets?: boolean; durability: ServeConfig['durability']; pullLeaseMarginMs: number; coalesceMs: number;
  logLevel: Level; pullConcurrency: number; pullPerNetwork: number; pullConnectTimeoutMs: number; pullTimeoutMs: number;
  pullMaxBytes: number; retryBaseMs: number; retryMaxMs: number; retryMaxAttempts: number; pingRate: number; pingBurst: number;
}

function configFrom(options: ServeOptions): ServeConfig {
  return {
    host: options.host,
    port: options.port,
    dataDir: options.data,
    database:
      options.database === undefined
        ? null
        : { url: options.database, poolMax: options.databasePoolMax, statementTimeoutMs: options.databaseStatementTimeoutMs },
    role: options.role,
    durability: options.durability,
    allowPrivateTargets: options.allowPrivateTargets === true || booleanEnv('P4P_ALLOW_PRIVATE_TARGETS'),
    logLevel: options.logLevel,
    pull: {
      concurrency: options.pullConcurrency,
      perNetworkConcurrency: options.pullPerNetwork,
      connectTimeoutMs: options.pullConnectTimeoutMs,
      totalTimeoutMs: options.pullTimeoutMs,
      maxBodyBytes: options.pullMaxBytes,
      tokenTtlSeconds: D.pull.tokenTtlSeconds,
      leaseMarginMs: options.pullLeaseMarginMs,
      coalesceMs: options.coalesceMs,
    },
    retry: { baseDelayMs: options.retryBaseMs, maxDelayMs: options.retryMaxMs, maxAttempts: options.retryMaxAttempts },
    pingRateLimit: { perSecond: options.pingRate, burst: options.pingBurst },
  };
}

/**
 * A boolean environment variable, strictly: commander would take any value,
 * even "false", as on, and this one turns a security guard off.
 */
function booleanEnv(name: string): boolean {
  const value = process.env[name];
  if (value === undefined || /^(0|false|no|off|)$/i.test(value)) return false;
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  throw new CliError(`${name}=${JSON.stringify(value)} is not a boolean; use true or false`);
}

/** Resolves on the first SIGTERM or SIGINT. */
function stopSignal(): Promise<string> {
  return new Promise((resolve) => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => resolve(signal));
  });
}

export function serveCommand(): Command {
  return new Command('serve')
    .description('run the HTTP API and the pull workers on the SQLite store in --data, or on the PostgreSQL --database')
    .addOption(new Option('--port <n>', 'port to listen on (0: any free port)').env('P4P_PORT').argParser(integerIn(0, 65535)).default(D.port))
    .addOption(new Option('--host <address>', 'address to listen on').env('P4P_HOST').argParser(listenAddress).default(D.host))
    .addOption(dataOption())
    .addOption(databaseOption())
    .addOption(new Option('--role <role>', 'all: API and pulls; api: accept pings and serve the API only; worker: pull only (api and worker need --database)').env('P4P_ROLE').argParser(oneOf(SERVE_ROLES)).default(D.role))
    .addOption(intOption('database-pool-max', 'most PostgreSQL connections this process opens', DEFAULT_DATABASE_LIMITS.poolMax, 2, 1000))
    .addOption(intOption('database-statement-timeout-ms', 'longest a PostgreSQL statement, or the wait for a connection, may take', DEFAULT_DATABASE_LIMITS.statementTimeoutMs, 100, 600_000))
    .addOption(new Option('--allow-private-targets', 'allow pull URLs on loopback, private and link-local addresses (env: P4P_ALLOW_PRIVATE_TARGETS=true|false)'))
    .addOption(new Option('--durability <level>', 'power: every ping survives power loss; process: survives a p4p crash only').env('P4P_DURABILITY').argParser(oneOf(['power', 'process'] as const)).default(D.durability))
    .addOption(new Option('--log-level <level>', 'log level').env('P4P_LOG_LEVEL').argParser(oneOf(LOG_LEVELS)).default(D.logLevel))
    .addOption(intOption('pull-concurrency', 'pull requests out at once from this process', D.pull.concurrency, 1, 4096))
    .addOption(intOption('pull-per-network', 'pulls in flight per network (with --database: across all processes)', D.pull.perNetworkConcurrency, 1, 4096))
    .addOption(intOption('pull-connect-timeout-ms', 'connect timeout of a pull', D.pull.connectTimeoutMs, 100, 60_000))
    .addOption(intOption('pull-timeout-ms', 'total timeout of a pull', D.pull.totalTimeoutMs, 100, 120_000))
    .addOption(intOption('pull-lease-margin-ms', 'how long a lease outlives the pull timeout: how soon the pulls of a dead process are taken over', D.pull.leaseMarginMs, 1000, 600_000))
    .addOption(intOption('coalesce-ms', 'how long a pinged user waits before its pull, so that a burst of pings costs one pull (0: at once)', D.pull.coalesceMs, 0, 1000))
    .addOption(intOption('pull-max-bytes', 'largest pull answer accepted', D.pull.maxBodyBytes, 1024, 16 * 1024 * 1024))
    .addOption(intOption('retry-base-ms', 'delay before the first retry; doubles each time', D.retry.baseDelayMs, 10, 3_600_000))
    .addOption(intOption('retry-max-ms', 'longest delay between retries', D.retry.maxDelayMs, 10, 86_400_000))
    .addOption(intOption('retry-max-attempts', 'attempts before a user is marked failed', D.retry.maxAttempts, 1, 100))
    .addOption(intOption('ping-rate', 'pings per second per network (0: no limit)', D.pingRateLimit.perSecond, 0, 10_000_000))
    .addOption(intOption('ping-burst', 'pings a network may send at once above the rate', D.pingRateLimit.burst, 1, 100_000_000))
    .action(async (options: ServeOptions) => {
      let config: ServeConfig;
      try {
        config = checkServeConfig(configFrom(options));
      } catch (error) {
        throw new CliError((error as Error).message);
      }
      const log = createLogger(config.logLevel);
      let server;
      try {
        server = await startServer(config, log);
      } catch (error) {
        const hint =
          error instanceof DataDirError
            ? `; ${DATA_DIR_HINT}`
            : error instanceof StoreUnavailableError && config.database !== null
              ? `; is PostgreSQL at ${safeDatabaseUrl(config.database.url)} running? (--database, P4P_DATABASE_URL)`
              : '';
        throw new CliError(`cannot start: ${(error as Error).message}${hint}`, { cause: error });
      }
      const store = config.database === null ? { data: config.dataDir } : { database: safeDatabaseUrl(config.database.url) };
      log.info({ event: 'listening', url: server.url, role: config.role, ...store }, `p4p listening on ${server.url}`);
      const signal = await stopSignal();
      log.info({ event: 'stopping', signal }, 'draining');
      await server.stop();
      log.info({ event: 'stopped' }, 'stopped');
      log.flush();
    });
}
