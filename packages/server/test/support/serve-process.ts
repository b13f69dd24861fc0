import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { buildSystemToken } from '../../src/tokens/sign-token.js';
import { cleanEnv, P4P_BIN } from './run-cli.js';
import { waitFor } from './wait-for.js';

export interface ServeExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** What `GET /api/v3.0/user/{id}/profile` answers (the fields the tests read). */
export interface StoredUser {
  profile: { id: string; display_name: string } | null;
  version: number;
  sync: { state: string; last_outcome: string | null; attempts: number };
}

/** Every serve started and not yet exited, so that killAll() can end them whatever a test did. */
const running = new Set<ServeProcess>();

/**
 * A `p4p serve --port 0` child process (the compiled CLI, see run-cli.ts);
 * `url` comes from its "listening" log line. A test file that starts one
 * calls `after(() => ServeProcess.killAll())`, so a failing test cannot
 * leave one running.
 */
export class ServeProcess {
  readonly exited: Promise<ServeExit>;
  url: string | null = null;
  stdout = '';
  stderr = '';
  exitedWith: ServeExit | null = null;

  private constructor(private readonly child: ChildProcess) {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout += chunk;
      this.url ??= (this.logged('listening')?.url as string | undefined) ?? null;
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitedWith = { code, signal };
        running.delete(this);
        resolve(this.exitedWith);
      });
    });
  }

  /** Starts `p4p serve --port 0 …args` (with P4P_* variables from `env` only) and resolves once it listens; rejects if it exits first. */
  static async start(args: string[], env: Record<string, string> = {}): Promise<ServeProcess> {
    const child = spawn(process.execPath, [P4P_BIN, 'serve', '--port', '0', ...args], { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    const serve = new ServeProcess(child);
    running.add(serve);
    await waitFor(() => serve.url ?? (serve.exitedWith !== null && 'exited'), { timeoutMs: 20_000, what: 'p4p serve to listen' });
    if (serve.url === null) throw new Error(`p4p serve exited before listening: ${JSON.stringify(serve.exitedWith)}\n${serve.stderr}`);
    return serve;
  }

  /** SIGKILLs every serve still running and waits for their exits. */
  static async killAll(): Promise<void> {
    await Promise.all([...running].map((serve) => serve.kill()));
  }

  /** The first complete JSON log line with this `event`. */
  logged(event: string): Record<string, unknown> | undefined {
    for (const line of this.stdout.split('\n')) {
      if (!line.includes(`"${event}"`)) continue;
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        if (entry.event === event) return entry;
      } catch {
        // a partial line: the rest is still on its way
      }
    }
    return undefined;
  }

  /** Sends `signal` unless the process has exited already. */
  signal(signal: NodeJS.Signals): void {
    if (this.exitedWith === null) this.child.kill(signal);
  }

  /** SIGKILLs it and waits for the exit. */
  async kill(): Promise<void> {
    this.signal('SIGKILL');
    await this.exited;
  }

  /** fetch against this serve, with a path. */
  request(path: string, init?: RequestInit): Promise<Response> {
    return fetch(new URL(path, this.url!), init);
  }

  /** Registers `template` as the network's pull URL the way setUserSyncUrl does: form-encoded POST /, 204. */
  async registerPullUrl(network: string, key: string, template: string): Promise<void> {
    const response = await this.request('/', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ actor_token: buildSystemToken(network, key, 600), pull_profile_url: template }),
    });
    assert.equal(response.status, 204, await response.text());
  }

  /** The user as the read API shows it to `token`, or null when it answers anything but 200. */
  async readProfile(token: string, userId: string): Promise<StoredUser | null> {
    const response = await this.request(`/api/v3.0/user/${userId}/profile`, { headers: { authorization: `Bearer ${token}` } });
    const body = (await response.json()) as StoredUser;
    return response.status === 200 ? body : null;
  }
}
