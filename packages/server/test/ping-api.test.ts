import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { API_ERRORS } from '../src/http/api-errors.js';
import { expectError } from './support/expect-error.js';
import { buildSystemToken, signToken } from '../src/tokens/sign-token.js';
import { PullEndpoint } from './support/pull-endpoint.js';
import { readJson, startHarness, type Harness, type TestNetwork } from './support/p4p-harness.js';

/** Spec sections 2 and 3 over real HTTP: the ping, the bulk ping, and every way they are refused. */

const PATHS = ['/api/v3.0', '/api/v3_0'] as const;

/** The four places a token may travel (spec section 3). */
const TRANSPORTS = {
  query: (token: string): [string, RequestInit] => [`?lftoken=${encodeURIComponent(token)}`, {}],
  'form body': (token: string): [string, RequestInit] => [
    '',
    { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ lftoken: token }) },
  ],
  'JSON body': (token: string): [string, RequestInit] => [
    '',
    { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ lftoken: token }) },
  ],
  'Bearer header': (token: string): [string, RequestInit] => ['', { headers: { authorization: `Bearer ${token}` } }],
} as const;

type Transport = keyof typeof TRANSPORTS;
const TRANSPORT_NAMES = Object.keys(TRANSPORTS) as Transport[];

const b64url = (value: string | Buffer): string => Buffer.from(value).toString('base64url');
const nowSeconds = (): number => Date.now() / 1000;


async function expectOkJson(response: Response): Promise<unknown> {
  const text = await response.text();
  assert.equal(response.status, 200, text);
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
  const body = JSON.parse(text) as unknown;
  assert.ok(body !== null && typeof body === 'object' && !Array.isArray(body), `200 body must be a JSON object: ${text}`);
  return body;
}

