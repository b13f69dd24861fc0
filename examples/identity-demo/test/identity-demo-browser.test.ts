import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { TempDirs } from '../../../packages/server/test/support/temp-dir.js';
import { waitFor } from '../../../packages/server/test/support/wait-for.js';
import { DemoProcess, readFromP4p, type Banner } from './support/demo-process.js';

/**
 * The demo as a person uses it: Debian's Chromium, headless, driven by
 * playwright-core, opens the demo's page, edits a user through the form and
 * sees what p4p stored; a refused edit shows its problem and changes nothing.
 */

const CHROMIUM = '/usr/bin/chromium';
/** Generous: every page action waits for its element up to this long on a loaded machine. */
const UI_TIMEOUT_MS = 30_000;

/** A headless Chromium with a fresh profile; fails saying how to install it when it is missing. */
function launchChromium(): Promise<Browser> {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} not found: this test drives Debian's Chromium; install it with \`apt-get install -y --no-install-recommends chromium\` (.ci/run does)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    // Without the background-networking flags Chromium's own connections are refused on a closed network.
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

const dataDirs = new TempDirs('p4p-identity-demo-browser-');
let browser: Browser | undefined;
after(async () => {
  await browser?.close();
  DemoProcess.killAll();
  dataDirs.removeAll();
});

/** The bio textarea: its text is part of its label's text, so the label is matched by its start. */
function bioField(page: Page): Locator {
  return page.getByLabel(/^Bio/);
}

/** The user list's row of the user whose link reads `displayName`. */
function userRow(page: Page, displayName: string): Locator {
  return page.locator('tr', { has: page.getByRole('link', { name: displayName, exact: true }) });
}

/** The row's "Stored in p4p" cell. */
function storedCell(row: Locator): Locator {
  return row.locator('td').nth(3);
}

describe('the identity demo in a browser', { timeout: 180_000 }, () => {
  let banner: Banner;
  let page: Page;

  before(async () => {
    browser = await launchChromium();
    banner = await new DemoProcess(dataDirs.make()).banner();
    page = await browser.newPage();
    page.setDefaultTimeout(UI_TIMEOUT_MS);
  });

  test("the page lists the users; clicking one opens its edit form with the user's values", async () => {
    await page.goto(banner.identityUrl);
    await userRow(page, 'Ada Lovelace').waitFor();
    await userRow(page, 'Alan Turing').waitFor();
    assert.equal(await storedCell(userRow(page, 'Grace Hopper')).innerText(), 'not pulled yet');
    await page.getByRole('link', { name: 'Grace Hopper', exact: true }).click();
    await page.getByRole('heading', { name: 'Edit Grace Hopper' }).waitFor();
    assert.equal(await page.getByLabel('Display name', { exact: true }).inputValue(), 'Grace Hopper');
    assert.equal(await bioField(page).inputValue(), 'Compilers, and nanoseconds');
  });

  test('saving the form: the page shows what p4p stored, and p4p\'s read API has the new display name and bio', async () => {
    const bio = 'Compilers, <nanoseconds> & COBOL';
    await page.getByLabel('Display name', { exact: true }).fill('Grace Brewster Hopper');
    await bioField(page).fill(bio);
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL((url) => url.pathname === '/' && url.searchParams.has('saved'));
    assert.match(await page.locator('.notice').innerText(), /^Saved Grace Brewster Hopper: ping → pull → /);
    const row = userRow(page, 'Grace Brewster Hopper');
    assert.equal(await row.locator('td').nth(2).innerText(), bio, 'the bio is shown as text, not as markup');
    // Saving waits for the pull at most 5 s; on a slow machine a reload shows it once p4p has stored it.
    const shown = await waitFor(async () => {
      const text = await storedCell(row).innerText();
      if (text.startsWith('Grace Brewster Hopper ')) return text;
      await page.reload();
      return false;
    }, { timeoutMs: UI_TIMEOUT_MS, what: "the page's stored column to show the edit" });
    const stored = await readFromP4p(banner, 'grace');
    assert.equal(stored.profile?.display_name, 'Grace Brewster Hopper');
    assert.equal(stored.profile?.bio, bio);
    assert.match(shown, new RegExp(`\\(version ${stored.version}, `), 'the page shows the version p4p stored');
  });

  test('a refused edit (a javascript: avatar URL) shows the problem in the page, keeps what was typed and changes nothing', async () => {
    const storedBefore = await readFromP4p(banner, 'grace');
    await page.getByRole('link', { name: 'Grace Brewster Hopper', exact: true }).click();
    await page.getByLabel('Display name', { exact: true }).fill('Someone Else');
    await page.getByLabel('Avatar URL', { exact: true }).fill('javascript:alert(1)');
    await page.getByRole('button', { name: 'Save' }).click();
    assert.match(await page.locator('.problem').innerText(), /^Not saved: image_url/);
    assert.equal(await page.getByLabel('Display name', { exact: true }).inputValue(), 'Someone Else');
    assert.equal(await page.getByLabel('Avatar URL', { exact: true }).inputValue(), 'javascript:alert(1)');

    assert.deepEqual(await readFromP4p(banner, 'grace'), storedBefore, 'p4p was not pinged: its stored profile is as it was');
    await page.getByRole('link', { name: 'Back' }).click();
    const row = userRow(page, 'Grace Brewster Hopper');
    assert.match(await storedCell(row).innerText(), /^Grace Brewster Hopper \(version /);
    assert.equal(await page.getByRole('link', { name: 'Someone Else' }).count(), 0, 'the identity system did not save it');
    assert.equal(await row.locator('img').count(), 0, 'no avatar was saved');
  });
});
