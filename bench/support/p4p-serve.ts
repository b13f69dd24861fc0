import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { request } from 'undici';
import { buildSystemToken } from '../../packages/server/src/tokens/sign-token.js';
import { BenchChild, freePort } from './child-process.js';

/** The `p4p` command line operators run: the compiled CLI (`npm run build` first). */
export const P4P_BIN = fileURLToPath(new URL('../../packages/server/bin/p4p.js', import.meta.url));

export const NETWORK_NAME = 'bench.example.com';

/** Where a serve keeps its data: `--data DIR` (SQLite) or `--database URL` (PostgreSQL). */
export interface StoreLocation {
  args: string[];
  describe: string;
  /** Removes what the run created. */
  dispose(): Promise<void>;
}

/** A fresh SQLite data directory under the system temp directory. */
export function sqliteLocation(): StoreLocation & { dataDir: string } {
  const dataDir = mkdtempSync(join(tmpdir(), 'p4p-bench-'));
  return {
    dataDir,
    args: ['--data', dataDir],
    describe: 'SQLite',
    dispose: async () => rmSync(dataDir, { recursive: true, force: true }),
  };
}

/** Bytes of every file in a directory (the SQLite database with its WAL). */
export function directoryBytes(dir: string): number {
  return readdirSync(dir).reduce((total, name) => total + statSync(join(dir, name)).size, 0);
}

export async function runP4p(args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, [P4P_BIN, ...args], { timeout: 60_000 });
  return stdout;
}

/** `p4p network create` through the CLI; returns the generated key. */
export async function createNetwork(store: StoreLocation, name = NETWORK_NAME): Promise<string> {
  const stdout = await runP4p(['network', 'create', name, '--json', ...store.args]);
  return (JSON.parse(stdout) as { key: string }).key;
}

export interface ServeOptions {
  durability?: 'power' | 'process';
  pullConcurrency?: number;
}

/** A running `p4p serve` child with one network. */
export class P4pServe {
  private constructor(
    readonly child: BenchChild,
    readonly url: string,
    readonly network: string,
    readonly key: string,
  ) {}

  /**
   * Starts `p4p serve` on loopback: no ping rate limit (the load is the point),
   * private pull targets allowed (the endpoint is on loopback), pull
   * concurrency shared by the one network, warnings-only logging.
   */
  static async start(store: StoreLocation, key: string, options: ServeOptions = {}): Promise<P4pServe> {
    const port = await freePort();
    const concurrency = String(options.pullConcurrency ?? PULL_CONCURRENCY);
    const child = BenchChild.start('p4p serve', cpuProfileArgs(), P4P_BIN, [
      'serve', ...store.args, '--host', '127.0.0.1', '--port', String(port),
      '--durability', options.durability ?? 'power', '--allow-private-targets', '--log-level', 'warn',
      '--ping-rate', '0', '--pull-concurrency', concurrency, '--pull-per-network', concurrency,
    ]);
    const url = `http://127.0.0.1:${port}`;
    await child.waitReady(`${url}/healthz`);
    return new P4pServe(child, url, NETWORK_NAME, key);
  }

  systemToken(ttlSeconds = 3600, nowMs = Date.now()): string {
    return buildSystemToken(this.network, this.key, ttlSeconds, nowMs);
  }

  /** Registers the pull URL template as the official libraries' setUserSyncUrl does (form-encoded POST /, 204). */
  async registerPullUrl(template: string): Promise<void> {
    const response = await request(`${this.url}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ actor_token: this.systemToken(), pull_profile_url: template }).toString(),
    });
    const text = await response.body.text();
    if (response.statusCode !== 204) throw new Error(`registering the pull URL answered ${response.statusCode}: ${text}`);
  }

  /** Bulk pings (up to 1,000 ids each) through the product's bulk route. */
  async bulkPing(userIds: readonly string[]): Promise<void> {
    const response = await request(`${this.url}/api/v3.0/users/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.systemToken()}` },
      body: JSON.stringify({ user_ids: userIds }),
    });
    const text = await response.body.text();
    if (response.statusCode !== 200) throw new Error(`bulk ping answered ${response.statusCode}: ${text}`);
  }

  /** When the user's profile was stored (Unix ms), or null while there is none. */
  async storedAt(userId: string, token: string): Promise<number | null> {
    const response = await request(`${this.url}/api/v3.0/user/${userId}/profile`, { headers: { authorization: `Bearer ${token}` } });
    const body = (await response.body.json()) as { profile: unknown; updated_at: string | null };
    if (response.statusCode !== 200 || body.profile === null || body.updated_at === null) return null;
    return Date.parse(body.updated_at);
  }

  stop(): Promise<void> {
    return this.child.stop();
  }
}

/** With BENCH_CPU_PROF=<dir>, every serve writes a V8 CPU profile there when it stops (see bench/top-functions.ts). */
function cpuProfileArgs(): string[] {
  const dir = process.env.BENCH_CPU_PROF;
  return dir === undefined || dir === '' ? [] : ['--cpu-prof', `--cpu-prof-dir=${dir}`];
}

/** Pulls in flight in p4p (`--pull-concurrency` and `--pull-per-network`), and the concurrency of the pull baselines. */
export const PULL_CONCURRENCY = 64;

/**
 * Creates the network in `store` through the CLI, starts `p4p serve` on it,
 * registers `pullUrlTemplate`, runs `work`, then stops the serve (the data
 * stays until `store.dispose()`).
 */
export async function withServe<T>(
  store: StoreLocation,
  pullUrlTemplate: string,
  options: ServeOptions,
  work: (serve: P4pServe) => Promise<T>,
): Promise<T> {
  const key = await createNetwork(store);
  const serve = await P4pServe.start(store, key, options);
  try {
    await serve.registerPullUrl(pullUrlTemplate);
    return await work(serve);
  } finally {
    await serve.stop();
  }
}