describe('ping API', () => {
  let harness: Harness;
  let endpoint: PullEndpoint;

  before(async () => {
    harness = await startHarness();
    // Answers 404 for everyone: pings here are about the answer to the ping, not the pull.
    endpoint = await PullEndpoint.start();
  });
  after(async () => {
    await harness.close();
    await endpoint.close();
  });

  const registeredNetwork = (options: { owners?: string[] } = {}) => harness.createNetwork({ pullUrl: endpoint.template, ...options });

  function pingWith(apiPath: string, userId: string, transport: Transport, token: string): Promise<Response> {
    const [query, init] = TRANSPORTS[transport](token);
    return harness.request(`${apiPath}/user/${encodeURIComponent(userId)}/refresh${query}`, { method: 'POST', ...init });
  }

  function bulkPing(body: unknown, token: string): Promise<Response> {
    return harness.request('/api/v3.0/users/refresh', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });
  }

  describe('accepted pings', () => {
    for (const apiPath of PATHS) {
      for (const transport of TRANSPORT_NAMES) {
        test(`${apiPath}/user/{id}/refresh with the token in the ${transport} → 200 JSON, and the user is recorded`, async () => {
          const net = await registeredNetwork();
          const userId = `u-${transport.replace(/\W/g, '')}`;
          await expectOkJson(await pingWith(apiPath, userId, transport, net.token()));
          const known = await readJson(harness, net, `/api/v3.0/user/${userId}/profile`);
          assert.equal(known.status, 200, `p4p must know the pinged user: ${JSON.stringify(known.body)}`);
        });
      }
    }

    for (const contentType of ['text/plain', 'application/octet-stream', 'application/json', 'application/x-www-form-urlencoded']) {
      test(`an empty ${contentType} body with the token in the query → 200, and the user is recorded`, async () => {
        const net = await registeredNetwork();
        const userId = `empty-${contentType.replace(/\W/g, '')}`;
        const response = await harness.request(`/api/v3_0/user/${userId}/refresh?lftoken=${net.token()}`, {
          method: 'POST',
          headers: { 'content-type': contentType },
          body: '',
        });
        await expectOkJson(response);
        assert.equal((await readJson(harness, net, `/api/v3.0/user/${userId}/profile`)).status, 200);
      });
    }

    test('a user id of exactly 255 characters of every allowed kind is accepted', async () => {
      const net = await registeredNetwork();
      const userId = 'Az09_.-'.repeat(37).slice(0, 254) + 'x';
      assert.equal(userId.length, 255);
      await expectOkJson(await pingWith('/api/v3_0', userId, 'form body', net.token()));
    });

    test('a token of a network owner counts as a system token', async () => {
      const net = await registeredNetwork({ owners: ['owner-7'] });
      const ownerToken = signToken({ domain: net.name, user_id: 'owner-7', expires: nowSeconds() + 600 }, net.key);
      await expectOkJson(await pingWith('/api/v3_0', 'someone', 'form body', ownerToken));
    });

    test('a token expired less than 60 s ago is accepted (clock skew)', async () => {
      const net = await registeredNetwork();
      const token = signToken({ domain: net.name, user_id: 'system', expires: nowSeconds() - 30 }, net.key);
      await expectOkJson(await pingWith('/api/v3_0', 'skewed', 'form body', token));
    });
  });

  describe('refused tokens → 403', () => {
    /** Each case builds its token for the network under test. */
    const BAD_TOKENS: Array<{ name: string; code: keyof typeof API_ERRORS; token: (net: TestNetwork) => string }> = [
      { name: 'garbage', code: 'token_invalid', token: () => 'not-a-token' },
      { name: 'three garbage parts', code: 'token_invalid', token: () => 'abc.def.ghi' },
      {
        name: 'signed with the wrong key',
        code: 'token_invalid',
        token: (net) => buildSystemToken(net.name, `${net.key}-but-not-quite`, 600),
      },
      {
        name: 'alg none, unsigned',
        code: 'token_invalid',
        token: (net) =>
          `${b64url('{"alg":"none","typ":"JWT"}')}.${b64url(JSON.stringify({ domain: net.name, user_id: 'system', expires: nowSeconds() + 600 }))}.`,
      },
      {
        name: 'alg HS512, signed with the network key',
        code: 'token_invalid',
        token: (net) => {
          const input = `${b64url('{"typ":"JWT","alg":"HS512"}')}.${b64url(JSON.stringify({ domain: net.name, user_id: 'system', expires: nowSeconds() + 600 }))}`;
          return `${input}.${createHmac('sha512', net.key).update(input).digest('base64url')}`;
        },
      },
      {
        name: 'a user token whose payload was changed to user_id system',
        code: 'token_invalid',
        token: (net) => {
          const expires = nowSeconds() + 600;
          const [header, , signature] = signToken({ domain: net.name, user_id: 'mallory', expires }, net.key).split('.');
          return `${header}.${b64url(JSON.stringify({ domain: net.name, user_id: 'system', expires }))}.${signature}`;
        },
      },
      {
        name: 'expired 90 s ago (beyond the 60 s skew)',
        code: 'token_expired',
        token: (net) => signToken({ domain: net.name, user_id: 'system', expires: nowSeconds() - 90 }, net.key),
      },
      {
        name: 'for a domain p4p does not know',
        code: 'unknown_network',
        token: (net) => buildSystemToken('nowhere-known.fyre.co', net.key, 600),
      },
      {
        name: 'a user token (not system)',
        code: 'not_system_token',
        token: (net) => signToken({ domain: net.name, user_id: 'alice', display_name: 'Alice', expires: nowSeconds() + 600 }, net.key),
      },
    ];

    let net: TestNetwork;
    before(async () => {
      net = await registeredNetwork();
    });

    const NO_TOKEN: Array<[string, RequestInit]> = [
      ['no body, no query, no header', {}],
      ['a form body without lftoken', { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'user=nobody' }],
      ['a JSON body without lftoken', { headers: { 'content-type': 'application/json' }, body: '{}' }],
    ];
    for (const [what, init] of NO_TOKEN) {
      test(`${what} → token_missing`, async () => {
        const response = await harness.request('/api/v3_0/user/nobody/refresh', { method: 'POST', ...init });
        const body = await expectError(response, 403, 'token_missing');
        assert.match(body.message, /lftoken/);
      });
    }

    for (const transport of TRANSPORT_NAMES) {
      for (const bad of BAD_TOKENS) {
        test(`${bad.name}, in the ${transport} → ${bad.code}`, async () => {
          await expectError(await pingWith('/api/v3_0', 'victim', transport, bad.token(net)), 403, bad.code);
        });
      }
    }

    test('an empty lftoken in the form body → token_missing', async () => {
      await expectError(await pingWith('/api/v3_0', 'victim', 'form body', ''), 403, 'token_missing');
    });

    test('an Authorization header of another scheme (e.g. Basic from a proxy) is not taken for the token', async () => {
      const basic = `Basic ${b64url('system:secret')}`;
      const alone = await harness.request('/api/v3_0/user/victim/refresh', { method: 'POST', headers: { authorization: basic } });
      await expectError(alone, 403, 'token_missing');
      const withToken = await harness.request('/api/v3_0/user/victim/refresh', {
        method: 'POST',
        headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ lftoken: net.token() }),
      });
      assert.equal(withToken.status, 200, await withToken.text());
    });

    test('a refused token records nothing', async () => {
      const wrongKey = buildSystemToken(net.name, 'another-key', 600);
      await expectError(await pingWith('/api/v3_0', 'never-recorded', 'form body', wrongKey), 403, 'token_invalid');
      const known = await readJson(harness, net, '/api/v3.0/user/never-recorded/profile');
      assert.equal(known.status, 404);
      assert.equal(known.body.code, 'user_not_found');
    });
  });

  describe('malformed requests', () => {
    const BAD_USER_IDS: Array<[string, string]> = [
      ['a space', 'has space'],
      ['a dollar sign', 'dollar$sign'],
      ['a non-ASCII letter', 'ümlaut'],
      ['an encoded slash', 'a/b'],
      ['a quote', 'say"hi'],
      ['256 characters', 'a'.repeat(256)],
    ];
    for (const [what, userId] of BAD_USER_IDS) {
      for (const apiPath of PATHS) {
        test(`a user id with ${what} on ${apiPath} → 400 invalid_user_id`, async () => {
          const net = await registeredNetwork();
          await expectError(await pingWith(apiPath, userId, 'form body', net.token()), 400, 'invalid_user_id');
        });
      }
    }

    test('a user id with a bidi override or zero-width character is quoted escaped, so it cannot reorder the message', async () => {
      const net = await registeredNetwork();
      const error = await expectError(await pingWith('/api/v3_0', 'evil\u202egnp.exe\u200b', 'form body', net.token()), 400, 'invalid_user_id');
      assert.match(error.message, /got "evil\\u202egnp\.exe\\u200b"$/);
      assert.doesNotMatch(error.message, /[\u202e\u200b]/);
      const tagged = await expectError(await pingWith('/api/v3_0', 'a\u{e0041}b\u007f', 'form body', net.token()), 400, 'invalid_user_id');
      assert.match(tagged.message, /got "a\\udb40\\udc41b\\u007f"$/, 'both halves of a tag character, and DEL, are escaped');
    });

    for (const rawId of ['a%ZZb', 'a%E0%A4%A']) {
      test(`a user id with a malformed percent-escape (${rawId}) → 400 invalid_user_id`, async () => {
        const net = await registeredNetwork();
        const response = await harness.request(`/api/v3_0/user/${rawId}/refresh?lftoken=${net.token()}`, { method: 'POST' });
        await expectError(response, 400, 'invalid_user_id');
      });
    }

    test('a network without a pull URL → 409 pull_url_not_registered (ping and bulk ping)', async () => {
      const net = await harness.createNetwork();
      const single = await expectError(await pingWith('/api/v3_0', 'early', 'form body', net.token()), 409, 'pull_url_not_registered');
      assert.match(single.message, /pull/i);
      await expectError(await bulkPing({ user_ids: ['early'] }, net.token()), 409, 'pull_url_not_registered');
      const known = await readJson(harness, net, '/api/v3.0/user/early/profile');
      assert.equal(known.status, 404, 'a refused ping must not be recorded');
    });

    test('a body over the limit → 413 body_too_large', async () => {
      const net = await registeredNetwork();
      const response = await harness.request('/api/v3_0/user/big/refresh', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ lftoken: net.token(), padding: 'x'.repeat(2 * 1024 * 1024) }),
      });
      assert.match((await expectError(response, 413, 'body_too_large')).message, /over this route's limit of 16384 bytes/);
    });

    test('a bulk body over the limit → 413 body_too_large', async () => {
      const net = await registeredNetwork();
      const response = await harness.request('/api/v3.0/users/refresh', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${net.token()}` },
        body: JSON.stringify({ user_ids: ['a'], padding: 'x'.repeat(2 * 1024 * 1024) }),
      });
      assert.match((await expectError(response, 413, 'body_too_large')).message, /over this route's limit of 524288 bytes/);
    });

    for (const contentType of ['application/xml', 'text/plain', 'multipart/form-data; boundary=x']) {
      test(`a ${contentType} body carrying lftoken → 415 unsupported_media_type`, async () => {
        const net = await registeredNetwork();
        const response = await harness.request('/api/v3_0/user/typed/refresh', {
          method: 'POST',
          headers: { 'content-type': contentType },
          body: `lftoken=${net.token()}`,
        });
        await expectError(response, 415, 'unsupported_media_type');
      });
    }

    test('a text/plain body over the limit → 415, refused without reading it', async () => {
      const net = await registeredNetwork();
      const response = await harness.request(`/api/v3_0/user/typed/refresh?lftoken=${net.token()}`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: 'x'.repeat(2 * 1024 * 1024),
      });
      await expectError(response, 415, 'unsupported_media_type');
    });

    test('a JSON body that would poison a prototype (__proto__, constructor.prototype) → 400 invalid_body', async () => {
      const net = await registeredNetwork();
      for (const body of ['{"__proto__": {"polluted": true}}', '{"constructor": {"prototype": {"polluted": true}}}']) {
        const response = await harness.request(`/api/v3_0/user/poison/refresh?lftoken=${net.token()}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
        const error = await expectError(response, 400, 'invalid_body');
        assert.match(error.message, /has a "__proto__" key, or a "constructor" key holding "prototype"; p4p refuses both/);
      }
      assert.equal(({} as { polluted?: boolean }).polluted, undefined);
    });

    test('a compressed body → 415 unsupported_media_type naming the coding, with Accept-Encoding: identity; identity is plain', async () => {
      const net = await registeredNetwork();
      const form = new URLSearchParams({ lftoken: net.token() }).toString();
      const bodies: Array<[string, string, string | Blob]> = [
        ['gzip', 'application/json', new Blob([gzipSync(JSON.stringify({ lftoken: net.token() }))])],
        ['br', 'application/x-www-form-urlencoded', form],
      ];
      for (const [coding, type, body] of bodies) {
        const response = await harness.request('/api/v3_0/user/coded/refresh', {
          method: 'POST',
          headers: { 'content-type': type, 'content-encoding': coding },
          body,
        });
        assert.equal(response.headers.get('accept-encoding'), 'identity');
        const error = await expectError(response, 415, 'unsupported_media_type');
        assert.equal(error.message, `the body has Content-Encoding: ${coding}; p4p reads bodies without compression only: send it uncompressed`);
      }
      assert.equal((await readJson(harness, net, '/api/v3.0/user/coded/profile')).status, 404, 'a refused ping must not be recorded');
      const plain = await harness.request('/api/v3_0/user/coded/refresh', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-encoding': 'identity' },
        body: form,
      });
      await expectOkJson(plain);
      const unknownRoute = await harness.request('/api/v3.0/nope', { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: '{}' });
      await expectError(unknownRoute, 404, 'not_found');
    });

    test('an unknown route → 404 not_found, whatever its body', async () => {
      const response = await harness.request('/api/v3.0/nope', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' });
      await expectError(response, 404, 'not_found');
    });

    test("requests Node's HTTP parser refuses get { code, message } too: 400 malformed_request, 431 headers_too_large", async () => {
      const { port } = new URL(harness.url);
      const garbage = await rawExchange(Number(port), 'NOT HTTP AT ALL\r\n\r\n');
      assert.match(garbage.head, /^HTTP\/1\.1 400 /);
      assert.equal(garbage.body.code, 'malformed_request');
      assert.equal(garbage.body.message, API_ERRORS.malformed_request.message);
      const longUserId = 'a'.repeat(20_000);
      const tooLong = await rawExchange(Number(port), `POST /api/v3_0/user/${longUserId}/refresh HTTP/1.1\r\nHost: p4p\r\nContent-Length: 0\r\n\r\n`);
      assert.match(tooLong.head, /^HTTP\/1\.1 431 /);
      assert.equal(tooLong.body.code, 'headers_too_large');
      assert.match(tooLong.body.message ?? '', /over 16 KiB/);
    });

    test('a JSON body that is not an object → 400 invalid_body; other fields beside lftoken are ignored', async () => {
      const net = await registeredNetwork();
      for (const [body, type] of [['[]', 'an array'], ['"x"', 'a string'], ['null', 'null'], ['5', 'a number']] as const) {
        const response = await harness.request(`/api/v3_0/user/shape/refresh?lftoken=${net.token()}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
        const error = await expectError(response, 400, 'invalid_body');
        assert.equal(error.message, `the body must be a form or a JSON object such as {"lftoken": "…"}, not ${type}`);
      }
      const known = await readJson(harness, net, '/api/v3.0/user/shape/profile');
      assert.equal(known.status, 404, 'a refused ping must not be recorded');
      const extra = await harness.request('/api/v3_0/user/shape/refresh', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ lftoken: net.token(), source: 'crm' }),
      });
      assert.equal(extra.status, 200, await extra.text());
    });

    test('malformed JSON → 400 invalid_body', async () => {
      const net = await registeredNetwork();
      const response = await harness.request(`/api/v3_0/user/json/refresh?lftoken=${net.token()}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"lftoken": ',
      });
      const error = await expectError(response, 400, 'invalid_body');
      assert.match(error.message, /^the body is not valid JSON: .*JSON/);
      const hidden = await harness.request(`/api/v3_0/user/json/refresh?lftoken=${net.token()}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '\u202eabc',
      });
      const quoted = await expectError(hidden, 400, 'invalid_body');
      assert.match(quoted.message, /\\u202eabc/, 'the parser quotes the body: a bidi override in it is escaped');
      assert.doesNotMatch(quoted.message, /\u202e/);
    });

    test('malformed JSON in a bulk ping → 400 invalid_body', async () => {
      const net = await registeredNetwork();
      const response = await harness.request('/api/v3.0/users/refresh', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${net.token()}` },
        body: '{"user_ids": ["a",',
      });
      await expectError(response, 400, 'invalid_body');
    });
  });

  describe('bulk ping', () => {
    const ids = (count: number, prefix = 'bulk'): string[] => Array.from({ length: count }, (_, i) => `${prefix}-${i}`);

    test('one id, with the token in the JSON body → 200 and the user is recorded', async () => {
      const net = await registeredNetwork();
      const response = await harness.request('/api/v3.0/users/refresh', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ user_ids: ['solo'], lftoken: net.token() }),
      });
      await expectOkJson(response);
      assert.equal((await readJson(harness, net, '/api/v3.0/user/solo/profile')).status, 200);
    });

    test('a form body lists ids as repeated user_ids fields, one of them included → 200 and each is recorded', async () => {
      const net = await registeredNetwork();
      for (const userIds of [['form-solo'], ['form-a', 'form-b']]) {
        const form = new URLSearchParams(userIds.map((userId) => ['user_ids', userId]));
        form.append('lftoken', net.token());
        const response = await harness.request('/api/v3.0/users/refresh', {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: form,
        });
        assert.equal(((await expectOkJson(response)) as { user_ids: number }).user_ids, userIds.length);
        for (const userId of userIds) assert.equal((await readJson(harness, net, `/api/v3.0/user/${userId}/profile`)).status, 200, userId);
      }
      const error = await expectError(await bulkPing({ user_ids: 'json-solo' }, net.token()), 400, 'invalid_body');
      assert.match(error.message, /^user_ids: /, 'in JSON a list is an array');
    });

    test('1000 ids of 255 characters, Bearer token → 200 and all are recorded', async () => {
      const net = await registeredNetwork();
      const userIds = ids(1000).map((id) => id.padEnd(255, 'x'));
      await expectOkJson(await bulkPing({ user_ids: userIds }, net.token()));
      // Read from the store: the read API's own handling of long ids is not what this test is about.
      const { id: networkId } = (await harness.server.store.getNetwork(net.name))!;
      for (const userId of [userIds[0]!, userIds[499]!, userIds[999]!]) {
        assert.notEqual(await harness.server.store.getUser(networkId, userId), null, `${userId.slice(0, 10)}… recorded`);
      }
    });

    test('1001 ids → 400 invalid_body that says how many are allowed', async () => {
      const net = await registeredNetwork();
      const body = await expectError(await bulkPing({ user_ids: ids(1001) }, net.token()), 400, 'invalid_body');
      assert.match(body.message, /1000/);
      assert.equal((await readJson(harness, net, '/api/v3.0/user/bulk-0/profile')).status, 404, 'nothing recorded');
    });

    test('an empty list → 400 invalid_body', async () => {
      const net = await registeredNetwork();
      await expectError(await bulkPing({ user_ids: [] }, net.token()), 400, 'invalid_body');
    });

    test('no user_ids at all → 400 invalid_body saying what to send', async () => {
      const net = await registeredNetwork();
      const error = await expectError(await bulkPing({}, net.token()), 400, 'invalid_body');
      assert.equal(error.message, 'user_ids: send the user ids as an array, e.g. {"user_ids": ["a", "b"]}');
    });

    for (const [what, bad] of [
      ['a space', 'bad id'],
      ['256 characters', 'b'.repeat(256)],
      ['an empty string', ''],
      ['a number', 42],
    ] as const) {
      test(`a list with one bad id (${what}) → 400 invalid_body, nothing recorded`, async () => {
        const net = await registeredNetwork();
        await expectError(await bulkPing({ user_ids: ['fine-1', bad] }, net.token()), 400, 'invalid_body');
        assert.equal((await readJson(harness, net, '/api/v3.0/user/fine-1/profile')).status, 404);
      });
    }

    test('a bulk ping with a user token → 403 not_system_token', async () => {
      const net = await registeredNetwork();
      const userToken = signToken({ domain: net.name, user_id: 'alice', expires: nowSeconds() + 600 }, net.key);
      await expectError(await bulkPing({ user_ids: ['x'] }, userToken), 403, 'not_system_token');
    });
  });
});

