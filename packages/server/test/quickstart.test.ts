import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { buildSystemToken } from '../src/tokens/sign-token.js';
import { ServeProcess } from './support/serve-process.js';
import { TempDirs } from './support/temp-dir.js';
import { waitFor } from './support/wait-for.js';

/**
 * What the README's quick start promises of `p4p serve --demo`, run as the
 * operator runs it (the compiled CLI in a child process, so `npm run build`
 * first): a banner with the network key, the identity demo and a loop check
 * that worked; an edit at the identity demo reaches p4p's read API; a second
 * start reuses the demo network; Ctrl-C stops it cleanly.
 */

const DEMO_NETWORK = 'demo.fyre.co';
/** Generous: the demo's own loop check may take up to 10 s before the banner. */
const BANNER_TIMEOUT_MS = 30_000;
const TEST_TIMEOUT_MS = 120_000;

const dataDirs = new TempDirs('p4p-quickstart-');
after(async () => {
  await ServeProcess.killAll();
  dataDirs.removeAll();
});

interface Banner {
  key: string;
  identityUrl: string;
  loopCheck: string;
  text: string;
}

/** Waits for the whole banner (it ends with the Ctrl-C line) and reads its fields. */
async function banner(serve: ServeProcess): Promise<Banner> {
  const text = await waitFor(
    () => (serve.stdout.includes('Stop with Ctrl-C') ? serve.stdout : serve.exitedWith !== null && `exited: ${JSON.stringify(serve.exitedWith)}`),
    { timeoutMs: BANNER_TIMEOUT_MS, what: 'the demo banner' },
  );
  const field = (label: string, value: RegExp): string => {
    const match = new RegExp(`^\\s*${label}\\s+(${value.source})`, 'm').exec(text);
    assert.ok(match, `no "${label}" line in the banner:\n${text}\nstderr: ${serve.stderr}`);
    return match[1]!;
  };
  return {
    key: field('network key', /\S+/),
    identityUrl: field('identity demo', /http:\/\/[^\s/]+/),
    loopCheck: field('loop check', /.+$/),
    text,
  };
}

/** The loop check line when it succeeded; resolves to the version it reports. */
function assertLoopCheckStored(loopCheck: string): number {
  const match = /^ping → pull → stored as version (\d+) in \d+ ms \(user ada\)$/.exec(loopCheck);
  assert.ok(match, `the loop check did not succeed: ${loopCheck}`);
  return Number(match[1]);
}

async function stopWithCtrlC(serve: ServeProcess): Promise<void> {
  serve.signal('SIGINT');
  assert.deepEqual(await serve.exited, { code: 0, signal: null }, `stderr: ${serve.stderr}`);
  assert.ok(serve.logged('stopped'), 'the stop is logged');
}

describe('p4p serve --demo (the README quick start)', { timeout: TEST_TIMEOUT_MS }, () => {
  const data = dataDirs.make();
  let first: ServeProcess;
  let printed: Banner;

  test('the first start prints a banner with the network key, the identity demo URL and a loop check that stored version 1', async () => {
    first = await ServeProcess.start(['--demo', '--data', data]);
    printed = await banner(first);
    assert.equal(assertLoopCheckStored(printed.loopCheck), 1, printed.loopCheck);
    assert.match(printed.text, /^\s*loop check {5}ping → pull → stored as version 1 in \d+ ms \(user ada\)$/m);
    assert.match(printed.text, new RegExp(`^\\s*demo network\\s+${DEMO_NETWORK.replaceAll('.', '\\.')}$`, 'm'));
    const token = buildSystemToken(DEMO_NETWORK, printed.key, 600);
    const ada = await first.readProfile(token, 'ada');
    assert.ok(ada !== null, 'the printed key reads the demo network');
    assert.equal(ada.version, 1);
  });

  test('editing a profile at the identity demo reaches p4p: the read API shows it as version 2', async () => {
    const edit = await fetch(`${printed.identityUrl}/users/ada`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ display_name: 'Ada King' }),
    });
    const answer = (await edit.json()) as { ping?: { status?: number } };
    assert.equal(edit.status, 200, JSON.stringify(answer));
    assert.equal(answer.ping?.status, 200, `the identity demo's ping to p4p: ${JSON.stringify(answer)}`);

    const token = buildSystemToken(DEMO_NETWORK, printed.key, 600);
    const stored = await waitFor(
      async () => {
        const ada = await first.readProfile(token, 'ada');
        return ada?.profile?.display_name === 'Ada King' && ada.sync.state === 'idle' && ada;
      },
      { timeoutMs: 30_000, what: 'the edit of ada to be pulled and stored' },
    );
    assert.equal(stored.version, 2);
  });

  test('Ctrl-C (SIGINT) stops it with exit code 0', async () => {
    await stopWithCtrlC(first);
  });

  test('a second start on the same data directory reuses the demo network (same key) and its loop check succeeds', async () => {
    const second = await ServeProcess.start(['--demo', '--data', data]);
    const again = await banner(second);
    assert.equal(again.key, printed.key, 'the same demo network, not a new one');
    const version = assertLoopCheckStored(again.loopCheck);
    assert.ok(version >= 2, `the history of the first start is kept: ${again.loopCheck}`);
    const ada = await second.readProfile(buildSystemToken(DEMO_NETWORK, again.key, 600), 'ada');
    assert.equal(ada?.version, version, 'the read API agrees with the loop check');
    await stopWithCtrlC(second);
  });

  test('Ctrl-C while the demo is still starting (after "listening", before the banner) also drains and exits 0', async () => {
    const serve = await ServeProcess.start(['--demo', '--data', dataDirs.make()]);
    await stopWithCtrlC(serve);
  });
});
