import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { API_ERRORS } from '../src/http/api-errors.js';
import { expectError } from './support/expect-error.js';
import { buildSystemToken, signToken } from '../src/tokens/sign-token.js';
import { readJson, startHarness, type Harness, type TestNetwork } from './support/p4p-harness.js';

/** Spec section 4 over real HTTP: registering the pull URL template, and the JSON settings API. */


async function expect204(response: Response): Promise<void> {
  const text = await response.text();
  assert.equal(response.status, 204, `expected 204, got ${response.status}: ${text}`);
  assert.equal(text, '');
}

/** `POST /` as the official libraries' setUserSyncUrl does it: form-encoded body. */
function registerByForm(harness: Harness, params: Record<string, string>): Promise<Response> {
  return harness.request('/', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params),
  });
}

/** `POST /?actor_token=…&pull_profile_url=…`, no body. */
function registerByQuery(harness: Harness, params: Record<string, string>): Promise<Response> {
  return harness.request(`/?${new URLSearchParams(params)}`, { method: 'POST' });
}

async function storedTemplate(harness: Harness, net: TestNetwork): Promise<string | null> {
  const settings = await readJson(harness, net, '/api/v3.0/network/settings');
  assert.equal(settings.status, 200, JSON.stringify(settings.body));
  assert.equal(settings.body.name, net.name);
  return settings.body.pull_profile_url as string | null;
}

const userToken = (net: TestNetwork, userId = 'alice'): string =>
  signToken({ domain: net.name, user_id: userId, display_name: 'A', expires: Date.now() / 1000 + 600 }, net.key);