describe('ping rate limit', () => {
  let harness: Harness;
  let endpoint: PullEndpoint;

  before(async () => {
    harness = await startHarness({ pingRateLimit: { perSecond: 1, burst: 1000 } });
    endpoint = await PullEndpoint.start();
  });
  after(async () => {
    await harness.close();
    await endpoint.close();
  });

  test('a network over its limit → 429 rate_limited with Retry-After; another network is not affected', async () => {
    const net = await harness.createNetwork({ pullUrl: endpoint.template });
    const other = await harness.createNetwork({ pullUrl: endpoint.template });
    const bulk = (network: TestNetwork, prefix: string) =>
      harness.request('/api/v3.0/users/refresh', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${network.token()}` },
        body: JSON.stringify({ user_ids: Array.from({ length: 1000 }, (_, i) => `${prefix}-${i}`) }),
      });

    await expectOkJson(await bulk(net, 'first'));
    const limited = await bulk(net, 'second');
    const retryAfter = limited.headers.get('retry-after');
    const body = await expectError(limited, 429, 'rate_limited');
    assert.ok(retryAfter !== null, 'a 429 carries Retry-After');
    assert.match(retryAfter, /^\d+$/, 'Retry-After in whole seconds');
    assert.ok(Number(retryAfter) >= 1, `Retry-After ${retryAfter}`);
    assert.match(body.message, /retry/i);
    assert.equal((await readJson(harness, net, '/api/v3.0/user/second-0/profile')).status, 404, 'a refused bulk ping records nothing');

    await expectOkJson(await bulk(other, 'other'));
  });
});

/** Writes `request` as raw bytes on a fresh connection; the answer's status line and headers, and its JSON body. */
async function rawExchange(port: number, request: string): Promise<{ head: string; body: { code?: string; message?: string } }> {
  const socket = connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.write(request);
  await once(socket, 'close');
  const [head = '', body = ''] = Buffer.concat(chunks).toString('utf8').split('\r\n\r\n');
  return { head, body: JSON.parse(body) as { code?: string; message?: string } };
}
