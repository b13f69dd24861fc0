import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApp } from '../http/build-app.js';
import { PingRateLimiter } from '../http/ping-rate-limiter.js';
import { PullClient } from '../pull/pull-client.js';
import { PostgresStore } from '../store/postgres/postgres-store.js';
import { WorkListener } from '../store/postgres/work-listener.js';
import { DataDirError, SqliteStore } from '../store/sqlite/sqlite-store.js';
import type { Store } from '../store/store.js';
import { ProfileChanges } from '../sync/profile-changes.js';
import { PullWorker } from '../sync/pull-worker.js';
import { P4P_VERSION } from '../version.js';
import { DataDirLockedError, lockDataDir } from './data-dir-lock.js';
import { leaseMsFor, type DatabaseConfig, type ServeConfig } from './serve-config.js';

export interface P4pServer {
  /** Base URL, e.g. http://127.0.0.1:8080. */
  url: string;
  store: Store;
  changes: ProfileChanges;
  /** Graceful stop: no new requests, pulls in flight finish (or are released), everything closed. */
  stop(): Promise<void>;
}

/** The store this process uses, open, with what must happen when it stops. */
interface OpenStore {
  store: Store;
  close(): Promise<void>;
}

/**
 * Locks the data directory and opens its store, requeueing the pulls the
 * last run left in flight: this process is the only one using the file.
 */
async function openDataDir(config: ServeConfig, log: Logger): Promise<OpenStore> {
  let unlock: () => void;
  try {
    unlock = lockDataDir(config.dataDir);
  } catch (error) {
    throw error instanceof DataDirLockedError ? error : new DataDirError(config.dataDir, error);
  }
  let store: SqliteStore | undefined;
  try {
    // A short busy wait: the writer thread waits that long for another process's lock before a write fails as unavailable.
    store = SqliteStore.open({ dataDir: config.dataDir, durability: config.durability, busyTimeoutMs: 1000, coalesceMs: config.pull.coalesceMs });
    const released = await store.releaseLeases('all', Date.now());
    if (released > 0) log.info({ event: 'recovered', pulls: released }, 'requeued pulls left in flight by the last run');
  } catch (error) {
    await store?.close();
    unlock();
    throw error;
  }
  const opened = store;
  return {
    store: opened,
    async close() {
      await opened.close();
      unlock();
    },
  };
}

/**
 * Opens the shared database (applying pending migrations). Other processes
 * share it, so their leases are left alone: a dead process's leases are
 * requeued by claimDue once they expire.
 */
async function openDatabase(database: DatabaseConfig, coalesceMs: number): Promise<OpenStore> {
  const store = await PostgresStore.open({ url: database.url, poolMax: database.poolMax, statementTimeoutMs: database.statementTimeoutMs, coalesceMs });
  return { store, close: () => store.close() };
}

/** A worker-only process answers /healthz alone, so that orchestrators can watch it like the others. */
async function buildHealthApp(): Promise<FastifyInstance> {
  const app = Fastify();
  app.get('/healthz', async () => ({ status: 'ok' }));
  return app;
}

function pullClientFor(config: ServeConfig): PullClient {
  return new PullClient({
    userAgent: `p4p/${P4P_VERSION}`,
    connectTimeoutMs: config.pull.connectTimeoutMs,
    totalTimeoutMs: config.pull.totalTimeoutMs,
    maxBodyBytes: config.pull.maxBodyBytes,
    allowPrivateTargets: config.allowPrivateTargets,
    // Networks may share one identity host: its pool must not be smaller than the pulls that may target it.
    connectionsPerOrigin: config.pull.concurrency,
  });
}

/**
 * `p4p serve` as a function: the HTTP API and the pull worker (or one of
 * them, by role) over the SQLite data directory or the shared PostgreSQL
 * database. Resolves once it is listening (ready for /healthz).
 */
export async function startServer(config: ServeConfig, log: Logger): Promise<P4pServer> {
  const opened = config.database === null ? await openDataDir(config, log) : await openDatabase(config.database, config.pull.coalesceMs);
  const { store } = opened;
  const changes = new ProfileChanges();
  const client = pullClientFor(config);
  const worker =
    config.role === 'api'
      ? null
      : new PullWorker({
          store,
          client,
          log,
          changes,
          retryPolicy: config.retry,
          concurrency: config.pull.concurrency,
          perNetworkConcurrency: config.pull.perNetworkConcurrency,
          leaseMs: leaseMsFor(config.pull),
          tokenTtlSeconds: config.pull.tokenTtlSeconds,
        });
  let app: FastifyInstance | undefined;
  try {
    app =
      config.role === 'worker'
        ? await buildHealthApp()
        : await buildApp(
            {
              store,
              now: Date.now,
              allowPrivateTargets: config.allowPrivateTargets,
              rateLimiter: new PingRateLimiter(config.pingRateLimit),
              // Pings taken by other processes arrive through the database's notifications.
              onPings: () => worker?.notify(),
              onPullUrlChanged: (networkId) => worker?.pullUrlChanged(networkId),
            },
            log,
          );
    await app.listen({ host: config.host, port: config.port });
  } catch (error) {
    await app?.close();
    await client.close();
    await opened.close();
    throw error;
  }
  const listener =
    worker !== null && config.database !== null
      ? WorkListener.start(config.database.url, { onWork: () => worker.notify(), onPullUrlChanged: (id) => worker.pullUrlChanged(id) }, log)
      : null;
  worker?.start();
  const { address, port, family } = app.server.address() as AddressInfo;
  const running = app;
  return {
    url: `http://${family === 'IPv6' ? `[${address}]` : address}:${port}`,
    store,
    changes,
    async stop() {
      await running.close();
      await worker?.stop(config.pull.totalTimeoutMs);
      await listener?.close();
      await client.close();
      await opened.close();
    },
  };
}
