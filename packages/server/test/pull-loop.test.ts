import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { PullEndpoint, serveProfiles, type PullBehaviour } from './support/pull-endpoint.js';
import { ping, readJson, startHarness, type Harness, type TestNetwork } from './support/p4p-harness.js';
import { waitFor } from './support/wait-for.js';

const ADA = {
  id: 'ada',
  display_name: 'Ada L.',
  email: 'ada@example.com',
  image_url: 'https://example.com/avatars/ada-1.jpg',
  autofollow_conversations: 'true',
  websites: ['https://ada.example.org'],
};

/** A promise the test opens when it wants held pulls to be answered. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

async function profileOf(harness: Harness, network: TestNetwork, userId: string) {
  return (await readJson(harness, network, `/api/v3.0/user/${userId}/profile`)).body;
}

/** Waits until the user's sync is settled (idle or failed) and returns the profile answer. */
function settled(harness: Harness, network: TestNetwork, userId: string) {
  return waitFor(async () => {
    const body = await profileOf(harness, network, userId);
    return (body.sync?.state === 'idle' || body.sync?.state === 'failed') && body;
  }, { what: `${userId} to settle` });
}

async function attemptsOf(harness: Harness, network: TestNetwork, userId: string) {
  return (await readJson(harness, network, `/api/v3.0/user/${userId}/attempts`)).body.attempts;
}

