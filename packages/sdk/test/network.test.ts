import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  MAX_BULK_USER_IDS,
  Network,
  P4pApiError,
  P4pInputError,
  P4pNetworkError,
  readValidToken,
  REQUEST_TOKEN_SECONDS,
  validateToken,
} from 'p4p-sdk';
import { MAX_BULK_USER_IDS as SERVER_MAX_BULK_USER_IDS } from '../../server/src/http/routes/ping-routes.js';
import { readJson, startHarness, type Harness, type TestNetwork } from '../../server/test/support/p4p-harness.js';
import { PullEndpoint } from '../../server/test/support/pull-endpoint.js';
import { p4pError, ScriptedServer } from './support/scripted-server.js';

/** Fast retries, so the failure paths finish quickly; the budget still bounds every call. */
const FAST_RETRY = { baseDelayMs: 10, maxDelayMs: 50, totalTimeoutMs: 2_000 };

function networkFor(harness: Harness, net: TestNetwork, retry = FAST_RETRY): Network {
  return new Network({ name: net.name, key: net.key, url: harness.url, retry });
}

async function isRecorded(harness: Harness, net: TestNetwork, userId: string): Promise<boolean> {
  const { status, body } = await readJson(harness, net, `/api/v3.0/user/${userId}/profile`);
  assert.ok(status === 200 || body.code === 'user_not_found', JSON.stringify(body));
  return status === 200;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => assert.fail('expected a rejection'),
    (error: unknown) => error,
  );
}

describe('Network against a real p4p', () => {
  let harness: Harness;
  let endpoint: PullEndpoint;
  before(async () => {
    harness = await startHarness();
    endpoint = await PullEndpoint.start();
  });
  after(async () => {
    await harness.close();
    await endpoint.close();
  });

  it('setUserSyncUrl registers the template (p4p answers 204) and passes on its http warning', async () => {
    const net = await harness.createNetwork();
    const result = await networkFor(harness, net).setUserSyncUrl(endpoint.template);
    assert.equal(result.warnings.length, 1);
    assert.match(result.warnings[0]!, /https/i);
    const settings = await readJson(harness, net, '/api/v3.0/network/settings');
    assert.equal(settings.body.pull_profile_url, endpoint.template);
  });

  it('syncUser pings: p4p records the user and pulls it', async () => {
    const net = await harness.createNetwork({ pullUrl: endpoint.template });
    const network = networkFor(harness, net);
    assert.equal(await isRecorded(harness, net, 'ada.l'), false);
    await network.syncUser('ada.l');
    assert.equal(await isRecorded(harness, net, 'ada.l'), true);
  });

  it("syncUser pings the users '.' and '..' themselves (valid ids that are dot segments in a URL path)", async () => {
    const net = await harness.createNetwork({ pullUrl: endpoint.template });
    const network = networkFor(harness, net);
    const { id } = (await harness.server.store.getNetwork(net.name))!;
    for (const userId of ['.', '..']) {
      assert.equal(await harness.server.store.getUser(id, userId), null);
      await network.syncUser(userId);
      assert.notEqual(await harness.server.store.getUser(id, userId), null, userId);
    }
    assert.equal(await harness.server.store.getUser(id, 'refresh'), null, 'not the user of the collapsed path');
  });

  it('syncUsers sends 2 500 ids in bulk pings of at most 1 000 (the server limit), duplicates merged', async () => {
    assert.equal(MAX_BULK_USER_IDS, SERVER_MAX_BULK_USER_IDS);
    const net = await harness.createNetwork({ pullUrl: endpoint.template });
    const ids = Array.from({ length: 2500 }, (_, i) => `bulk-${i}`);
    await networkFor(harness, net).syncUsers([...ids, 'bulk-0', 'bulk-1']);
    for (const id of ['bulk-0', 'bulk-999', 'bulk-1000', 'bulk-1999', 'bulk-2000', 'bulk-2499']) {
      assert.equal(await isRecorded(harness, net, id), true, id);
    }
  });

  it('rejects with the server code and message: wrong key (403), no pull URL yet (409)', async () => {
    const net = await harness.createNetwork();
    const wrongKey = new Network({ name: net.name, key: 'not-the-key', url: harness.url, retry: FAST_RETRY });
    const forged = await rejection(wrongKey.syncUser('ada'));
    assert.ok(forged instanceof P4pApiError);
    assert.equal(forged.status, 403);
    assert.equal(forged.code, 'token_invalid');
    assert.match(forged.message, /signature/);

    const unregistered = await rejection(networkFor(harness, net).syncUser('ada'));
    assert.ok(unregistered instanceof P4pApiError);
    assert.deepEqual([unregistered.status, unregistered.code], [409, 'pull_url_not_registered']);
  });

  it('checks its input before sending anything', async () => {
    const net = await harness.createNetwork({ pullUrl: endpoint.template });
    const network = networkFor(harness, net);
    await assert.rejects(network.syncUser('no spaces'), P4pInputError);
    await assert.rejects(network.syncUsers(['ok', 'bad/id']), /userIds\[1\]: user id must be 1–255 characters/);
    // eslint-disable-next-line no-sparse-arrays
    await assert.rejects(network.syncUsers(['ok', , 'fine'] as string[]), /userIds\[1\]: user id must be .*; got undefined/);
    await assert.rejects(network.syncUser('ok', { signal: AbortSignal.abort(new Error('given up')) }), /given up/);
    assert.throws(() => networkFor(harness, net, { totalTimeout: 5 } as never), /retry\.totalTimeout is not a retry setting; the settings are totalTimeoutMs, attemptTimeoutMs, baseDelayMs, maxDelayMs/);
    for (const [setting, value] of [['attemptTimeoutMs', 1.5], ['totalTimeoutMs', 2 ** 31], ['maxDelayMs', -1]] as const) {
      assert.throws(
        () => networkFor(harness, net, { ...FAST_RETRY, [setting]: value }),
        new RegExp(`retry\\.${setting} must be a whole number of ms from 0 to 2147483647 \\(about 24 days\\); got ${value}`),
      );
    }
    // The same rules and words as p4p's registration, checked before anything is sent.
    await assert.rejects(network.setUserSyncUrl('https://example.com/profile'), /^P4pInputError: template does not contain \{id\}/);
    await assert.rejects(network.setUserSyncUrl('ftp://example.com/{id}'), /template uses the ftp scheme/);
    await assert.rejects(network.setUserSyncUrl(`https://example.com/{id}?${'x'.repeat(2048)}`), /the limit is 2048/);
    await assert.rejects(network.setUserSyncUrl('https://{id}.example.com/'), /template has \{id\} in the host/);
    await assert.rejects(network.setUserSyncUrl('https://u:p@example.com/{id}'), /template contains a user name or password/);
    await assert.rejects(new Network({ name: net.name, key: net.key }).syncUser('ada'), /this Network has no url/);
    assert.equal(await isRecorded(harness, net, 'ok'), false);
  });
});

