import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { lockDataDir } from '../src/server/data-dir-lock.js';
import { openConnection } from '../src/store/sqlite/sqlite-connection.js';
import { migrate } from '../src/store/sqlite/sqlite-migrations.js';
import { parseToken, verifyToken } from '../src/tokens/verify-token.js';
import { buildSystemToken } from '../src/tokens/sign-token.js';
import { PullEndpoint } from './support/pull-endpoint.js';
import { createNetwork, runCli, type CliRun } from './support/run-cli.js';
import { ServeProcess } from './support/serve-process.js';
import { TempDirs } from './support/temp-dir.js';
import { waitFor } from './support/wait-for.js';

/**
 * The `p4p` command line as operators run it: `node bin/p4p.js …` in child
 * processes (the compiled dist/, so `npm run build` first), each test with
 * its own data directory.
 */

/** Asserts a refusal: a non-zero exit and exactly one non-empty line on stderr, which is returned. */
function assertOneLineRefusal(run: CliRun, what: string): string {
  assert.equal(run.signal, null, `${what}: killed by ${run.signal} (hung?); stderr: ${run.stderr}`);
  assert.notEqual(run.code, 0, `${what}: expected a non-zero exit; stdout: ${run.stdout}`);
  const lines = run.stderr.split('\n').filter((line) => line.trim() !== '');
  assert.equal(lines.length, 1, `${what}: expected one line on stderr, got:\n${run.stderr}`);
  assert.doesNotMatch(lines[0]!, /^\s+at |Error: .*\n/, `${what}: a stack trace instead of a message`);
  return lines[0]!;
}

/** A fresh data directory per test; every serve started is killed and every directory removed after the file. */
const dataDirs = new TempDirs('p4p-cli-');
after(async () => {
  await ServeProcess.killAll();
  dataDirs.removeAll();
});

describe('p4p network create', () => {
  test('prints the name and a random 256-bit key', async () => {
    const run = await runCli(['network', 'create', 'labs.fyre.co', '--data', dataDirs.make()]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /labs\.fyre\.co/);
    const key = /^key\s+(\S+)$/m.exec(run.stdout)?.[1];
    assert.ok(key, `no key line in:\n${run.stdout}`);
    assert.equal(Buffer.from(key, 'base64url').length, 32, 'a 256-bit key');
  });

  test('--json prints machine-readable name and key; --key is used as given', async () => {
    const key = 'a-customer-chosen-key-0123456789';
    const run = await runCli(['network', 'create', 'json.fyre.co', '--key', key, '--json', '--data', dataDirs.make()]);
    assert.equal(run.code, 0, run.stderr);
    const printed = JSON.parse(run.stdout) as { name: unknown; key: unknown };
    assert.equal(printed.name, 'json.fyre.co');
    assert.equal(printed.key, key);
  });

  test('a duplicate name is refused with one line and a non-zero exit', async () => {
    const data = dataDirs.make();
    assert.equal((await runCli(['network', 'create', 'dup.fyre.co', '--data', data])).code, 0);
    const line = assertOneLineRefusal(await runCli(['network', 'create', 'dup.fyre.co', '--data', data]), 'duplicate');
    assert.match(line, /dup\.fyre\.co/);
    assert.match(line, /already exists/);
  });

  test('a bad name, a key with a space and a bad --owner are each refused with one line saying what to fix', async () => {
    const data = dataDirs.make();
    const [badName, spacedKey, badOwner] = await Promise.all([
      runCli(['network', 'create', 'Not A Domain', '--data', data]),
      runCli(['network', 'create', 'spaced.fyre.co', '--key', 'a key with spaces', '--data', data]),
      runCli(['network', 'create', 'owner.fyre.co', '--owner', 'bad id!', '--data', data]),
    ]);
    assert.match(assertOneLineRefusal(badName, 'bad name'), /network name .*domain-like/);
    assert.match(assertOneLineRefusal(spacedKey, 'key with spaces'), /key must be printable characters without spaces or line breaks/);
    assert.match(assertOneLineRefusal(badOwner, 'bad owner'), /--owner.*user id must be 1–255 characters.*got "bad id!"; give one user id per --owner/);
    const list = await runCli(['network', 'list', '--json', '--data', data]);
    assert.deepEqual(JSON.parse(list.stdout), [], 'nothing was created by a refused command');
  });

  test('--owner takes one user id and may be repeated; the name may follow it', async () => {
    const data = dataDirs.make();
    const run = await runCli(['network', 'create', '--owner', 'alice', '--owner', 'bob', 'owned.fyre.co', '--json', '--data', data]);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), { name: 'owned.fyre.co', key: (JSON.parse(run.stdout) as { key: string }).key, owners: ['alice', 'bob'] });
  });
});