describe('the pull loop', () => {
  let harness: Harness;
  let endpoint: PullEndpoint;
  /** Per-user answers for the misbehaving-endpoint cases; others get stored profiles. */
  const behaviours = new Map<string, PullBehaviour>();

  before(async () => {
    harness = await startHarness();
    endpoint = await PullEndpoint.start();
    const profiles = serveProfiles(endpoint.profiles);
    endpoint.behaviour = (userId, response, pull) => (behaviours.get(userId) ?? profiles)(userId, response, pull);
  });
  after(async () => {
    await harness.close();
    await endpoint.close();
  });

  /** A network of its own per test, so one test's failing endpoint cannot pause another's. */
  const network = () => harness.createNetwork({ pullUrl: endpoint.template });

  test('a ping is answered 200, pulled with a system lftoken, and stored as version 1', async () => {
    const net = await network();
    endpoint.profiles.set('ada', ADA);
    assert.equal((await ping(harness, net, 'ada')).status, 200);
    const stored = await settled(harness, net, 'ada');
    assert.equal(stored.version, 1);
    assert.equal(stored.profile.display_name, 'Ada L.');
    assert.equal(stored.profile.autofollow_conversations, true);
    assert.equal(stored.sync.last_outcome, 'ok');
    assert.equal(stored.sync.state, 'idle');
    const pull = endpoint.pullsFor('ada').at(-1)!;
    assert.ok(pull.query.get('lftoken'));
    assert.equal(pull.headers.accept, 'application/json');
    assert.match(String(pull.headers['user-agent']), /^p4p\//);
  });

  test('a change becomes version 2 with the changed fields; an identical answer is recorded as unchanged', async () => {
    const net = await network();
    endpoint.profiles.set('bob', { id: 'bob', display_name: 'Bob' });
    await ping(harness, net, 'bob');
    await waitFor(async () => (await profileOf(harness, net, 'bob')).version === 1, { what: 'bob v1' });
    endpoint.profiles.set('bob', { id: 'bob', display_name: 'Robert', bio: 'hi' });
    await ping(harness, net, 'bob');
    await waitFor(async () => (await profileOf(harness, net, 'bob')).version === 2, { what: 'bob v2' });
    const { body } = await readJson(harness, net, '/api/v3.0/user/bob/versions');
    assert.deepEqual(body.versions.map((v: { version: number; changed: string[] }) => [v.version, v.changed]), [
      [2, ['bio', 'display_name']],
      [1, ['display_name', 'id']],
    ]);
    await ping(harness, net, 'bob');
    await waitFor(async () => (await attemptsOf(harness, net, 'bob'))[0]?.outcome === 'unchanged', { what: 'an unchanged attempt' });
    assert.equal((await profileOf(harness, net, 'bob')).version, 2);
  });

  test('versions pages with limit and before, and refuses counts that are not plain whole numbers given once', async () => {
    const net = await network();
    endpoint.profiles.set('cy', { id: 'cy', display_name: 'Cy' });
    await ping(harness, net, 'cy');
    await waitFor(async () => (await profileOf(harness, net, 'cy')).version === 1, { what: 'cy v1' });
    endpoint.profiles.set('cy', { id: 'cy', display_name: 'Cyrus' });
    await ping(harness, net, 'cy');
    await waitFor(async () => (await profileOf(harness, net, 'cy')).version === 2, { what: 'cy v2' });
    const versionsOf = async (query: string) => (await readJson(harness, net, `/api/v3.0/user/cy/versions?${query}`)).body.versions.map((v: { version: number }) => v.version);
    assert.deepEqual(await versionsOf('limit=1'), [2]);
    assert.deepEqual(await versionsOf('before=2'), [1]);
    for (const query of ['limit=', 'limit=0x10', 'limit=1e3', 'limit=%2B5', 'limit=1&limit=2', 'limit=1001', 'limit=0']) {
      const { status, body } = await readJson(harness, net, `/api/v3.0/user/cy/versions?${query}`);
      assert.equal(status, 400, query);
      assert.equal(body.code, 'invalid_body', query);
      assert.match(body.message, /^limit: give it once, as a whole number from 1 to 1000 in digits$/, query);
    }
    const { body } = await readJson(harness, net, '/api/v3.0/user/cy/versions?before=abc');
    assert.match(body.message, /^before: give it once, as a whole number from 1 to/);
  });

  test('p4p answers 404 user_not_found for a user it never heard of', async () => {
    const net = await network();
    const { status, body } = await readJson(harness, net, '/api/v3.0/user/nobody/profile');
    assert.equal(status, 404);
    assert.equal(body.code, 'user_not_found');
  });

  const permanentFailures: Array<[string, PullBehaviour, string, RegExp]> = [
    ['invalid JSON', (_id, res) => void res.writeHead(200).end('{"id": "x", nope'), 'invalid_response', /not JSON/],
    [
      'latin-1 bytes, not UTF-8',
      (id, res) => void res.writeHead(200, { 'content-type': 'application/json; charset=iso-8859-1' }).end(Buffer.from(`{"id":"${id}","display_name":"Ren\u00e9"}`, 'latin1')),
      'invalid_response',
      /not valid UTF-8/,
    ],
    [
      'a gzip-compressed profile',
      (id, res) => void res.writeHead(200, { 'content-encoding': 'gzip' }).end(gzipSync(JSON.stringify({ id, display_name: 'Zipped' }))),
      'invalid_response',
      /Content-Encoding: gzip, though p4p asks for none \(Accept-Encoding: identity\); send the profile JSON uncompressed/,
    ],
    ['an id that is not the pinged user', (_id, res) => void res.writeHead(200).end(JSON.stringify({ id: 'mallory', display_name: 'M' })), 'invalid_response', /id/],
    ['a missing display_name', (id, res) => void res.writeHead(200).end(JSON.stringify({ id })), 'invalid_response', /display_name/],
    ['403', (_id, res) => void res.writeHead(403).end(), 'auth_failed', /key/],
    ['404', (_id, res) => void res.writeHead(404).end(), 'not_found', /./],
    ['a redirect', (_id, res) => void res.writeHead(302, { location: 'https://elsewhere.example/u' }).end(), 'redirect', /elsewhere\.example/],
    ['a 5 MB body', (_id, res) => streamMegabytes(res, 5), 'too_large', /./],
  ];
  for (const [answer, behaviour, outcome, message] of permanentFailures) {
    test(`an endpoint answering ${answer} is recorded as ${outcome}, keeps the old profile, and is not retried`, async () => {
      const net = await network();
      const userId = `u${Math.random().toString(36).slice(2, 10)}`;
      endpoint.profiles.set(userId, { id: userId, display_name: 'Before' });
      await ping(harness, net, userId);
      await waitFor(async () => (await profileOf(harness, net, userId)).version === 1, { what: 'the first version' });
      behaviours.set(userId, behaviour);
      await ping(harness, net, userId);
      const stored = await waitFor(async () => {
        const body = await profileOf(harness, net, userId);
        return body.sync.state === 'failed' && body;
      }, { what: `${userId} to fail` });
      assert.equal(stored.sync.last_outcome, outcome);
      assert.match(stored.sync.last_message ?? '', message);
      assert.equal(stored.profile.display_name, 'Before');
      assert.equal(stored.version, 1);
      const attempts = await attemptsOf(harness, net, userId);
      assert.deepEqual(attempts.map((a: { outcome: string }) => a.outcome), [outcome, 'ok']);
      assert.equal(endpoint.pullsFor(userId).length, 2, 'no retry after a permanent failure');
    });
  }

  test('a javascript: URL is never stored; the rest of the profile is, with a warning on the attempt', async () => {
    const net = await network();
    endpoint.profiles.set('eve', { id: 'eve', display_name: 'Eve', image_url: 'javascript:alert(1)', profile_url: 'https://example.com/eve' });
    await ping(harness, net, 'eve');
    const stored = await settled(harness, net, 'eve');
    assert.equal(stored.sync.last_outcome, 'ok');
    assert.equal(stored.profile.image_url, undefined);
    assert.equal(stored.profile.profile_url, 'https://example.com/eve');
    const [attempt] = await attemptsOf(harness, net, 'eve');
    assert.ok(attempt.warnings.some((w: string) => w.includes('image_url')), attempt.warnings.join('; '));
  });

  test('a NUL character in an answer is kept as its escape in the attempt, which every store can hold', async () => {
    const net = await network();
    behaviours.set('nul', (_id, res) => void res.writeHead(200).end('oops\u0000nul'));
    await ping(harness, net, 'nul');
    const stored = await waitFor(async () => {
      const body = await profileOf(harness, net, 'nul');
      return body.sync.state === 'failed' && body;
    }, { what: 'nul to fail' });
    const [attempt] = await attemptsOf(harness, net, 'nul');
    assert.equal(attempt.outcome, 'invalid_response');
    assert.equal(attempt.response_excerpt, 'oops\\u0000nul');
    for (const text of [attempt.message, stored.sync.last_message]) assert.ok(!text.includes('\u0000'), text);
  });

  test('an endpoint echoing its request does not get the lftoken stored in the attempt excerpt', async () => {
    const net = await network();
    behaviours.set('echo', (id, res, pull) => {
      res.writeHead(200).end(JSON.stringify({ id, display_name: 'Echo', request: `${pull.path}?${pull.query}` }));
    });
    await ping(harness, net, 'echo');
    await settled(harness, net, 'echo');
    const token = endpoint.pullsFor('echo')[0]!.query.get('lftoken')!;
    const [attempt] = await attemptsOf(harness, net, 'echo');
    assert.match(attempt.response_excerpt, /lftoken=\[redacted\]/);
    assert.ok(!attempt.response_excerpt.includes(token));
  });

  test('a 5xx is retried with backoff, then the 200 is stored', async () => {
    const net = await network();
    endpoint.profiles.set('flaky', { id: 'flaky', display_name: 'Flaky' });
    let failures = 1;
    behaviours.set('flaky', (id, res, pull) => {
      if (failures-- > 0) return void res.writeHead(503).end('busy');
      serveProfiles(endpoint.profiles)(id, res, pull);
    });
    await ping(harness, net, 'flaky');
    const stored = await settled(harness, net, 'flaky');
    assert.equal(stored.sync.last_outcome, 'ok');
    const attempts = await attemptsOf(harness, net, 'flaky');
    assert.deepEqual(attempts.map((a: { outcome: string; http_status: number }) => [a.outcome, a.http_status]), [['ok', 200], ['http_error', 503]]);
  });

  test('Retry-After is honoured before the next attempt', async () => {
    const net = await network();
    endpoint.profiles.set('slowdown', { id: 'slowdown', display_name: 'S' });
    let failures = 1;
    behaviours.set('slowdown', (id, res, pull) => {
      if (failures-- > 0) return void res.writeHead(429, { 'retry-after': '1' }).end();
      serveProfiles(endpoint.profiles)(id, res, pull);
    });
    await ping(harness, net, 'slowdown');
    await settled(harness, net, 'slowdown');
    const [first, second] = endpoint.pullsFor('slowdown');
    assert.ok(first && second);
    assert.ok(second.startedAt - first.startedAt >= 1000, `retried after ${second.startedAt - first.startedAt} ms`);
  });

  test('a burst of 200 pings for one user costs at most two pulls and ends on the latest value', async () => {
    const net = await network();
    const held = gate();
    endpoint.profiles.set('burst', { id: 'burst', display_name: 'v0' });
    behaviours.set('burst', async (id, res, pull) => {
      await held.opened;
      serveProfiles(endpoint.profiles)(id, res, pull);
    });
    const answers = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        endpoint.profiles.set('burst', { id: 'burst', display_name: `v${i + 1}` });
        return (await ping(harness, net, 'burst')).status;
      }),
    );
    assert.ok(answers.every((status) => status === 200));
    const last = (endpoint.profiles.get('burst') as { display_name: string }).display_name;
    held.open();
    await waitFor(async () => {
      const body = await profileOf(harness, net, 'burst');
      return body.sync.state === 'idle' && body.profile?.display_name === last;
    }, { what: `burst to end on ${last}` });
    assert.ok(endpoint.pullsFor('burst').length <= 2, `${endpoint.pullsFor('burst').length} pulls`);
  });

  test('with a coalescing window, a pinged user waits it out, and pings meanwhile do not push its pull later', async () => {
    const windowMs = 60_000;
    const coalescing = await startHarness({ pull: { coalesceMs: windowMs } });
    try {
      const net = await coalescing.createNetwork({ pullUrl: endpoint.template });
      assert.equal((await ping(coalescing, net, 'patient')).status, 200);
      const first = (await profileOf(coalescing, net, 'patient')).sync;
      assert.equal(first.state, 'waiting');
      assert.equal(Date.parse(first.next_attempt_at) - Date.parse(first.last_ping_at), windowMs);
      assert.equal((await ping(coalescing, net, 'patient')).status, 200);
      const second = (await profileOf(coalescing, net, 'patient')).sync;
      assert.equal(second.next_attempt_at, first.next_attempt_at);
      assert.equal(endpoint.pullsFor('patient').length, 0);
    } finally {
      await coalescing.close();
    }
  });

  test('every acknowledged ping is followed by a pull that started after it was sent', async () => {
    const net = await network();
    const users = Array.from({ length: 20 }, (_, i) => `g${i}`);
    const sentAt: Array<[string, number]> = [];
    for (const userId of users) endpoint.profiles.set(userId, { id: userId, display_name: 'start' });
    await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const userId = users[i % users.length]!;
        endpoint.profiles.set(userId, { id: userId, display_name: `change ${i}` });
        const sent = Date.now();
        if ((await ping(harness, net, userId)).status === 200) sentAt.push([userId, sent]);
      }),
    );
    for (const userId of users) {
      const latest = (endpoint.profiles.get(userId) as { display_name: string }).display_name;
      await waitFor(async () => {
        const body = await profileOf(harness, net, userId);
        return body.sync.state === 'idle' && body.profile.display_name === latest;
      }, { what: `${userId} to end on ${latest}` });
    }
    for (const [userId, sent] of sentAt) {
      assert.ok(endpoint.pullsFor(userId).some((pull) => pull.startedAt >= sent), `no pull of ${userId} after ${sent}`);
    }
    for (const userId of users) {
      const pulls = endpoint.pullsFor(userId).sort((a, b) => a.startedAt - b.startedAt);
      pulls.slice(1).forEach((pull, i) => assert.ok(pull.startedAt >= pulls[i]!.finishedAt!, `pulls of ${userId} overlap`));
    }
  });
});

