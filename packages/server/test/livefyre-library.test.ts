import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import livefyre from 'livefyre';
import { PullEndpoint } from './support/pull-endpoint.js';
import { readJson, startHarness, type Harness, type TestNetwork } from './support/p4p-harness.js';
import { waitFor } from './support/wait-for.js';

/**
 * The official `livefyre` npm package (2.0.9) driven against p4p: its own
 * setUserSyncUrl and syncUser do real HTTP to the harness over loopback.
 */

/** The two network calls of the official Network class that test/livefyre.d.ts does not declare. */
interface NetworkCalls {
  /** POSTs actor_token and pull_profile_url form-encoded to Domain.quill(network); an error unless the answer is exactly 204. */
  setUserSyncUrl(urlTemplate: string, callback: (error?: Error) => void): void;
  /** POSTs lftoken form-encoded to `${Domain.quill(network)}/api/v3_0/user/${userId}/refresh`; an error unless 200. */
  syncUser(userId: string, callback: (error?: Error) => void): void;
}
type OfficialNetwork = ReturnType<typeof livefyre.getNetwork> & NetworkCalls;

/** `livefyre/lib/api/domain`: the object whose `quill` gives every network call its base URL. */
interface LivefyreDomain {
  quill: (core: unknown) => string;
}

// The same CommonJS module instance that lib/core/network.js requires.
const domain = createRequire(import.meta.url)('livefyre/lib/api/domain') as LivefyreDomain;

/** Runs a node-style call of the library; resolves with its error, if any. */
function callback(run: (done: (error?: Error) => void) => void): Promise<Error | undefined> {
  return new Promise((resolve) => run((error) => resolve(error ?? undefined)));
}