describe('registering the pull URL (POST /)', () => {
  let harness: Harness;
  before(async () => {
    harness = await startHarness();
  });
  after(() => harness.close());

  test('a JSON body that is not an object → 400 invalid_body; the template in both the query and the body → 400, nothing stored', async () => {
    const net = await harness.createNetwork({ pullUrl: 'https://kept.example.com/{id}' });
    for (const [body, type] of [['[1]', 'an array'], ['"x"', 'a string']] as const) {
      // Without a token too: the body is refused for what it is before the token is looked for.
      const response = await harness.request('/', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const error = await expectError(response, 400, 'invalid_body');
      assert.equal(error.message, `the body must be a form or a JSON object such as {"pull_profile_url": "…"}, not ${type}`);
    }
    const twice = await harness.request(`/?pull_profile_url=${encodeURIComponent('https://evil.example/{id}')}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ actor_token: net.token(), pull_profile_url: 'https://id.example.com/{id}' }),
    });
    const error = await expectError(twice, 400, 'invalid_pull_url');
    assert.equal(error.message, 'pull_profile_url is in both the query string and the body: send it in one of them');
    assert.equal(await storedTemplate(harness, net), 'https://kept.example.com/{id}');
  });

  for (const [how, register] of [
    ['query parameters', registerByQuery],
    ['a form body', registerByForm],
  ] as const) {
    test(`actor_token and pull_profile_url as ${how} → 204, and the template is stored`, async () => {
      const net = await harness.createNetwork();
      assert.equal(await storedTemplate(harness, net), null);
      const template = 'https://id.example.com/users/{id}?format=json';
      await expect204(await register(harness, { actor_token: net.token(), pull_profile_url: template }));
      assert.equal(await storedTemplate(harness, net), template);
    });
  }

  test('a network can be pinged once it has registered (409 before, 200 after)', async () => {
    const net = await harness.createNetwork();
    const pingIt = () =>
      harness.request('/api/v3_0/user/someone/refresh', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ lftoken: net.token() }),
      });
    await expectError(await pingIt(), 409, 'pull_url_not_registered');
    await expect204(await registerByForm(harness, { actor_token: net.token(), pull_profile_url: 'https://id.example.com/u/{id}' }));
    assert.equal((await pingIt()).status, 200);
  });

  test('re-registering replaces the template', async () => {
    const net = await harness.createNetwork();
    await expect204(await registerByForm(harness, { actor_token: net.token(), pull_profile_url: 'https://old.example.com/{id}' }));
    await expect204(await registerByQuery(harness, { actor_token: net.token(), pull_profile_url: 'https://new.example.com/p?id={id}' }));
    assert.equal(await storedTemplate(harness, net), 'https://new.example.com/p?id={id}');
  });

  test('fields other than actor_token and pull_profile_url are ignored, in a form or a JSON body (as on the ping route)', async () => {
    const net = await harness.createNetwork();
    await expect204(await registerByForm(harness, { actor_token: net.token(), pull_profile_url: 'https://form.example.com/{id}', client: 'lib-1.2' }));
    assert.equal(await storedTemplate(harness, net), 'https://form.example.com/{id}');
    const json = await harness.request(`/?actor_token=${net.token()}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ pull_profile_url: 'https://json.example.com/{id}', note: 1 }),
    });
    await expect204(json);
    assert.equal(await storedTemplate(harness, net), 'https://json.example.com/{id}');
  });

  test('registering one network leaves another alone', async () => {
    const one = await harness.createNetwork();
    const two = await harness.createNetwork();
    await expect204(await registerByForm(harness, { actor_token: one.token(), pull_profile_url: 'https://one.example.com/{id}' }));
    assert.equal(await storedTemplate(harness, two), null);
  });

  describe('template rules → 400 invalid_pull_url naming the rule, nothing stored', () => {
    const KEPT = 'https://kept.example.com/users/{id}';
    const tooLong = (length: number): string => {
      const head = 'https://example.com/users/{id}?pad=';
      return head + 'x'.repeat(length - head.length);
    };
    const RULES: Array<{ rule: string; template: string; message: RegExp }> = [
      { rule: 'missing {id}', template: 'https://example.com/users/', message: /\{id\}/ },
      { rule: 'relative', template: '/users/{id}', message: /absolute/i },
      { rule: 'no scheme', template: 'example.com/users/{id}', message: /absolute/i },
      { rule: 'ftp:', template: 'ftp://example.com/users/{id}', message: /ftp/ },
      { rule: 'javascript:', template: 'javascript:alert({id})', message: /javascript/ },
      { rule: 'data:', template: 'data:text/plain,{id}', message: /data/ },
      { rule: 'over 2048 characters', template: tooLong(2049), message: /2048/ },
    ];
    for (const { rule, template, message } of RULES) {
      for (const [how, register] of [
        ['form', registerByForm],
        ['query', registerByQuery],
      ] as const) {
        test(`${rule} (${how}) → invalid_pull_url`, async () => {
          const net = await harness.createNetwork({ pullUrl: KEPT });
          const body = await expectError(await register(harness, { actor_token: net.token(), pull_profile_url: template }), 400, 'invalid_pull_url');
          assert.match(body.message, message);
          assert.equal(await storedTemplate(harness, net), KEPT, 'a refused template must not replace the stored one');
        });
      }
    }

    test('pull_profile_url given twice → invalid_pull_url saying so, nothing stored', async () => {
      const net = await harness.createNetwork({ pullUrl: KEPT });
      const query = `actor_token=${net.token()}&pull_profile_url=https://a.example/{id}&pull_profile_url=https://b.example/{id}`;
      const body = await expectError(await harness.request(`/?${query}`, { method: 'POST' }), 400, 'invalid_pull_url');
      assert.match(body.message, /pull_profile_url is given more than once/);
      assert.equal(await storedTemplate(harness, net), KEPT);
    });

    test('exactly 2048 characters is accepted', async () => {
      const net = await harness.createNetwork();
      const template = tooLong(2048);
      assert.equal(template.length, 2048);
      await expect204(await registerByForm(harness, { actor_token: net.token(), pull_profile_url: template }));
      assert.equal(await storedTemplate(harness, net), template);
    });

    for (const [what, params] of [
      ['missing', {}],
      ['empty', { pull_profile_url: '' }],
    ] as const) {
      test(`pull_profile_url ${what} → 400 naming pull_profile_url`, async () => {
        const net = await harness.createNetwork({ pullUrl: KEPT });
        const response = await registerByForm(harness, { actor_token: net.token(), ...params });
        const text = await response.text();
        assert.equal(response.status, 400, text);
        const body = JSON.parse(text) as { code: string; message: string };
        assert.deepEqual(Object.keys(body).sort(), ['code', 'message']);
        assert.ok(['invalid_pull_url', 'invalid_body'].includes(body.code), text);
        assert.match(body.message, /pull_profile_url/);
        assert.equal(await storedTemplate(harness, net), KEPT);
      });
    }
  });

  test('an http template → 204 with an x-p4p-warning header recommending https', async () => {
    const net = await harness.createNetwork();
    const response = await registerByForm(harness, { actor_token: net.token(), pull_profile_url: 'http://id.example.com/users/{id}' });
    const warning = response.headers.get('x-p4p-warning');
    await expect204(response);
    assert.ok(warning !== null, 'x-p4p-warning header');
    assert.match(warning, /https/i);
    assert.equal(await storedTemplate(harness, net), 'http://id.example.com/users/{id}');
  });

  test('an https template → 204 without a warning', async () => {
    const net = await harness.createNetwork();
    const response = await registerByForm(harness, { actor_token: net.token(), pull_profile_url: 'https://id.example.com/users/{id}' });
    assert.equal(response.headers.get('x-p4p-warning'), null);
    await expect204(response);
  });

  describe('bad actor_token → 403, nothing stored', () => {
    const KEPT = 'https://kept.example.com/users/{id}';
    const CASES: Array<{ name: string; code: keyof typeof API_ERRORS; params: (net: TestNetwork) => Record<string, string> }> = [
      { name: 'missing', code: 'token_missing', params: () => ({}) },
      { name: 'garbage', code: 'token_invalid', params: () => ({ actor_token: 'garbage' }) },
      { name: 'signed with the wrong key', code: 'token_invalid', params: (net) => ({ actor_token: buildSystemToken(net.name, 'wrong-key', 600) }) },
      {
        name: 'expired',
        code: 'token_expired',
        params: (net) => ({ actor_token: signToken({ domain: net.name, user_id: 'system', expires: Date.now() / 1000 - 120 }, net.key) }),
      },
      { name: 'for an unknown network', code: 'unknown_network', params: (net) => ({ actor_token: buildSystemToken('elsewhere.fyre.co', net.key, 600) }) },
      { name: 'a user token', code: 'not_system_token', params: (net) => ({ actor_token: userToken(net) }) },
    ];
    for (const { name, code, params } of CASES) {
      for (const [how, register] of [
        ['form', registerByForm],
        ['query', registerByQuery],
      ] as const) {
        test(`${name} (${how}) → ${code}`, async () => {
          const net = await harness.createNetwork({ pullUrl: KEPT });
          const response = await register(harness, { ...params(net), pull_profile_url: 'https://evil.example.com/{id}' });
          await expectError(response, 403, code);
          assert.equal(await storedTemplate(harness, net), KEPT);
        });
      }
    }

    test("a network owner's token may register", async () => {
      const net = await harness.createNetwork({ owners: ['the-owner'] });
      await expect204(await registerByForm(harness, { actor_token: userToken(net, 'the-owner'), pull_profile_url: 'https://o.example.com/{id}' }));
      assert.equal(await storedTemplate(harness, net), 'https://o.example.com/{id}');
    });
  });
});

