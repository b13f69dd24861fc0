import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import Fastify, { type FastifyRequest } from 'fastify';
import { createFastifyPullHandler, createPullHandler, Network, type Profile, type ProfileInput, type PullHandlerOptions } from 'p4p-sdk';
import { readJson, startHarness, type Harness, type TestNetwork } from '../../server/test/support/p4p-harness.js';
import { waitFor } from '../../server/test/support/wait-for.js';
import { listen } from './support/listen.js';

const PROFILES = new Map<string, Profile>([
  ['ada', { id: 'ada', display_name: 'Ada L.', email: 'ada@example.com', tags: ['subscriber'], moderator: true }],
  ['grace', { id: 'grace', display_name: 'Grace H.', websites: ['https://grace.example.org'] }],
]);

/** The options every handler here shares; `warnings` collects what the dev checks say. */
function handlerOptions(network: Network, warnings: string[] = []) {
  return {
    network,
    getProfile: (userId: string) => PROFILES.get(userId),
    warn: (message: string) => warnings.push(message),
  } satisfies PullHandlerOptions;
}

/** Sends `head` (request line and headers) over a raw socket and resolves with everything the server answers. */
function rawRequest(origin: string, head: string): Promise<string> {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    let answer = '';
    const socket = connect(Number(port), hostname, () => socket.end(`${head}\r\nHost: pull.test\r\nConnection: close\r\n\r\n`));
    socket.setEncoding('utf8').on('data', (chunk: string) => (answer += chunk));
    socket.on('end', () => resolve(answer)).on('error', reject);
  });
}

/** p4p's stored user once it has pulled it with the given outcome. */
async function pulled(harness: Harness, net: TestNetwork, userId: string, outcome: string): Promise<any> {
  return waitFor(
    async () => {
      const { status, body } = await readJson(harness, net, `/api/v3.0/user/${userId}/profile`);
      return status === 200 && body.sync.last_outcome === outcome && body;
    },
    { what: `p4p to pull ${userId} with outcome ${outcome}` },
  );
}

describe('createPullHandler against a real p4p', () => {
  let harness: Harness;
  const closers: Array<() => Promise<unknown>> = [];
  before(async () => {
    harness = await startHarness();
  });
  after(async () => {
    await Promise.all(closers.map((close) => close()));
    await harness.close();
  });

  /** Registers `template` (with the server's origin) and pings `userId`; the SDK's own calls. */
  async function registerAndPing(net: TestNetwork, template: string, userId: string): Promise<void> {
    const network = new Network({ name: net.name, key: net.key, url: harness.url });
    await network.setUserSyncUrl(template);
    await network.syncUser(userId);
  }

  it('in plain node:http: p4p pulls with ?id={id}&lftoken=… and stores the profile', async () => {
    const net = await harness.createNetwork();
    const server = await listen(createPullHandler(handlerOptions(new Network({ name: net.name, key: net.key }))));
    closers.push(server.close);
    await registerAndPing(net, `${server.origin}/p4p/profile?id={id}`, 'ada');
    const stored = await pulled(harness, net, 'ada', 'ok');
    assert.deepEqual(stored.profile, PROFILES.get('ada'));
  });

  it('serves a ProfileInput with string booleans; p4p stores them as booleans', async () => {
    const net = await harness.createNetwork();
    const served: ProfileInput = { id: 'lin', display_name: 'Lin', moderator: 'true', display_rules: { bio: 'false' } };
    const server = await listen(createPullHandler({ network: new Network({ name: net.name, key: net.key }), getProfile: () => served }));
    closers.push(server.close);
    await registerAndPing(net, `${server.origin}/?id={id}`, 'lin');
    const stored = await pulled(harness, net, 'lin', 'ok');
    assert.deepEqual(stored.profile, { id: 'lin', display_name: 'Lin', moderator: true, display_rules: { bio: false } });
  });

  it('in Express with the user id in the path', async () => {
    const net = await harness.createNetwork();
    const app = express();
    app.get(
      '/users/:id',
      createPullHandler<express.Request>({
        ...handlerOptions(new Network({ name: net.name, key: net.key })),
        userId: (req) => req.params.id,
      }),
    );
    const server = await listen(app);
    closers.push(server.close);
    await registerAndPing(net, `${server.origin}/users/{id}`, 'grace');
    assert.deepEqual((await pulled(harness, net, 'grace', 'ok')).profile, PROFILES.get('grace'));
  });

  it('in Fastify through createFastifyPullHandler', async () => {
    const net = await harness.createNetwork();
    const app = Fastify();
    app.get(
      '/p4p/:id',
      createFastifyPullHandler<FastifyRequest<{ Params: { id: string } }>>({
        ...handlerOptions(new Network({ name: net.name, key: net.key })),
        userId: (request) => request.params.id,
      }),
    );
    const origin = await app.listen({ port: 0, host: '127.0.0.1' });
    closers.push(() => app.close());
    await registerAndPing(net, `${origin}/p4p/{id}`, 'ada');
    assert.deepEqual((await pulled(harness, net, 'ada', 'ok')).profile, PROFILES.get('ada'));
  });

  it('in Fastify, 403 without a valid token and 404 for an unknown user', async () => {
    const network = new Network({ name: 'labs.fyre.co', key: 'the-key' });
    const app = Fastify();
    app.get(
      '/p4p/:id',
      createFastifyPullHandler<FastifyRequest<{ Params: { id: string } }>>({
        ...handlerOptions(network),
        userId: (request) => request.params.id,
      }),
    );
    const origin = await app.listen({ port: 0, host: '127.0.0.1' });
    closers.push(() => app.close());
    const forged = await fetch(`${origin}/p4p/ada?lftoken=${new Network({ name: 'labs.fyre.co', key: 'other' }).buildLivefyreToken()}`);
    assert.deepEqual([forged.status, await forged.text()], [403, '']);
    const missing = await fetch(`${origin}/p4p/nobody?lftoken=${network.buildLivefyreToken()}`);
    assert.deepEqual([missing.status, await missing.text()], [404, '']);
  });

  it('p4p records an authentication failure when the endpoint has another key, and a 404 for an unknown user', async () => {
    const net = await harness.createNetwork();
    const wrong = await listen(createPullHandler(handlerOptions(new Network({ name: net.name, key: 'another-key' }))));
    closers.push(wrong.close);
    await registerAndPing(net, `${wrong.origin}/?id={id}`, 'ada');
    const refused = await pulled(harness, net, 'ada', 'auth_failed');
    assert.equal(refused.profile, null);

    const right = await listen(createPullHandler(handlerOptions(new Network({ name: net.name, key: net.key }))));
    closers.push(right.close);
    await registerAndPing(net, `${right.origin}/?id={id}`, 'nobody');
    await pulled(harness, net, 'nobody', 'not_found');
  });
});

