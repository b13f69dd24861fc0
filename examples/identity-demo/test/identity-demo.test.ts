import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { formatDoctorReport, testPullEndpoint } from 'p4p-sdk';
import { TempDirs } from '../../../packages/server/test/support/temp-dir.js';
import { waitFor } from '../../../packages/server/test/support/wait-for.js';
import { DEMO_NETWORK, DemoProcess, fetchFromP4p, readFromP4p, type Banner } from './support/demo-process.js';

/**
 * What `npm start` promises (README quick start), run as it runs: the
 * compiled demo (so `npm run build` first) in a child process, on free ports
 * and a fresh data directory. An edit through the demo's form reaches p4p's
 * read API; a bad edit is refused and changes nothing; edits and the network
 * survive a restart; Ctrl-C stops everything with exit code 0.
 */

const dataDirs = new TempDirs('p4p-identity-demo-');
after(async () => {
  DemoProcess.killAll();
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
    const grace = await fetchFromP4p(banner, 'grace');
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