describe('the official livefyre library against p4p', () => {
  let harness: Harness;
  let endpoint: PullEndpoint;
  let originalQuill: LivefyreDomain['quill'];
  /** Networks the library has asked for a quill URL, to prove it really went through Domain.quill. */
  const quillCalls: unknown[] = [];

  before(async () => {
    harness = await startHarness();
    endpoint = await PullEndpoint.start();
    originalQuill = domain.quill;
    domain.quill = (core) => {
      quillCalls.push(core);
      return harness.url;
    };
  });
  after(async () => {
    domain.quill = originalQuill;
    await harness.close();
    await endpoint.close();
  });

  /** A p4p network and the library's Network for it; p4p's harness names end with fyre.co, as the library requires. */
  async function networkPair(options: { pullUrl?: string } = {}): Promise<{ net: TestNetwork; official: OfficialNetwork }> {
    const net = await harness.createNetwork(options);
    assert.match(net.name, /fyre\.co$/);
    return { net, official: livefyre.getNetwork(net.name, net.key) as OfficialNetwork };
  }

  async function settingsOf(net: TestNetwork): Promise<string | null> {
    const settings = await readJson(harness, net, '/api/v3.0/network/settings');
    assert.equal(settings.status, 200, JSON.stringify(settings.body));
    return settings.body.pull_profile_url as string | null;
  }

  test('setUserSyncUrl gets no error (p4p answered exactly 204) and the template is stored', async () => {
    const { net, official } = await networkPair();
    const calls = quillCalls.length;
    const error = await callback((done) => official.setUserSyncUrl(endpoint.template, done));
    assert.equal(error, undefined, error?.message);
    assert.ok(quillCalls.length > calls, 'the library built its URL with Domain.quill');
    assert.equal(await settingsOf(net), endpoint.template);
  });

  test('setUserSyncUrl with a template p4p refuses gets the library error, nothing stored', async () => {
    const { net, official } = await networkPair();
    const error = await callback((done) => official.setUserSyncUrl('ftp://example.com/users/{id}', done));
    assert.ok(error instanceof Error, 'the library reports the refusal');
    assert.match(error.message, /400/);
    assert.equal(await settingsOf(net), null);
  });

  test('syncUser gets no error (200), and the user is then pulled and stored', async () => {
    const { net, official } = await networkPair({ pullUrl: endpoint.template });
    endpoint.profiles.set('lib-ada', { id: 'lib-ada', display_name: 'Ada via the library', email: 'ada@example.com' });
    const error = await callback((done) => official.syncUser('lib-ada', done));
    assert.equal(error, undefined, error?.message);
    const stored = await waitFor(
      async () => {
        const { status, body } = await readJson(harness, net, '/api/v3.0/user/lib-ada/profile');
        return status === 200 && body.profile !== null && body;
      },
      { what: 'lib-ada to be pulled and stored' },
    );
    assert.equal(stored.profile.display_name, 'Ada via the library');
    assert.equal(stored.version, 1);
    assert.ok(endpoint.pullsFor('lib-ada').length >= 1);
  });

  test('the whole flow through the library: setUserSyncUrl, then syncUser', async () => {
    const { net, official } = await networkPair();
    endpoint.profiles.set('lib-bob', { id: 'lib-bob', display_name: 'Bob' });
    assert.equal(await callback((done) => official.setUserSyncUrl(endpoint.template, done)), undefined);
    assert.equal(await callback((done) => official.syncUser('lib-bob', done)), undefined);
    await waitFor(async () => (await readJson(harness, net, '/api/v3.0/user/lib-bob/profile')).body.profile?.display_name === 'Bob', {
      what: 'lib-bob stored',
    });
  });

  test("the lftoken p4p sends with a pull passes the library's validateLivefyreToken", async () => {
    const { net, official } = await networkPair({ pullUrl: endpoint.template });
    endpoint.profiles.set('lib-cyd', { id: 'lib-cyd', display_name: 'Cyd' });
    assert.equal(await callback((done) => official.syncUser('lib-cyd', done)), undefined);
    const pull = await waitFor(() => endpoint.pullsFor('lib-cyd')[0], { what: 'a pull of lib-cyd' });
    const lftoken = pull.query.get('lftoken');
    assert.ok(lftoken !== null && lftoken.length > 0, `the pull carries an lftoken: ${pull.path}`);
    assert.equal(official.validateLivefyreToken(lftoken), true);
    // And the check is a real one: another key's validator rejects it (jsonwebtoken throws).
    assert.throws(() => livefyre.getNetwork(net.name, 'not-the-key').validateLivefyreToken(lftoken));
  });

  test('a token from buildUserAuthToken for a non-system user is refused with 403 not_system_token', async () => {
    const { net, official } = await networkPair({ pullUrl: endpoint.template });
    const token = official.buildUserAuthToken('alice', 'Alice', 3600);
    for (const [path, field] of [
      ['/api/v3_0/user/alice/refresh', 'lftoken'],
      ['/', 'actor_token'],
    ] as const) {
      const response = await harness.request(path, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ [field]: token, pull_profile_url: 'https://evil.example.com/{id}' }),
      });
      const body = (await response.json()) as Record<string, unknown>;
      assert.equal(response.status, 403, `${path}: ${JSON.stringify(body)}`);
      assert.deepEqual(body, { code: 'not_system_token', message: body.message });
      assert.equal(typeof body.message, 'string');
    }
    assert.equal(await settingsOf(net), endpoint.template, 'the user token changed nothing');
  });

  test("the library's system token is accepted, and a network object with the wrong key gets the library error", async () => {
    const { net } = await networkPair({ pullUrl: endpoint.template });
    const wrongKey = livefyre.getNetwork(net.name, `${net.key}-old`) as OfficialNetwork;
    const error = await callback((done) => wrongKey.syncUser('lib-dee', done));
    assert.ok(error instanceof Error);
    assert.match(error.message, /403/);
    const right = livefyre.getNetwork(net.name, net.key);
    const response = await harness.request('/api/v3.0/users/refresh', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${right.buildLivefyreToken()}` },
      body: JSON.stringify({ user_ids: ['lib-dee'] }),
    });
    assert.equal(response.status, 200, await response.text());
  });
});