describe('a customer moving from Livefyre keeps its key', () => {
  test('a short existing key is accepted, with a warning that it is weak', async () => {
    const data = dataDirs.make();
    const run = await runCli(['network', 'create', 'legacy.fyre.co', '--key', 'short', '--json', '--data', data]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal((JSON.parse(run.stdout) as { key: string }).key, 'short');
    assert.match(run.stderr, /weak/);
  });
});

describe('p4p network list', () => {
  test('lists networks in plain text and as JSON', async () => {
    const data = dataDirs.make();
    const empty = await runCli(['network', 'list', '--data', data]);
    assert.equal(empty.code, 0, empty.stderr);
    assert.match(empty.stdout, /no networks/);
    assert.equal((await runCli(['network', 'create', 'b.fyre.co', '--data', data])).code, 0);
    assert.equal((await runCli(['network', 'create', 'a.fyre.co', '--owner', 'admin', '--data', data])).code, 0);

    const plain = await runCli(['network', 'list', '--data', data]);
    assert.equal(plain.code, 0, plain.stderr);
    const lines = plain.stdout.trim().split('\n');
    assert.equal(lines.length, 2);
    assert.match(lines[0]!, /^a\.fyre\.co\s/);
    assert.match(lines[1]!, /^b\.fyre\.co\s/);
    assert.doesNotMatch(plain.stdout, /key/i, 'keys are not listed');

    const json = await runCli(['network', 'list', '--json', '--data', data]);
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(JSON.parse(json.stdout), [
      { name: 'a.fyre.co', pull_profile_url: null, owners: ['admin'], previous_key_verifies: false },
      { name: 'b.fyre.co', pull_profile_url: null, owners: [], previous_key_verifies: false },
    ]);
  });

  test('shows a network whose key rotation is under way', async () => {
    const data = dataDirs.make();
    await createNetwork(data, 'r.fyre.co');
    assert.equal((await runCli(['network', 'rotate-key', 'r.fyre.co', '--data', data])).code, 0);
    const plain = await runCli(['network', 'list', '--data', data]);
    assert.match(plain.stdout, /^r\.fyre\.co\s.*previous key still verifies/m);
    const json = await runCli(['network', 'list', '--json', '--data', data]);
    assert.equal((JSON.parse(json.stdout) as Array<{ previous_key_verifies: boolean }>)[0]?.previous_key_verifies, true);
  });
});

describe('a newer p4p next to an older serve', () => {
  test('a command does not upgrade the file while a serve holds the directory, and upgrades it once none does', async () => {
    const data = dataDirs.make();
    const old = openConnection(data, 5000);
    migrate(old, 2);
    old.exec(`INSERT INTO networks (name, key, created_at, updated_at) VALUES ('old.fyre.co', 'key-old', 0, 0)`);
    old.close();
    const schemaVersion = (): number => {
      const db = openConnection(data, 5000);
      try {
        return db.pragma('user_version', { simple: true }) as number;
      } finally {
        db.close();
      }
    };

    // This process stands in for the older serve: it holds the directory as serve does.
    const unlock = lockDataDir(data);
    try {
      const line = assertOneLineRefusal(await runCli(['network', 'list', '--data', data]), 'list under a serve');
      assert.match(line, /schema is version 2, older than this p4p's \(\d+\); a p4p serve is using the directory/);
      assert.match(line, /stop that serve, then start this version's p4p serve/);
      assert.equal(schemaVersion(), 2, 'the file is left as the serve knows it');
    } finally {
      unlock();
    }

    const list = await runCli(['network', 'list', '--data', data]);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^old\.fyre\.co\s/m);
    assert.ok(schemaVersion() > 2, 'upgraded once no serve holds the directory');
  });
});

describe('p4p network rotate-key', () => {
  test('refuses a second rotation while one is under way, a current key as the new one, and a bad key, each with one line', async () => {
    const data = dataDirs.make();
    const oldKey = await createNetwork(data, 'keys.fyre.co');
    const reused = await runCli(['network', 'rotate-key', 'keys.fyre.co', '--key', oldKey, '--data', data]);
    assert.match(assertOneLineRefusal(reused, 'the current key again'), /already a key/);
    assert.match(assertOneLineRefusal(await runCli(['network', 'rotate-key', 'keys.fyre.co', '--key', 'a b', '--data', data]), 'bad key'), /key/);

    assert.equal((await runCli(['network', 'rotate-key', 'keys.fyre.co', '--data', data])).code, 0);
    const again = await runCli(['network', 'rotate-key', 'keys.fyre.co', '--data', data]);
    assert.match(assertOneLineRefusal(again, 'second rotation'), /under way.*drop-previous-key keys\.fyre\.co/);
    const dropped = await runCli(['network', 'drop-previous-key', 'keys.fyre.co', '--json', '--data', data]);
    assert.deepEqual(JSON.parse(dropped.stdout), { name: 'keys.fyre.co', dropped: true });
    assert.equal((await runCli(['network', 'rotate-key', 'keys.fyre.co', '--data', data])).code, 0, 'a new rotation after the last one ended');
  });

  test('an unknown network is refused with one line naming it', async () => {
    const data = dataDirs.make();
    await createNetwork(data, 'known.fyre.co');
    for (const command of ['rotate-key', 'drop-previous-key']) {
      assert.match(assertOneLineRefusal(await runCli(['network', command, 'nope.fyre.co', '--data', data]), command), /no network nope\.fyre\.co/);
    }
  });
});

describe('p4p token system', () => {
  test('prints a system token that the p4p verifier accepts with the network key', async () => {
    const data = dataDirs.make();
    const created = await runCli(['network', 'create', 'tok.fyre.co', '--json', '--data', data]);
    const { key } = JSON.parse(created.stdout) as { key: string };
    const run = await runCli(['token', 'system', '--network', 'tok.fyre.co', '--data', data]);
    assert.equal(run.code, 0, run.stderr);
    const parsed = parseToken(run.stdout.trim());
    assert.ok(parsed.ok, `not a token: ${JSON.stringify(parsed)}`);
    const verified = verifyToken(parsed, { keys: [key], networkName: 'tok.fyre.co', nowMs: Date.now() });
    assert.ok(verified.ok, JSON.stringify(verified));
    assert.equal(verified.claims.user_id, 'system');
    assert.equal(verified.claims.domain, 'tok.fyre.co');
    assert.ok(!verifyToken(parsed, { keys: ['another-key-0123456789abcdef'], networkName: 'tok.fyre.co', nowMs: Date.now() }).ok);
  });

  test('an unknown network is refused with one line naming it', async () => {
    const data = dataDirs.make();
    const line = assertOneLineRefusal(await runCli(['token', 'system', '--network', 'nope.fyre.co', '--data', data]), 'unknown network');
    assert.match(line, /nope\.fyre\.co/);
  });
});

describe('--help', () => {
  const commands: Array<{ args: string[]; mentions: string[] }> = [
    { args: [], mentions: ['serve', 'network', 'token', 'ping', 'migrate'] },
    {
      args: ['serve'],
      mentions: ['--port', '--host', '--data', '--database', 'P4P_DATABASE_URL', '--role', '--allow-private-targets', '--pull-timeout-ms', 'P4P_PORT'],
    },
    { args: ['network'], mentions: ['create', 'list', 'rotate-key', 'drop-previous-key'] },
    { args: ['network', 'rotate-key'], mentions: ['--key', '--data', '--database', '--json'] },
    { args: ['network', 'drop-previous-key'], mentions: ['--data', '--database', '--json'] },
    { args: ['network', 'create'], mentions: ['--key', '--owner', '--data', '--database', '--json'] },
    { args: ['network', 'list'], mentions: ['--data', '--database', '--json'] },
    { args: ['token'], mentions: ['system'] },
    { args: ['token', 'system'], mentions: ['--network', '--data', '--database'] },
    { args: ['ping'], mentions: ['--url', '--key', '--data', '--database'] },
    { args: ['migrate'], mentions: ['--database', 'P4P_DATABASE_URL'] },
  ];
  test('every command answers --help with exit 0 and its options', async () => {
    const runs = await Promise.all(commands.map(({ args }) => runCli([...args, '--help'])));
    commands.forEach(({ args, mentions }, index) => {
      const run = runs[index]!;
      const name = ['p4p', ...args].join(' ');
      assert.equal(run.code, 0, `${name} --help: exit ${run.code}; ${run.stderr}`);
      for (const mention of mentions) assert.ok(run.stdout.includes(mention), `${name} --help does not mention ${mention}:\n${run.stdout}`);
    });
  });
});

describe('p4p serve configuration', () => {
  test('bad flags are refused before starting, with a message naming the flag', async () => {
    const data = dataDirs.make();
    const cases: Array<{ args: string[]; flag: RegExp }> = [
      { args: ['--port', 'abc'], flag: /--port/ },
      { args: ['--pull-timeout-ms', '5'], flag: /--pull-timeout-ms/ },
      { args: ['--pull-connect-timeout-ms', '20000', '--pull-timeout-ms', '10000'], flag: /--pull-connect-timeout-ms/ },
      { args: ['--durability', 'maybe'], flag: /--durability/ },
      { args: ['--no-such-flag'], flag: /--no-such-flag/ },
      { args: ['--database', 'mysql://db.example/p4p'], flag: /--database/ },
      { args: ['--database', 'not a url'], flag: /--database/ },
      { args: ['--role', 'janitor'], flag: /--role/ },
      // With SQLite one process does everything: splitting roles needs the shared database.
      { args: ['--role', 'api'], flag: /--role api needs a shared database/ },
      { args: ['--role', 'worker'], flag: /--role worker needs a shared database/ },
    ];
    const runs = await Promise.all(cases.map(({ args }) => runCli(['serve', '--data', data, ...args])));
    cases.forEach(({ args, flag }, index) => assert.match(assertOneLineRefusal(runs[index]!, args.join(' ')), flag));
  });

  test('environment variables are validated like the flags', async () => {
    const data = dataDirs.make();
    const cases: Array<{ env: Record<string, string>; flag: RegExp }> = [
      { env: { P4P_PORT: 'abc' }, flag: /P4P_PORT|--port/ },
      { env: { P4P_PULL_TIMEOUT_MS: '5' }, flag: /P4P_PULL_TIMEOUT_MS|--pull-timeout-ms/ },
      { env: { P4P_LOG_LEVEL: 'loud' }, flag: /P4P_LOG_LEVEL|--log-level/ },
      { env: { P4P_ALLOW_PRIVATE_TARGETS: 'maybe' }, flag: /P4P_ALLOW_PRIVATE_TARGETS/ },
      { env: { P4P_DATABASE_URL: 'redis://127.0.0.1:6379' }, flag: /P4P_DATABASE_URL|--database/ },
      { env: { P4P_ROLE: 'api' }, flag: /--role api needs a shared database/ },
    ];
    const runs = await Promise.all(cases.map(({ env }) => runCli(['serve', '--data', data], env)));
    cases.forEach(({ env, flag }, index) => assert.match(assertOneLineRefusal(runs[index]!, JSON.stringify(env)), flag));
  });

  test('P4P_ALLOW_PRIVATE_TARGETS=false keeps the SSRF guard on (a boolean flag must not be switched on by any value)', async () => {
    const data = dataDirs.make();
    const key = await createNetwork(data, 'guarded.fyre.co');
    const serve = await ServeProcess.start(['--data', data], { P4P_ALLOW_PRIVATE_TARGETS: 'false' });
    const response = await serve.request('/', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ actor_token: buildSystemToken('guarded.fyre.co', key, 600), pull_profile_url: 'http://127.0.0.1:9/users/{id}' }),
    });
    assert.equal(response.status, 400);
    assert.equal(((await response.json()) as { code: string }).code, 'pull_url_blocked');
    await serve.kill();
  });

  test('an unusable data directory is refused with one line naming it, by every command', async () => {
    const parent = dataDirs.make();
    writeFileSync(join(parent, 'a-file'), 'not a directory');
    const unusable = join(parent, 'a-file', 'data');
    const runs = await Promise.all([
      runCli(['network', 'create', 'x.fyre.co', '--data', unusable]),
      runCli(['network', 'list', '--data', unusable]),
      runCli(['token', 'system', '--network', 'x.fyre.co', '--data', unusable]),
      runCli(['serve', '--port', '0', '--data', unusable]),
      runCli(['network', 'list'], { P4P_DATA: unusable }),
    ]);
    runs.forEach((run, index) => assert.ok(assertOneLineRefusal(run, `command ${index}`).includes(unusable), run.stderr));
  });

  test('a data directory that cannot be made under /proc is refused with one line, not a hang', { skip: process.platform !== 'linux' && 'needs /proc' }, async () => {
    const unmakeable = `/proc/p4p-test-${process.pid}/data`;
    const runs = await Promise.all([
      runCli(['serve', '--port', '0', '--data', unmakeable]),
      runCli(['network', 'create', 'x.fyre.co', '--data', unmakeable]),
    ]);
    runs.forEach((run, index) => assert.ok(assertOneLineRefusal(run, `command ${index}`).includes(unmakeable), run.stderr));
  });

  test('an empty --data or P4P_DATA is refused with one line, not taken as the current directory', async () => {
    const runs = await Promise.all([runCli(['network', 'list', '--data', '']), runCli(['network', 'list'], { P4P_DATA: '' })]);
    runs.forEach((run, index) => assert.match(assertOneLineRefusal(run, `run ${index}`), /expected a directory, e\.g\. \.\/data/));
  });

  test('--data beats a P4P_DATABASE_URL from the environment, and --data with --database is refused', async () => {
    const data = dataDirs.make();
    await createNetwork(data, 'local.fyre.co');
    const unreachable = 'postgres://nobody@127.0.0.1:1/p4p';
    const listed = await runCli(['network', 'list', '--json', '--data', data], { P4P_DATABASE_URL: unreachable });
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual((JSON.parse(listed.stdout) as Array<{ name: string }>).map((network) => network.name), ['local.fyre.co']);
    const both = await runCli(['network', 'list', '--data', data, '--database', unreachable]);
    assert.equal(assertOneLineRefusal(both, 'both flags'), 'p4p: give --data (SQLite) or --database (PostgreSQL), not both');
  });

  test('an empty --host or P4P_HOST is refused with one line, not taken as every interface', async () => {
    const data = dataDirs.make();
    const runs = await Promise.all([runCli(['serve', '--port', '0', '--data', data, '--host', '']), runCli(['serve', '--port', '0', '--data', data], { P4P_HOST: ' ' })]);
    runs.forEach((run, index) => assert.match(assertOneLineRefusal(run, `run ${index}`), /expected a host name or IP address without spaces/));
  });

  test('a --data that is a file, or a network name that is not domain-like, is refused saying so', async () => {
    const file = join(dataDirs.make(), 'a-file');
    writeFileSync(file, 'not a directory');
    const runs = await Promise.all([
      runCli(['network', 'list', '--data', file]),
      runCli(['serve', '--port', '0', '--data', file]),
      runCli(['network', 'rotate-key', 'Nope.com', '--data', dataDirs.make()]),
      runCli(['token', 'system', '--network', 'Nope.com', '--data', dataDirs.make()]),
    ]);
    for (const run of runs.slice(0, 2)) assert.match(assertOneLineRefusal(run, 'file'), new RegExp(`${file} is not a directory; pass --data a directory`));
    for (const run of runs.slice(2)) assert.match(assertOneLineRefusal(run, 'name'), /network name "Nope\.com" is not domain-like/);
  });

  test('a data directory holding something that is not a p4p database is refused with one line', async () => {
    const data = dataDirs.make();
    writeFileSync(join(data, 'p4p.db'), 'this is not an SQLite file, it is just text that goes on for a while');
    const runs = await Promise.all([runCli(['network', 'list', '--data', data]), runCli(['serve', '--port', '0', '--data', data])]);
    runs.forEach((run, index) => assert.match(assertOneLineRefusal(run, `command ${index}`), /not a database/));
  });
});