describe('createPullHandler answers', () => {
  const NAME = 'labs.fyre.co';
  const network = new Network({ name: NAME, key: 'the-key' });
  let origin: string;
  let close: () => Promise<void>;
  const errors: unknown[] = [];
  before(async () => {
    ({ origin, close } = await listen(
      createPullHandler({
        ...handlerOptions(network),
        getProfile: (userId) => {
          if (userId === 'broken') throw new Error('database down');
          return PROFILES.get(userId);
        },
        onError: (error) => errors.push(error),
      }),
    ));
  });
  after(() => close());

  const get = (query: string, init?: RequestInit) => fetch(`${origin}/profile?${query}`, init);
  const token = network.buildLivefyreToken();

  it('refuses at creation an option of the wrong type or an unknown one, instead of a 500 on every pull', () => {
    const getProfile = (): null => null;
    assert.throws(() => createPullHandler({ network, getProfile, userId: 'id' } as never), /^TypeError: createPullHandler: userId must be a function, got string$/);
    assert.throws(() => createPullHandler({ network, getProfile, devChecks: 'false' } as never), /devChecks must be a boolean, got string/);
    assert.throws(() => createPullHandler({ network, getProfile, userid: () => 'x' } as never), /"userid" is not an option; the options are network, getProfile, userId, devChecks, warn, onError/);
    assert.throws(() => (createPullHandler as (options?: unknown) => unknown)(), /createPullHandler needs \{ network/);
    assert.throws(() => createFastifyPullHandler({ network, getProfile, userId: 'id' } as never), /createPullHandler: userId must be a function, got string/);
  });

  it('403 with no body without a valid system token of the network', async () => {
    const tokens = [
      '',
      'lftoken=junk',
      `lftoken=${new Network({ name: NAME, key: 'other-key' }).buildLivefyreToken()}`,
      `lftoken=${new Network({ name: 'other.fyre.co', key: 'the-key' }).buildLivefyreToken()}`,
      `lftoken=${network.buildUserAuthToken('ada', 'Ada', 60)}`,
    ];
    for (const query of tokens) {
      const response = await get(`id=ada&${query}`);
      assert.equal(response.status, 403, query);
      assert.equal(await response.text(), '');
    }
  });

  it('200 with the profile as JSON, not cacheable', async () => {
    const response = await get(`id=ada&lftoken=${token}`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type')!, /^application\/json/);
    assert.equal(response.headers.get('cache-control'), 'no-store');
    assert.deepEqual(await response.json(), PROFILES.get('ada'));
  });

  it('404 with no body for an unknown user; 400 saying what to fix without a valid id', async () => {
    const missing = await get(`id=nobody&lftoken=${token}`);
    assert.deepEqual([missing.status, await missing.text()], [404, '']);
    for (const query of [`lftoken=${token}`, `id=a%20b&lftoken=${token}`]) {
      const response = await get(query);
      assert.equal(response.status, 400);
      const body = (await response.json()) as { code: string; message: string };
      assert.equal(body.code, 'invalid_user_id');
      assert.match(body.message, /\?id=\{id\}/);
    }
  });

  it('500 leaking nothing when getProfile throws, and the error goes to onError', async () => {
    const response = await get(`id=broken&lftoken=${token}`);
    assert.equal(response.status, 500);
    assert.doesNotMatch(await response.text(), /database down/);
    assert.match(String(errors.at(-1)), /database down/);
  });

  it('HEAD: the headers of the GET answer (content-length included) and no body', async () => {
    const got = await get(`id=ada&lftoken=${token}`);
    const getBody = await got.text();
    const head = await get(`id=ada&lftoken=${token}`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String(Buffer.byteLength(getBody)));
    assert.equal(head.headers.get('content-type'), got.headers.get('content-type'));
    assert.equal(await head.text(), '');
  });

  it('stays up and answers 400 to a request target that is not a URL', async () => {
    const answer = await rawRequest(origin, 'GET http://[ HTTP/1.1');
    assert.match(answer, /^HTTP\/1\.1 400 /);
    assert.match(answer, /"code":"invalid_request"/);
    const after = await get(`id=ada&lftoken=${token}`);
    assert.equal(after.status, 200);
  });

  it('405 for anything but GET and HEAD', async () => {
    const response = await get(`id=ada&lftoken=${token}`, { method: 'POST' });
    assert.equal(response.status, 405);
    assert.equal(response.headers.get('allow'), 'GET, HEAD');
  });
});

describe('createPullHandler never rejects', () => {
  const network = new Network({ name: 'labs.fyre.co', key: 'the-key' });
  const token = network.buildLivefyreToken();

  it('a throwing userId gives a 500 and goes to onError; a throwing onError is logged and the server keeps serving', async () => {
    const reported: unknown[] = [];
    const logged: unknown[][] = [];
    const consoleError = console.error;
    console.error = (...args: unknown[]) => logged.push(args);
    const server = await listen(
      createPullHandler({
        network,
        getProfile: (userId) => PROFILES.get(userId),
        userId: (req) => {
          const id = new URL(req.url!, 'http://x').searchParams.get('id');
          if (id === 'bad-userid') throw new Error('userId failed');
          return id;
        },
        onError: (error) => {
          reported.push(error);
          throw new Error('onError failed');
        },
      }),
    );
    try {
      const response = await fetch(`${server.origin}/?id=bad-userid&lftoken=${token}`);
      assert.equal(response.status, 500);
      assert.deepEqual(await response.json(), { code: 'internal_error', message: 'the profile could not be read' });
      assert.match(String(reported[0]), /userId failed/);
      assert.match(String(logged[0]?.[1]), /onError failed/);
      const ada = await fetch(`${server.origin}/?id=ada&lftoken=${token}`);
      assert.deepEqual(await ada.json(), PROFILES.get('ada'));
    } finally {
      console.error = consoleError;
      await server.close();
    }
  });
});

describe('createPullHandler dev checks', () => {
  const network = new Network({ name: 'labs.fyre.co', key: 'the-key' });
  const token = network.buildLivefyreToken();

  async function serveTwice(profile: Profile | Record<string, unknown>, devChecks?: boolean): Promise<string[]> {
    const warnings: string[] = [];
    const server = await listen(
      createPullHandler({
        network,
        getProfile: () => profile as Profile,
        warn: (message) => warnings.push(message),
        ...(devChecks === undefined ? {} : { devChecks }),
      }),
    );
    try {
      for (let i = 0; i < 2; i++) {
        const response = await fetch(`${server.origin}/?id=ada&lftoken=${token}`);
        assert.equal(response.status, 200, 'the profile is served as it is, whatever the checks say');
        await response.arrayBuffer();
      }
    } finally {
      await server.close();
    }
    return warnings;
  }

  it('warns once per field (in the order p4p checks them) about what p4p would drop', async () => {
    const warnings = await serveTwice({
      id: 'ada',
      display_name: 'Ada',
      websites: ['javascript:alert(1)', 'https://ok.example', 'data:text/html,x'],
      tags: ['fine', 'not fine'],
    });
    assert.deepEqual(warnings, [
      'p4p-sdk: p4p would drop part of the profile served for user "ada": tags[1]: must be 1–63 characters of A–Z, a–z, 0–9 or _; dropped',
      'p4p-sdk: p4p would drop part of the profile served for user "ada": websites[0]: not an absolute http(s) URL of at most 2048 characters; dropped',
    ]);
  });

  it('warns once when p4p would reject the profile', async () => {
    const warnings = await serveTwice({ id: 'someone-else', display_name: 'Ada' });
    assert.deepEqual(warnings, [
      'p4p-sdk: p4p would reject the profile served for user "ada": id must equal the pinged user id "ada"; got "someone-else"',
    ]);
  });

  it('checks the profile as serialised: a URL object with toJSON is a valid image_url', async () => {
    const profile = { id: 'ada', display_name: 'Ada', image_url: new URL('https://example.com/ada.png') };
    assert.deepEqual(await serveTwice(profile), []);
  });

  it('says nothing about a valid profile, or when turned off', async () => {
    assert.deepEqual(await serveTwice(PROFILES.get('ada')!), []);
    assert.deepEqual(await serveTwice({ id: 'ada', display_name: '' }, false), []);
  });
});
