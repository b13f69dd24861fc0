import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { buildSystemToken } from 'p4p-sdk';
import { waitFor } from '../../../../packages/server/test/support/wait-for.js';

/**
 * The identity demo as `npm start` runs it, for the tests: the compiled demo
 * (so `npm run build` first) in a child process, its banner, and p4p's read API.
 */

const DEMO_MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
export const DEMO_NETWORK = 'demo.fyre.co';
/** Generous: on a loaded machine p4p's start and the loop check take a while. */
const START_TIMEOUT_MS = 30_000;

export interface Banner {
  identityUrl: string;
  p4pUrl: string;
  key: string;
  pullUrl: string;
  loopCheck: string;
}

/** One `npm start` on free ports and `dataDir`: the demo's entry in a child process; its banner once printed. */
export class DemoProcess {
  static readonly running = new Set<DemoProcess>();
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;

  /** Kills every demo still running; for `after` hooks, so a failed test leaves nothing behind. */
  static killAll(): void {
    for (const demo of DemoProcess.running) demo.kill();
  }

  constructor(dataDir: string) {
    this.child = spawn(process.execPath, [DEMO_MAIN, '--port', '0', '--data', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (this.stdout += chunk));
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    DemoProcess.running.add(this);
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => {
        DemoProcess.running.delete(this);
        resolve({ code, signal });
      }),
    );
  }

  async banner(): Promise<Banner> {
    const text = await waitFor(() => this.stdout.includes('Stop with Ctrl-C') && this.stdout, {
      timeoutMs: START_TIMEOUT_MS,
      what: `the demo's banner (stderr so far: ${this.stderr})`,
    });
    const field = (label: string): string => {
      const value = new RegExp(`^\\s+${label} {2,}(\\S.*)$`, 'm').exec(text)?.[1];
      assert.ok(value, `no "${label}" line in the banner:\n${text}`);
      return value;
    };
    return {
      identityUrl: field('identity demo'),
      p4pUrl: field('p4p').split(' ')[0]!,
      key: field('network key'),
      pullUrl: field('pull URL'),
      loopCheck: field('loop check'),
    };
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }

  async stopWithCtrlC(): Promise<void> {
    this.child.kill('SIGINT');
    assert.deepEqual(await this.exited, { code: 0, signal: null }, this.stderr);
  }
}

export interface StoredUser {
  profile: { display_name: string; bio?: string; image_url?: string } | null;
  version: number;
  sync: { last_pull_at: string | null; last_outcome: string | null };
}

/** p4p's read API answer for `userId`, asked with a system token of the demo network. */
export function fetchFromP4p(banner: Banner, userId: string): Promise<Response> {
  return fetch(`${banner.p4pUrl}/api/v3.0/user/${userId}/profile`, {
    headers: { authorization: `Bearer ${buildSystemToken(DEMO_NETWORK, banner.key, 600)}` },
  });
}

/** What p4p stored for `userId`; fails unless p4p knows the user. */
export async function readFromP4p(banner: Banner, userId: string): Promise<StoredUser> {
  const response = await fetchFromP4p(banner, userId);
  assert.equal(response.status, 200, await response.clone().text());
  return (await response.json()) as StoredUser;
}