describe('an endpoint that never answers', () => {
  test('times out, is retried, and the user ends visibly failed', async () => {
    const harness = await startHarness({ pull: { totalTimeoutMs: 300, connectTimeoutMs: 200 } });
    const endpoint = await PullEndpoint.start();
    try {
      endpoint.behaviour = () => undefined;
      const net = await harness.createNetwork({ pullUrl: endpoint.template });
      await ping(harness, net, 'hang');
      const stored = await waitFor(async () => {
        const body = await profileOf(harness, net, 'hang');
        return body.sync.state === 'failed' && body;
      }, { what: 'hang to fail' });
      assert.equal(stored.sync.last_outcome, 'timeout');
      assert.match(stored.sync.last_message, /gave up after 3 attempts/);
      assert.equal(stored.sync.attempts, 3);
      assert.equal(endpoint.pullsFor('hang').length, 3);
    } finally {
      await harness.close();
      await endpoint.close();
    }
  });
});

describe('limits between networks', () => {
  test('the per-network cap holds and a saturated network does not starve another', async () => {
    const harness = await startHarness({ pull: { concurrency: 8, perNetworkConcurrency: 3 } });
    const slow = await PullEndpoint.start();
    const fast = await PullEndpoint.start();
    const held = gate();
    try {
      slow.behaviour = async (id, res, pull) => {
        await held.opened;
        serveProfiles(slow.profiles)(id, res, pull);
      };
      const busy = await harness.createNetwork({ pullUrl: slow.template });
      const other = await harness.createNetwork({ pullUrl: fast.template });
      const busyUsers = Array.from({ length: 30 }, (_, i) => `b${i}`);
      for (const id of busyUsers) slow.profiles.set(id, { id, display_name: id });
      const bulk = await harness.request('/api/v3.0/users/refresh', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${busy.token()}` },
        body: JSON.stringify({ user_ids: busyUsers }),
      });
      assert.equal(bulk.status, 200);
      await waitFor(() => slow.pulls.length === 3, { what: 'the busy network to fill its cap' });
      for (const id of ['o1', 'o2', 'o3', 'o4', 'o5']) {
        fast.profiles.set(id, { id, display_name: id });
        await ping(harness, other, id);
      }
      for (const id of ['o1', 'o2', 'o3', 'o4', 'o5']) await settled(harness, other, id);
      assert.equal(slow.pulls.length, 3, 'the busy network stayed at its cap while the other was served');
      held.open();
      for (const id of busyUsers) await settled(harness, busy, id);
      assert.equal(slow.maxInFlight, 3);
    } finally {
      held.open();
      await harness.close();
      await slow.close();
      await fast.close();
    }
  });
});

describe('the SSRF guard at pull time', () => {
  test('a pull URL on loopback is refused as blocked_target without a request, once private targets are no longer allowed', async () => {
    const endpoint = await PullEndpoint.start();
    const harness = await startHarness({ allowPrivateTargets: false });
    try {
      // As if registered while the operator allowed private targets.
      const net = await harness.createNetwork({ pullUrl: endpoint.template });
      await ping(harness, net, 'local');
      const stored = await settled(harness, net, 'local');
      assert.equal(stored.sync.state, 'failed');
      assert.equal(stored.sync.last_outcome, 'blocked_target');
      assert.equal(endpoint.pulls.length, 0);
    } finally {
      await harness.close();
      await endpoint.close();
    }
  });
});

/** Streams `megabytes` of a JSON-looking body without a Content-Length, until the client hangs up. */
function streamMegabytes(response: ServerResponse, megabytes: number): void {
  response.writeHead(200, { 'content-type': 'application/json' });
  const chunk = Buffer.alloc(64 * 1024, 'a');
  let sent = 0;
  const pump = (): void => {
    while (sent < megabytes * 1024 * 1024 && !response.destroyed) {
      sent += chunk.length;
      if (!response.write(chunk)) return void response.once('drain', pump);
    }
    response.end();
  };
  pump();
}