describe('Network retries a real p4p that is over its rate limit (429 + Retry-After)', () => {
  let harness: Harness;
  before(async () => {
    harness = await startHarness({ pingRateLimit: { perSecond: 5, burst: 1000 } });
  });
  after(() => harness.close());

  it('waits as told and succeeds; gives up at once when Retry-After is beyond its budget', async () => {
    const endpoint = await PullEndpoint.start();
    try {
      const net = await harness.createNetwork({ pullUrl: endpoint.template });
      const network = networkFor(harness, net, { ...FAST_RETRY, totalTimeoutMs: 10_000 });
      await network.syncUsers(Array.from({ length: 1000 }, (_, i) => `drain-${i}`));

      const impatient = networkFor(harness, net, { ...FAST_RETRY, totalTimeoutMs: 500 });
      const limited = await rejection(impatient.syncUser('late'));
      assert.ok(limited instanceof P4pApiError);
      assert.deepEqual([limited.status, limited.code, limited.retryAfterMs], [429, 'rate_limited', 1000]);

      await network.syncUser('late');
      assert.equal(await isRecorded(harness, net, 'late'), true);
    } finally {
      await endpoint.close();
    }
  });
});

describe('Network retries (against a scripted HTTP server)', () => {
  const servers: ScriptedServer[] = [];
  async function scripted(script: Parameters<typeof ScriptedServer.start>[0]): Promise<ScriptedServer> {
    const server = await ScriptedServer.start(script);
    servers.push(server);
    return server;
  }
  after(() => Promise.all(servers.map((server) => server.close())));
  const NAME = 'retry.fyre.co';
  const KEY = 'retry-key';

  it('retries 503 and 502 with a fresh system token each time, then succeeds', async () => {
    const server = await scripted((response, index) => {
      if (index === 0) p4pError(response, 503, 'store_unavailable', { 'retry-after': '0' });
      else if (index === 1) response.writeHead(502, { 'content-type': 'text/html' }).end('<h1>Bad gateway</h1>');
      else response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    });
    await new Network({ name: NAME, key: KEY, url: `${server.url}/p4p/`, retry: FAST_RETRY }).syncUser('ada');
    assert.equal(server.received.length, 3);
    for (const request of server.received) {
      assert.equal(request.method, 'POST');
      assert.equal(request.path, '/p4p/api/v3.0/user/ada/refresh');
      const token = request.headers.authorization?.replace(/^Bearer /, '');
      assert.equal(validateToken(token, KEY), true);
    }
  });

  it('signs each request with a short-lived system token; setUserSyncUrl sends it once, in the header', async () => {
    const server = await scripted((response) => response.writeHead(204).end());
    const before = Date.now() / 1000;
    await new Network({ name: NAME, key: KEY, url: server.url, retry: FAST_RETRY }).setUserSyncUrl('https://example.com/?id={id}');
    const [request] = server.received;
    assert.deepEqual(Object.fromEntries(new URLSearchParams(request!.body)), { pull_profile_url: 'https://example.com/?id={id}' });
    const claims = readValidToken(request!.headers.authorization?.replace(/^Bearer /, ''), KEY);
    assert.equal(claims?.user_id, 'system');
    assert.ok(claims!.expires <= Date.now() / 1000 + REQUEST_TOKEN_SECONDS && claims!.expires >= before + REQUEST_TOKEN_SECONDS);
  });

  it('Retry-After: 0 does not replace the backoff (no hot loop)', async () => {
    const server = await scripted((response) => p4pError(response, 503, 'store_unavailable', { 'retry-after': '0' }));
    const retry = { baseDelayMs: 200, maxDelayMs: 200, totalTimeoutMs: 2_000, attemptTimeoutMs: 500 };
    const error = await rejection(new Network({ name: NAME, key: KEY, url: server.url, retry }).syncUser('ada'));
    assert.ok(error instanceof P4pApiError);
    assert.equal(error.code, 'store_unavailable');
    // Waits of 0–200 ms (100 on average) within 2 s: about 20 requests; a hot loop sends thousands.
    assert.ok(server.received.length < 200, `${server.received.length} requests`);
  });

  it('does not start an attempt with less than min(attemptTimeoutMs, 1 s) of the budget left', async () => {
    const server = await scripted((response) => p4pError(response, 429, 'rate_limited', { 'retry-after': '1' }));
    const retry = { ...FAST_RETRY, totalTimeoutMs: 1_500 };
    const error = await rejection(new Network({ name: NAME, key: KEY, url: server.url, retry }).syncUser('ada'));
    assert.ok(error instanceof P4pApiError);
    assert.deepEqual([error.status, error.code, error.retryAfterMs], [429, 'rate_limited', 1000]);
    assert.equal(server.received.length, 1, 'a wait of 1 s would have left 0.5 s for the attempt');
  });

  it('an attempt cut short by the budget that times out rejects with the last answer, not a network error', async () => {
    // 503 once, then no answer at all.
    const server = await scripted((response, index) => {
      if (index === 0) p4pError(response, 503, 'store_unavailable', { 'retry-after': '0' });
    });
    const retry = { ...FAST_RETRY, totalTimeoutMs: 1_500, attemptTimeoutMs: 5_000 };
    const error = await rejection(new Network({ name: NAME, key: KEY, url: server.url, retry }).syncUser('ada'));
    assert.ok(error instanceof P4pApiError, String(error));
    assert.deepEqual([error.status, error.code, error.retryAfterMs], [503, 'store_unavailable', 0]);
    assert.equal(server.received.length, 2);
  });

  it('gives up on a server that never answers after attemptTimeoutMs, and retries within the budget', async () => {
    const server = await scripted(() => undefined);
    const retry = { ...FAST_RETRY, totalTimeoutMs: 1_500, attemptTimeoutMs: 200 };
    const error = await rejection(new Network({ name: NAME, key: KEY, url: server.url, retry }).syncUser('ada'));
    assert.ok(error instanceof P4pNetworkError);
    assert.ok(server.received.length > 1, `${server.received.length} attempts`);
    assert.match(String((error.cause as Error).name), /TimeoutError/);
  });

  it('reads at most 64 KiB of an error body: one that never ends still gives the error', async () => {
    const server = await scripted((response) => {
      response.writeHead(400, { 'content-type': 'text/plain' });
      response.write('x'.repeat(100 * 1024));
    });
    const retry = { ...FAST_RETRY, totalTimeoutMs: 60_000, attemptTimeoutMs: 30_000 };
    const error = await rejection(new Network({ name: NAME, key: KEY, url: server.url, retry }).syncUser('ada'));
    assert.ok(error instanceof P4pApiError);
    assert.equal(error.code, 'http_400');
    assert.match(error.message, /without a p4p error body: x{200}; check the url option$/);
  });

  it('syncUsers has one budget for all its chunks: none starts with less than an attempt\'s floor left, and it says how many ids were recorded', async () => {
    const server = await scripted((response) => setTimeout(() => response.writeHead(200).end('{"status":"ok"}'), 1_300));
    const retry = { ...FAST_RETRY, totalTimeoutMs: 2_000, attemptTimeoutMs: 1_900 };
    const ids = Array.from({ length: MAX_BULK_USER_IDS + 1 }, (_, i) => `u${i}`);
    const error = await rejection(new Network({ name: NAME, key: KEY, url: server.url, retry }).syncUsers(ids));
    assert.ok(error instanceof P4pNetworkError, String(error));
    assert.equal(error.message, `syncUsers used up its 2000 ms budget after p4p recorded ${MAX_BULK_USER_IDS} of ${MAX_BULK_USER_IDS + 1} ids; call it again (ids pinged twice cost at most one more pull)`);
    assert.equal(server.received.length, 1, 'the second chunk was never sent');
  });

  it('an aborted signal ends the call during a wait, with the signal reason', async () => {
    const controller = new AbortController();
    const server = await scripted((response) => {
      p4pError(response, 503, 'store_unavailable', { 'retry-after': '5' });
      controller.abort(new Error('shutting down'));
    });
    const network = new Network({ name: NAME, key: KEY, url: server.url });
    await assert.rejects(network.syncUser('ada', { signal: controller.signal }), /shutting down/);
    assert.equal(server.received.length, 1);
  });

  it('a 200 that is not p4p\'s {"status":"ok"} (a captive portal, another server) rejects: nothing was recorded', async () => {
    for (const answer of ['<html>Sign in to the Wi-Fi</html>', '', '{"status":"queued"}']) {
      const server = await scripted((response) => response.writeHead(200, { 'content-type': 'text/html' }).end(answer));
      const network = new Network({ name: NAME, key: KEY, url: server.url, retry: FAST_RETRY });
      for (const call of [network.syncUser('ada'), network.syncUsers(['ada', 'bob'])]) {
        const error = await rejection(call);
        assert.ok(error instanceof P4pApiError, String(error));
        assert.equal(error.code, 'http_200');
        assert.match(error.message, /answered 200 without p4p's \{"status":"ok"\}: nothing was recorded; check the url option$/);
      }
      assert.equal(server.received.length, 2, 'not retried: a wrong url does not right itself');
    }
  });

  it("a server's error text reaches the caller with controls and bidi overrides escaped", async () => {
    const server = await scripted((response) =>
      response.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 'x\u001b[31m', message: '\u202eevil\u0007' })),
    );
    const error = await rejection(new Network({ name: NAME, key: KEY, url: server.url, retry: FAST_RETRY }).syncUser('ada'));
    assert.ok(error instanceof P4pApiError);
    assert.equal(error.code, 'x\\u001b[31m');
    assert.equal(error.message, '\\u202eevil\\u0007');
  });

  it('does not retry a 4xx other than 429', async () => {
    const server = await scripted((response) => p4pError(response, 400, 'invalid_body'));
    const error = await rejection(new Network({ name: NAME, key: KEY, url: server.url, retry: FAST_RETRY }).syncUsers(['a']));
    assert.ok(error instanceof P4pApiError);
    assert.deepEqual([error.status, error.code, error.message], [400, 'invalid_body', 'invalid_body for a test']);
    assert.equal(server.received.length, 1);
    assert.deepEqual(JSON.parse(server.received[0]!.body), { user_ids: ['a'] });
  });

  it('keeps retrying a 5xx until its budget is spent, then rejects with the last answer', async () => {
    const server = await scripted((response) => response.writeHead(500).end('oops'));
    const error = await rejection(
      new Network({ name: NAME, key: KEY, url: server.url, retry: { ...FAST_RETRY, totalTimeoutMs: 300, attemptTimeoutMs: 100 } }).syncUser('ada'),
    );
    assert.ok(error instanceof P4pApiError);
    assert.equal(error.code, 'http_500');
    assert.match(error.message, /p4p answered 500 .*without a p4p error body: oops/);
    assert.ok(server.received.length > 1, `retried (${server.received.length} requests)`);
  });

  it('rejects with P4pNetworkError when p4p cannot be reached, after retrying within the budget', async () => {
    const server = await scripted((response) => response.end());
    const url = server.url;
    await server.close();
    const error = await rejection(new Network({ name: NAME, key: KEY, url, retry: { ...FAST_RETRY, totalTimeoutMs: 300 } }).syncUser('ada'));
    assert.ok(error instanceof P4pNetworkError);
    assert.match(error.message, /could not reach p4p at http:\/\/127\.0\.0\.1:\d+\/api\/v3\.0\/user\/ada\/refresh within 300 ms \(\d+ attempts\)/);
    assert.ok(error.cause instanceof Error);
  });
});
