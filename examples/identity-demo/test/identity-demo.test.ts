import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import { buildSystemToken, formatDoctorReport, testPullEndpoint } from 'p4p-sdk';
import { TempDirs } from '../../../packages/server/test/support/temp-dir.js';
import { waitFor } from '../../../packages/server/test/support/wait-for.js';

/**
 * What `npm start` promises (README quick start), run as it runs: the
 * compiled demo (so `npm run build` first) in a child process, on free ports
 * and a fresh data directory. An edit through the demo's form reaches p4p's
 * read API; a bad edit is refused and changes nothing; edits and the network
 * survive a restart; Ctrl-C stops everything with exit code 0.
 */

const DEMO_MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const DEMO_NETWORK = 'demo.fyre.co';
/** Generous: on a loaded machine p4p's start and the loop check take a while. */
const START_TIMEOUT_MS = 30_000;

interface Banner {
  identityUrl: string;
  p4pUrl: string;
  key: string;
  pullUrl: string;
  loopCheck: string;
}

/** One `npm start`: the demo's entry in a child process; its banner once printed. */
class DemoProcess {
  static readonly running = new Set<DemoProcess>();
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;

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

const dataDirs = new TempDirs('p4p-identity-demo-');
after(async () => {
  for (const demo of DemoProcess.running) demo.kill();
  dataDirs.removeAll();
});

/** POSTs the edit form of `userId` as a browser does; the answer is not followed. */
function submitForm(banner: Banner, userId: string, fields: Record<string, string>): Promise<Response> {
  return fetch(`${banner.identityUrl}/users/${userId}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields),
    redirect: 'manual',
  });
}

interface StoredUser {
  profile: { display_name: string; bio?: string } | null;
  version: number;
  sync: { last_pull_at: string | null; last_outcome: string | null };
}

/** p4p's read API for `userId`, with a system token of the demo network. */
async function readFromP4p(banner: Banner, userId: string): Promise<StoredUser> {
  const response = await fetch(`${banner.p4pUrl}/api/v3.0/user/${userId}/profile`, {
    headers: { authorization: `Bearer ${buildSystemToken(DEMO_NETWORK, banner.key, 600)}` },
  });
  assert.equal(response.status, 200, await response.clone().text());
  return (await response.json()) as StoredUser;
}

describe('the identity demo (npm start)', { timeout: 120_000 }, () => {
  const data = dataDirs.make();
  let demo: DemoProcess;
  let banner: Banner;

  test('starts p4p and the demo, registers the pull URL and its loop check stores ada', async () => {
    demo = new DemoProcess(data);
    banner = await demo.banner();
    assert.match(banner.loopCheck, /^ping → pull → .*\(user ada\)$/);
    // The banner may say the pull was not seen yet on a slow machine; p4p's read API is the truth.
    const ada = await waitFor(async () => {
      const user = await readFromP4p(banner, 'ada');
      return user.sync.last_outcome === 'ok' && user;
    }, { what: 'the loop check to store ada' });
    assert.equal(ada.version, 1);
    assert.equal(ada.profile?.display_name, 'Ada Lovelace');
    const page = await (await fetch(banner.identityUrl)).text();
    assert.match(page, /Ada Lovelace/);
    assert.match(page, /Grace Hopper/);
  });

  test('an edit through the form reaches p4p: its read API shows the new display name and bio', async () => {
    const saved = await submitForm(banner, 'ada', { display_name: 'Ada King', bio: 'Countess of <Lovelace>' });
    assert.equal(saved.status, 303, await saved.text());
    const stored = await waitFor(
      async () => {
        const user = await readFromP4p(banner, 'ada');
        return user.profile?.display_name === 'Ada King' && user;
      },
      { what: "p4p's stored profile of ada to show the edit" },
    );
    assert.equal(stored.profile?.bio, 'Countess of <Lovelace>');
    assert.equal(stored.version, 2);
    const page = await (await fetch(banner.identityUrl)).text();
    assert.match(page, /Countess of &#60;Lovelace&#62;/, 'text is escaped in the page');
  });

  test('an edit p4p would refuse is not saved: 400 with the reason, the typed values kept, nothing pinged', async () => {
    const refused = await submitForm(banner, 'grace', { display_name: '   ', bio: 'kept in the form' });
    assert.equal(refused.status, 400);
    const page = await refused.text();
    assert.match(page, /Not saved: display_name/);
    assert.match(page, /kept in the form/);
    const badLink = await submitForm(banner, 'grace', { display_name: 'Grace', image_url: 'javascript:alert(1)' });
    assert.equal(badLink.status, 400);
    assert.match(await badLink.text(), /image_url/);
    const grace = await fetch(`${banner.p4pUrl}/api/v3.0/user/grace/profile`, {
      headers: { authorization: `Bearer ${buildSystemToken(DEMO_NETWORK, banner.key, 600)}` },
    });
    assert.equal(grace.status, 404, 'p4p was never pinged for grace');
    const users = JSON.parse(readFileSync(join(data, 'identity-demo-users.json'), 'utf8')) as Array<{ id: string; display_name: string }>;
    assert.equal(users.find((user) => user.id === 'grace')?.display_name, 'Grace Hopper');
  });

  test("the demo's pull endpoint passes the endpoint doctor (plain HTTP on loopback only warned about)", async () => {
    const report = await testPullEndpoint({ template: banner.pullUrl, network: DEMO_NETWORK, key: banner.key, userId: 'alan' });
    // response_time may warn on a loaded machine.
    const notPassed = report.checks.filter((check) => check.status !== 'pass' && check.id !== 'response_time').map((check) => `${check.id} ${check.status}`);
    assert.deepEqual(notPassed, ['https warn'], formatDoctorReport(report));
  });

  test('a user id that is not valid percent-encoding is no such page (404), not a failure', async () => {
    const answer = await fetch(`${banner.identityUrl}/users/%E0`);
    assert.equal(answer.status, 404);
    assert.match(await answer.text(), /no such page/);
    assert.doesNotMatch(demo.stderr, /request failed/);
  });

  test('Ctrl-C stops p4p and the demo with exit code 0', async () => {
    await demo.stopWithCtrlC();
  });

  test('a restart on the same data directory keeps the network key and the edited users', async () => {
    const restartedAtMs = Date.now();
    const again = new DemoProcess(data);
    const second = await again.banner();
    assert.equal(second.key, banner.key);
    const ada = await waitFor(async () => {
      const user = await readFromP4p(second, 'ada');
      return user.sync.last_pull_at !== null && Date.parse(user.sync.last_pull_at) >= restartedAtMs && user.sync.last_outcome !== null && user;
    }, { what: "the restarted demo's loop check to pull ada" });
    assert.equal(ada.sync.last_outcome, 'unchanged');
    assert.equal(ada.version, 2);
    assert.match(await (await fetch(second.identityUrl)).text(), /Ada King/);
    await again.stopWithCtrlC();
  });

  test('a corrupt users file stops the start: exit 1, one line naming the file, nothing left running', async () => {
    const corrupt = dataDirs.make();
    const file = join(corrupt, 'identity-demo-users.json');
    writeFileSync(file, '[{"id": "ada",');
    const broken = new DemoProcess(corrupt);
    assert.deepEqual(await broken.exited, { code: 1, signal: null }, broken.stderr);
    const lines = broken.stderr.trim().split('\n');
    assert.equal(lines.length, 1, broken.stderr);
    assert.ok(lines[0]!.startsWith(`identity demo: could not start: ${file} is not valid JSON (`), lines[0]);
    assert.match(lines[0]!, /fix it or delete it/);
    assert.equal(readFileSync(file, 'utf8'), '[{"id": "ada",', 'the file is left as it was');
  });
});
