import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApp } from '../http/build-app.js';
import { PingRateLimiter } from '../http/ping-rate-limiter.js';
import { PullClient } from '../pull/pull-client.js';
import { DataDirError, SqliteStore } from '../store/sqlite/sqlite-store.js';
import { ProfileChanges } from '../sync/profile-changes.js';
import { PullWorker } from '../sync/pull-worker.js';
import { P4P_VERSION } from '../version.js';
import { DataDirLockedError, lockDataDir } from './data-dir-lock.js';
import { leaseMsFor, type ServeConfig } from './serve-config.js';

export interface P4pServer {
  /** Base URL, e.g. http://127.0.0.1:8080. */
  url: string;
  store: SqliteStore;
  changes: ProfileChanges;
  /** Graceful stop: no new requests, pulls in flight finish (or are released), everything closed. */
  stop(): Promise<void>;
}

/** The data directory, locked, with its store open. */
interface OpenDataDir {
  store: SqliteStore;
  close(): Promise<void>;
}

/** Locks the data directory and opens its store, requeueing the pulls the last run left in flight. */
async function openDataDir(config: ServeConfig, log: Logger): Promise<OpenDataDir> {
  let unlock: () => void;
  try {
    unlock = lockDataDir(config.dataDir);
  } catch (error) {
    throw error instanceof DataDirLockedError ? error : new DataDirError(config.dataDir, error);
  }
  let store: SqliteStore | undefined;
  try {
    // A short busy wait: every write blocks the event loop while it waits for another process's lock.
    store = SqliteStore.open({ dataDir: config.dataDir, durability: config.durability, busyTimeoutMs: 1000 });
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
 * `p4p serve` as a function: the HTTP API and the pull worker in one process
 * over one SQLite store. Resolves once it is listening (ready for /healthz).
 */
export async function startServer(config: ServeConfig, log: Logger): Promise<P4pServer> {
  const dataDir = await openDataDir(config, log);
  const { store } = dataDir;
  const changes = new ProfileChanges();
  const client = pullClientFor(config);
  const worker = new PullWorker({
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
    app = await buildApp(
      {
        store,
        now: Date.now,
        allowPrivateTargets: config.allowPrivateTargets,
        rateLimiter: new PingRateLimiter(config.pingRateLimit),
        onPings: () => worker.notify(),
        onPullUrlChanged: (networkId) => worker.pullUrlChanged(networkId),
      },
      log,
    );
    await app.listen({ host: config.host, port: config.port });
  } catch (error) {
    await app?.close();
    await client.close();
    await dataDir.close();
    throw error;
  }
  worker.start();
  const { address, port, family } = app.server.address() as AddressInfo;
  const running = app;
  return {
    url: `http://${family === 'IPv6' ? `[${address}]` : address}:${port}`,
    store,
    changes,
    async stop() {
      await running.close();
      await worker.stop(config.pull.totalTimeoutMs);
      await client.close();
      await dataDir.close();
    },
  };
}
