import { createLogger } from '../../src/log/create-logger.js';
import { generateNetworkKey } from '../../src/networks/network-input.js';
import { startServer, type P4pServer } from '../../src/server/p4p-server.js';
import { DEFAULT_SERVE_CONFIG, type PullConfig, type ServeConfig } from '../../src/server/serve-config.js';
import { buildSystemToken } from '../../src/tokens/sign-token.js';
import { makeTempDir } from './temp-dir.js';

export interface TestNetwork {
  name: string;
  key: string;
  /** A fresh system token for this network. */
  token(): string;
}

export interface Harness {
  server: P4pServer;
  url: string;
  dataDir: string;
  createNetwork(options?: { name?: string; pullUrl?: string; owners?: string[] }): Promise<TestNetwork>;
  /** fetch against p4p, with a path. */
  request(path: string, init?: RequestInit): Promise<Response>;
  /** Stops p4p (keeps the data directory). */
  stop(): Promise<void>;
  /** Stops p4p and removes the data directory. */
  close(): Promise<void>;
}

let networkCounter = 0;

/** Settings a test may change; `pull` is merged into the defaults. */
export type HarnessOverrides = Partial<Omit<ServeConfig, 'pull'>> & { pull?: Partial<PullConfig> };

/** Test settings: any port, silent logs, loopback pull endpoints allowed, fast retries. */
export function testConfig(dataDir: string, overrides: HarnessOverrides = {}): ServeConfig {
  return {
    ...DEFAULT_SERVE_CONFIG,
    port: 0,
    dataDir,
    logLevel: 'silent' as ServeConfig['logLevel'],
    allowPrivateTargets: true,
    retry: { baseDelayMs: 20, maxDelayMs: 200, maxAttempts: 3 },
    ...overrides,
    pull: { ...DEFAULT_SERVE_CONFIG.pull, ...overrides.pull },
  };
}

/** A real `p4p serve` in this process: real SQLite file in a temp dir, real HTTP on loopback. */
export async function startHarness(overrides: HarnessOverrides = {}): Promise<Harness> {
  const temp = overrides.dataDir === undefined ? makeTempDir() : null;
  const dataDir = overrides.dataDir ?? temp!.path;
  const config = testConfig(dataDir, overrides);
  const server = await startServer(config, createLogger(config.logLevel));
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await server.stop();
  };
  return {
    server,
    url: server.url,
    dataDir,
    async createNetwork(options = {}) {
      const name = options.name ?? `n${++networkCounter}-${process.pid}.fyre.co`;
      const key = generateNetworkKey();
      const network = await server.store.createNetwork({ name, key, owners: options.owners ?? [] }, Date.now());
      if (options.pullUrl !== undefined) await server.store.setPullUrlTemplate(network.id, options.pullUrl, Date.now());
      return { name, key, token: () => buildSystemToken(name, key, 600) };
    },
    request: (path, init) => fetch(new URL(path, server.url), init),
    stop,
    async close() {
      await stop();
      temp?.remove();
    },
  };
}

/** POST a ping the way the official libraries do (form-encoded lftoken). */
export function ping(harness: Harness, network: TestNetwork, userId: string): Promise<Response> {
  return harness.request(`/api/v3_0/user/${encodeURIComponent(userId)}/refresh`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ lftoken: network.token() }),
  });
}

/** GET a read-API path with a system token. */
export async function readJson(harness: Harness, network: TestNetwork, path: string): Promise<{ status: number; body: any }> {
  const response = await harness.request(path, { headers: { authorization: `Bearer ${network.token()}` } });
  return { status: response.status, body: await response.json() };
}