describe('p4p with a running serve', () => {
  let data: string;
  let serve: ServeProcess;
  let endpoint: PullEndpoint;
  before(async () => {
    data = dataDirs.make();
    endpoint = await PullEndpoint.start();
    serve = await ServeProcess.start(['--data', data, '--allow-private-targets']);
  });
  after(async () => {
    await serve?.kill();
    await endpoint?.close();
  });

  test('network create works while serve runs, and the server takes pings for the new network at once', async () => {
    const created = await runCli(['network', 'create', 'live.fyre.co', '--json', '--data', data]);
    assert.equal(created.code, 0, created.stderr);
    const { key } = JSON.parse(created.stdout) as { key: string };
    await serve.registerPullUrl('live.fyre.co', key, endpoint.template);
    endpoint.profiles.set('ada', { id: 'ada', display_name: 'Ada L.' });
    const response = await serve.request('/api/v3_0/user/ada/refresh', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ lftoken: buildSystemToken('live.fyre.co', key, 600) }),
    });
    assert.equal(response.status, 200, await response.text());
    await response.arrayBuffer().catch(() => undefined);
    const profile = await waitFor(async () => {
      const stored = await serve.readProfile(buildSystemToken('live.fyre.co', key, 600), 'ada');
      return stored?.version === 1 && stored;
    }, { what: 'ada to be pulled by the running serve' });
    assert.equal(profile.profile?.display_name, 'Ada L.');
  });

  test('a key rotation while serve runs: both keys verify until drop-previous-key, then only the new one', async () => {
    const oldKey = await createNetwork(data, 'rotate.fyre.co');
    await serve.registerPullUrl('rotate.fyre.co', oldKey, endpoint.template);
    const rotated = await runCli(['network', 'rotate-key', 'rotate.fyre.co', '--json', '--data', data]);
    assert.equal(rotated.code, 0, rotated.stderr);
    const { key: newKey } = JSON.parse(rotated.stdout) as { key: string };
    assert.notEqual(newKey, oldKey);
    const pingStatus = async (key: string): Promise<number> => {
      const response = await serve.request('/api/v3_0/user/rot/refresh', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ lftoken: buildSystemToken('rotate.fyre.co', key, 600) }),
      });
      await response.arrayBuffer();
      return response.status;
    };
    // The serve keeps networks for up to a second: wait for it to see the change.
    await waitFor(async () => (await pingStatus(newKey)) === 200, { what: 'the new key to verify' });
    assert.equal(await pingStatus(oldKey), 200, 'the previous key still verifies during the rotation');
    const signed = parseToken((await runCli(['token', 'system', '--network', 'rotate.fyre.co', '--data', data])).stdout.trim());
    assert.ok(signed.ok, 'token system prints a token');
    const signedBy = (key: string): boolean => verifyToken(signed, { keys: [key], networkName: 'rotate.fyre.co', nowMs: Date.now() }).ok;
    assert.ok(signedBy(newKey) && !signedBy(oldKey), 'the new key signs');

    const dropped = await runCli(['network', 'drop-previous-key', 'rotate.fyre.co', '--data', data]);
    assert.equal(dropped.code, 0, dropped.stderr);
    assert.match(dropped.stdout, /no longer verifies/);
    await waitFor(async () => (await pingStatus(oldKey)) === 403, { what: 'the previous key to be refused' });
    assert.equal(await pingStatus(newKey), 200);
  });

  test('p4p ping --url answers with the 200 body', async () => {
    const key = await createNetwork(data, 'ping.fyre.co');
    await serve.registerPullUrl('ping.fyre.co', key, endpoint.template);
    const run = await runCli(['ping', 'ping.fyre.co', 'grace', '--url', serve.url!, '--data', data]);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), { status: 'ok', network: 'ping.fyre.co', user_id: 'grace' });
    await waitFor(() => endpoint.pullsFor('grace').length > 0, { what: 'grace to be pulled' });
  });

  test('p4p ping for a network without a pull URL fails with pull_url_not_registered', async () => {
    assert.equal((await runCli(['network', 'create', 'nourl.fyre.co', '--data', data])).code, 0);
    const line = assertOneLineRefusal(await runCli(['ping', 'nourl.fyre.co', 'ada', '--url', serve.url!, '--data', data]), 'no pull URL');
    assert.match(line, /pull_url_not_registered/);
  });

  test('p4p ping for an unknown network, a bad user id, or a p4p that is not there, fails with one line', async () => {
    const gone = createServer();
    await new Promise<void>((resolve) => gone.listen(0, '127.0.0.1', resolve));
    const freedPort = (gone.address() as AddressInfo).port;
    await new Promise((resolve) => gone.close(resolve));
    const [unknown, unreachable] = await Promise.all([
      runCli(['ping', 'nope.fyre.co', 'ada', '--url', serve.url!, '--data', data]),
      runCli(['ping', 'any.fyre.co', 'ada', '--key', 'any-key-0123456789abcdef', '--url', `http://127.0.0.1:${freedPort}`, '--data', data]),
    ]);
    assert.match(assertOneLineRefusal(unknown, 'unknown network'), /nope\.fyre\.co/);
    assert.match(
      assertOneLineRefusal(unreachable, 'unreachable'),
      new RegExp(`cannot reach p4p at http://127\\.0\\.0\\.1:${freedPort}: connect ECONNREFUSED 127\\.0\\.0\\.1:${freedPort};`),
    );
    const badUser = await runCli(['ping', 'live.fyre.co', 'not a user id', '--key', 'any-key-0123456789abcdef', '--url', serve.url!]);
    assert.match(assertOneLineRefusal(badUser, 'bad user id'), /user id/);
  });

  test('p4p ping and p4p doctor refuse a network name that is not domain-like, as network create does', async () => {
    const runs = await Promise.all([
      runCli(['ping', 'BAD NAME', 'ada', '--key', 'any-key-0123456789abcdef', '--url', serve.url!]),
      runCli(['doctor', 'https://idp.example.com/users/{id}', '--network', 'BAD NAME', '--user', 'ada', '--key', 'any-key-0123456789abcdef']),
    ]);
    runs.forEach((run, index) => assert.match(assertOneLineRefusal(run, `run ${index}`), /network name "BAD NAME" is not domain-like/));
  });

  test('p4p ping with an empty key, a --url that is not http, or a --url that is not p4p, says which', async () => {
    const notP4pServer = createServer((_request, response) => void response.writeHead(200, { 'content-type': 'application/json' }).end('{"hello":"world"}'));
    await new Promise<void>((resolve) => notP4pServer.listen(0, '127.0.0.1', resolve));
    const notP4pUrl = `http://127.0.0.1:${(notP4pServer.address() as AddressInfo).port}`;
    const [emptyKey, ftpUrl, notP4p] = await Promise.all([
      runCli(['ping', 'live.fyre.co', 'ada', '--key', '', '--url', serve.url!]),
      runCli(['ping', 'live.fyre.co', 'ada', '--key', 'any-key-0123456789abcdef', '--url', 'ftp://127.0.0.1/']),
      runCli(['ping', 'live.fyre.co', 'ada', '--key', 'any-key-0123456789abcdef', '--url', notP4pUrl]),
    ]).finally(() => notP4pServer.close());
    const keyLine = assertOneLineRefusal(emptyKey, 'empty key');
    assert.match(keyLine, /cannot sign a ping token: .*key/);
    assert.doesNotMatch(keyLine, /cannot reach/);
    assert.match(assertOneLineRefusal(ftpUrl, 'ftp url'), /--url must be p4p's base URL, http:\/\/ or https:\/\//);
    assert.match(assertOneLineRefusal(notP4p, 'not p4p'), /answered 200, but not with p4p's \{"status":"ok"\}/);
  });

  test('p4p ping keeps the path of --url (p4p behind a proxy prefix) and refuses a query string in it', async () => {
    const paths: string[] = [];
    const proxy = createServer((request, response) => {
      paths.push(request.url ?? '');
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/p4p/`;
    const [prefixed, withQuery] = await Promise.all([
      runCli(['ping', 'live.fyre.co', 'ada', '--key', 'any-key-0123456789abcdef', '--url', base]),
      runCli(['ping', 'live.fyre.co', 'ada', '--key', 'any-key-0123456789abcdef', '--url', `${base}?x=1`]),
    ]).finally(() => proxy.close());
    assert.equal(prefixed.code, 0, prefixed.stderr);
    assert.deepEqual(paths, ['/p4p/api/v3_0/user/ada/refresh']);
    assert.match(assertOneLineRefusal(withQuery, 'query'), /--url must be p4p's base URL, http:\/\/ or https:\/\/ without a query string/);
  });

  test('a second serve on the same data directory is refused while the first runs', async () => {
    const line = assertOneLineRefusal(await runCli(['serve', '--port', '0', '--data', data]), 'second serve');
    assert.match(line, /another p4p serve/);
    const health = await serve.request('/healthz');
    await health.arrayBuffer();
    assert.equal(health.status, 200, 'the first serve still runs');
  });

  test('a serve on a port already in use is refused with one line naming the address', async () => {
    const { port } = new URL(serve.url!);
    const line = assertOneLineRefusal(await runCli(['serve', '--port', port, '--data', dataDirs.make()]), 'port in use');
    assert.match(line, new RegExp(`:${port}\\b`));
  });
});