describe('registration refuses private targets unless allowed', () => {
  let harness: Harness;
  before(async () => {
    harness = await startHarness({ allowPrivateTargets: false });
  });
  after(() => harness.close());

  for (const template of [
    'http://127.0.0.1/users/{id}',
    'http://127.0.0.1:8080/users/{id}',
    'http://localhost/users/{id}',
    'https://api.localhost/users/{id}',
    'http://[::1]/users/{id}',
    'http://10.1.2.3/users/{id}',
    'http://192.168.0.10/users/{id}',
    'http://169.254.169.254/latest/meta-data/{id}',
  ]) {
    test(`${template} → 400 pull_url_blocked`, async () => {
      const net = await harness.createNetwork();
      const body = await expectError(await registerByForm(harness, { actor_token: net.token(), pull_profile_url: template }), 400, 'pull_url_blocked');
      assert.match(body.message, /private|loopback|link-local/);
      assert.equal(await storedTemplate(harness, net), null);
    });
  }

  test('a public https template is still accepted', async () => {
    const net = await harness.createNetwork();
    await expect204(await registerByForm(harness, { actor_token: net.token(), pull_profile_url: 'https://id.example.com/users/{id}' }));
  });

  test('PUT /api/v3.0/network/settings refuses them too', async () => {
    const net = await harness.createNetwork();
    const response = await harness.request('/api/v3.0/network/settings', {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${net.token()}` },
      body: JSON.stringify({ pull_profile_url: 'http://localhost:9/users/{id}' }),
    });
    await expectError(response, 400, 'pull_url_blocked');
  });
});

describe('JSON settings API', () => {
  let harness: Harness;
  before(async () => {
    harness = await startHarness();
  });
  after(() => harness.close());

  const put = (net: TestNetwork, body: unknown, token = net.token()) =>
    harness.request('/api/v3.0/network/settings', {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });

  test('GET shows the settings of the token’s network', async () => {
    const net = await harness.createNetwork({ pullUrl: 'https://id.example.com/{id}' });
    const settings = await readJson(harness, net, '/api/v3.0/network/settings');
    assert.equal(settings.status, 200);
    assert.equal(settings.body.name, net.name);
    assert.equal(settings.body.pull_profile_url, 'https://id.example.com/{id}');
  });

  test('PUT with an https template → 200 with an empty warnings array, stored', async () => {
    const net = await harness.createNetwork();
    const response = await put(net, { pull_profile_url: 'https://id.example.com/users/{id}' });
    const body = (await response.json()) as { pull_profile_url: string; warnings: unknown };
    assert.equal(response.status, 200, JSON.stringify(body));
    assert.deepEqual(body.warnings, []);
    assert.equal(body.pull_profile_url, 'https://id.example.com/users/{id}');
    assert.equal(await storedTemplate(harness, net), 'https://id.example.com/users/{id}');
  });

  test('PUT with an http template → 200 with a warning about https', async () => {
    const net = await harness.createNetwork();
    const response = await put(net, { pull_profile_url: 'http://id.example.com/users/{id}' });
    const body = (await response.json()) as { warnings: unknown };
    assert.equal(response.status, 200, JSON.stringify(body));
    assert.ok(Array.isArray(body.warnings) && body.warnings.length === 1, JSON.stringify(body));
    assert.equal(typeof body.warnings[0], 'string');
    assert.match(body.warnings[0] as string, /https/i);
    assert.equal(await storedTemplate(harness, net), 'http://id.example.com/users/{id}');
  });

  test('PUT with an unknown field → 400 invalid_body naming it, nothing stored', async () => {
    const net = await harness.createNetwork({ pullUrl: 'https://kept.example.com/{id}' });
    const body = await expectError(await put(net, { pull_profile_url: 'https://new.example.com/{id}', colour: 'blue' }), 400, 'invalid_body');
    assert.match(body.message, /colour/);
    assert.equal(await storedTemplate(harness, net), 'https://kept.example.com/{id}');
  });

  test('PUT without pull_profile_url → 400 invalid_body saying what to send', async () => {
    const net = await harness.createNetwork();
    const body = await expectError(await put(net, {}), 400, 'invalid_body');
    assert.equal(body.message, 'pull_profile_url: send the template as a string, e.g. https://example.com/users/{id}');
  });

  test('PUT with a bad template → 400 invalid_pull_url', async () => {
    const net = await harness.createNetwork();
    const body = await expectError(await put(net, { pull_profile_url: 'https://id.example.com/users' }), 400, 'invalid_pull_url');
    assert.match(body.message, /\{id\}/);
  });

  test('PUT with a user token → 403 not_system_token', async () => {
    const net = await harness.createNetwork();
    await expectError(await put(net, { pull_profile_url: 'https://id.example.com/{id}' }, userToken(net)), 403, 'not_system_token');
  });

  test('GET without a token → 403 token_missing', async () => {
    await expectError(await harness.request('/api/v3.0/network/settings'), 403, 'token_missing');
  });
});

describe('docs/api.md lists every error code', () => {
  const DOC = fileURLToPath(new URL('../../../docs/api.md', import.meta.url));

  /** `code → status` from the rows `| \`code\` | status | …` of the table under "## Error codes". */
  function documentedCodes(markdown: string): Map<string, number> {
    const lines = markdown.split(/\r?\n/);
    const start = lines.findIndex((line) => /^##\s+Error codes\s*$/i.test(line));
    assert.notEqual(start, -1, `${DOC} has no "## Error codes" heading`);
    const end = lines.findIndex((line, index) => index > start && /^#{1,2}\s/.test(line));
    const codes = new Map<string, number>();
    for (const line of lines.slice(start + 1, end === -1 ? undefined : end)) {
      const row = /^\|\s*`([a-z0-9_]+)`\s*\|\s*(\d{3})\s*\|/.exec(line.trim());
      if (row === null) continue;
      assert.ok(!codes.has(row[1]!), `${row[1]} is listed twice`);
      codes.set(row[1]!, Number(row[2]));
    }
    assert.ok(codes.size > 0, 'the "## Error codes" section has no rows like "| `code` | 400 |"');
    return codes;
  }

  test('every code in API_ERRORS has a row with its status, and every row is a code in API_ERRORS', () => {
    assert.ok(existsSync(DOC), `${DOC} does not exist: document the error codes in a table under "## Error codes"`);
    const documented = documentedCodes(readFileSync(DOC, 'utf8'));
    const registry = new Map(Object.entries(API_ERRORS).map(([code, { status }]) => [code, status as number]));
    const undocumented = [...registry.keys()].filter((code) => !documented.has(code));
    const unknown = [...documented.keys()].filter((code) => !registry.has(code));
    assert.deepEqual(undocumented, [], 'codes in API_ERRORS missing from docs/api.md');
    assert.deepEqual(unknown, [], 'codes in docs/api.md that API_ERRORS does not have');
    for (const [code, status] of registry) assert.equal(documented.get(code), status, `status of ${code}`);
  });
});
