import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createLogger } from '../src/log/create-logger.js';
import { generateNetworkKey } from '../src/networks/network-input.js';
import { startServer, type P4pServer } from '../src/server/p4p-server.js';
import { buildSystemToken, signToken } from '../src/tokens/sign-token.js';
import { testConfig } from './support/p4p-harness.js';
import { PullEndpoint } from './support/pull-endpoint.js';
import { makeTempDir } from './support/temp-dir.js';
import { waitFor } from './support/wait-for.js';

/**
 * Issue 2, Operations: one JSON log line per request and per pull, with
 * network, user id, outcome and duration, never a token or a key.
 */

type LogLine = Record<string, unknown>;

/** A pino destination that keeps every line written. */
class CapturedLog {
  readonly raw: string[] = [];
  write(chunk: string): void {
    for (const line of chunk.split('\n')) if (line !== '') this.raw.push(line);
  }
  get lines(): LogLine[] {
    return this.raw.map((line) => JSON.parse(line) as LogLine);
  }
  events(event: string): LogLine[] {
    return this.lines.filter((line) => line.event === event);
  }
}

interface SentRequest {
  method: string;
  /** The path without the query string, as the log line's url starts. */
  path: string;
  status: number;
  /** Expected on the line; undefined when the request names none. */
  network: string | undefined;
  userId: string | undefined;
}

describe('structured logs', () => {
  const temp = makeTempDir();
  const log = new CapturedLog();
  let server: P4pServer;
  let endpoint: PullEndpoint;
  const networkName = `logs-${process.pid}.fyre.co`;
  const key = generateNetworkKey();
  /** Every token that went over the wire, in either direction. */
  const secrets = new Set<string>([key]);
  const sent: SentRequest[] = [];
  let stopped = false;

  /** A fresh system token, remembered as a secret. */
  function token(): string {
    // A distinct ttl per token makes every string distinct, so a leak is traceable to its request.
    const value = buildSystemToken(networkName, key, 600 + secrets.size);
    secrets.add(value);
    return value;
  }

  async function send(path: string, init: RequestInit, expected: Omit<SentRequest, 'method' | 'path' | 'status'> & { status: number }) {
    const response = await fetch(new URL(path, server.url), init);
    const text = await response.text();
    assert.equal(response.status, expected.status, `${init.method ?? 'GET'} ${path.split('?')[0]}: ${text}`);
    sent.push({ method: init.method ?? 'GET', path: new URL(path, server.url).pathname, ...expected });
    return text;
  }

  const form = (fields: Record<string, string>): RequestInit => ({
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields),
  });
  const json = (method: string, body: unknown, headers: Record<string, string> = {}): RequestInit => ({
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

  async function stop(): Promise<void> {
    if (stopped) return;
    stopped = true;
    await server.stop();
  }

  before(async () => {
    endpoint = await PullEndpoint.start();
    server = await startServer(testConfig(temp.path, { logLevel: 'info' }), createLogger('info', log));
    const created = await server.store.createNetwork({ name: networkName, key, owners: [] }, Date.now());
    for (const userId of ['ada', 'bob', 'cyd', 'dee', 'eve', 'fay']) {
      endpoint.profiles.set(userId, { id: userId, display_name: `User ${userId}` });
    }
    // A redirect that keeps the query string, as an http→https or trailing-slash redirect would.
    endpoint.behaviour = (userId, response, pull) => {
      if (userId === 'red') {
        response.writeHead(301, { location: `https://moved.example.com${pull.path}?${pull.query}` }).end();
        return;
      }
      const profile = endpoint.profiles.get(userId);
      if (profile === undefined) response.writeHead(404).end();
      else response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(profile));
    };

    const network = networkName;
    const template = encodeURIComponent(endpoint.template);
    // Registration: actor_token in the query, then in a form body; the settings API with a Bearer header.
    await send(`/?actor_token=${token()}&pull_profile_url=${template}`, { method: 'POST' }, { status: 204, network, userId: undefined });
    await send('/', form({ actor_token: token(), pull_profile_url: endpoint.template }), { status: 204, network, userId: undefined });
    await send('/api/v3.0/network/settings', json('PUT', { pull_profile_url: endpoint.template }, { authorization: `Bearer ${token()}` }), {
      status: 200,
      network,
      userId: undefined,
    });
    await send(`/api/v3.0/network/settings?lftoken=${token()}`, { method: 'GET' }, { status: 200, network, userId: undefined });
    // Pings: lftoken in the query, a form body, a JSON body, a Bearer header; a bulk ping.
    await send(`/api/v3_0/user/ada/refresh?lftoken=${token()}`, { method: 'POST' }, { status: 200, network, userId: 'ada' });
    await send('/api/v3_0/user/bob/refresh', form({ lftoken: token() }), { status: 200, network, userId: 'bob' });
    await send('/api/v3.0/user/cyd/refresh', json('POST', { lftoken: token() }), { status: 200, network, userId: 'cyd' });
    await send('/api/v3.0/user/dee/refresh', { method: 'POST', headers: { authorization: `Bearer ${token()}` } }, { status: 200, network, userId: 'dee' });
    await send('/api/v3.0/users/refresh', json('POST', { user_ids: ['eve', 'fay', 'nobody'], lftoken: token() }), {
      status: 200,
      network,
      userId: undefined,
    });
    await send(`/api/v3_0/user/red/refresh?lftoken=${token()}`, { method: 'POST' }, { status: 200, network, userId: 'red' });
    // Refused tokens are secrets too: a wrong key, and a user token.
    const wrongKey = buildSystemToken(networkName, generateNetworkKey(), 600);
    secrets.add(wrongKey);
    await send(`/api/v3_0/user/mallory/refresh?lftoken=${wrongKey}`, { method: 'POST' }, { status: 403, network: undefined, userId: 'mallory' });
    const userToken = signToken({ domain: networkName, user_id: 'mallory', expires: Date.now() / 1000 + 600 }, key);
    secrets.add(userToken);
    await send('/api/v3_0/user/mallory/refresh', form({ lftoken: userToken }), { status: 403, network: undefined, userId: 'mallory' });
    await send(`/?actor_token=${userToken}&pull_profile_url=${template}`, { method: 'POST' }, { status: 403, network: undefined, userId: undefined });

    // During a key rotation: a ping signed with the previous key, then one with the new key.
    const newKey = generateNetworkKey();
    secrets.add(newKey);
    await server.store.rotateNetworkKey(created.id, newKey, Date.now());
    await send(`/api/v3_0/user/gil/refresh?lftoken=${token()}`, { method: 'POST' }, { status: 200, network, userId: 'gil' });
    const signedWithNewKey = buildSystemToken(networkName, newKey, 600);
    secrets.add(signedWithNewKey);
    await send(`/api/v3_0/user/hal/refresh?lftoken=${signedWithNewKey}`, { method: 'POST' }, { status: 200, network, userId: 'hal' });

    // Every ping above ends in exactly one pull (200, 404 and redirect are all final).
    const pulled = ['ada', 'bob', 'cyd', 'dee', 'eve', 'fay', 'nobody', 'red', 'gil', 'hal'];
    await waitFor(() => pulled.every((userId) => log.events('pull').some((line) => line.user_id === userId)), {
      what: `a pull log line for each of ${pulled.join(', ')}`,
    });
    for (const pull of endpoint.pulls) {
      const lftoken = pull.query.get('lftoken');
      assert.ok(lftoken !== null, 'every pull carries an lftoken');
      secrets.add(lftoken);
    }
    // A request's line is written once its answer is sent, which may be just after the client has it.
    await waitFor(() => log.events('request').length >= sent.length, { what: `${sent.length} request lines` });
    await stop();
  });

  after(async () => {
    await stop();
    await endpoint.close();
    temp.remove();
  });

  test('every line is one JSON object', () => {
    assert.ok(log.raw.length > 0);
    for (const line of log.raw) {
      const parsed = JSON.parse(line) as unknown;
      assert.ok(parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed), line);
    }
  });

  test('one request line per request, with req_id, method, status, duration_ms, network and user_id', () => {
    const lines = log.events('request');
    const ids = lines.map((line) => line.req_id);
    assert.ok(ids.every((id) => typeof id === 'string' && id.length > 0), `req_id: ${JSON.stringify(ids)}`);
    assert.equal(new Set(ids).size, ids.length, 'every request has its own req_id');
    assert.equal(lines.length, sent.length, `request lines:\n${lines.map((line) => `${line.method} ${line.url} ${line.status}`).join('\n')}`);
    const remaining = [...lines];
    for (const request of sent) {
      const at = remaining.findIndex(
        (line) =>
          line.method === request.method &&
          typeof line.url === 'string' &&
          line.url.split('?')[0] === request.path &&
          line.status === request.status &&
          line.user_id === request.userId &&
          line.network === request.network,
      );
      assert.notEqual(at, -1, `no line for ${JSON.stringify(request)} among ${JSON.stringify(remaining)}`);
      const [line] = remaining.splice(at, 1);
      assert.equal(typeof line!.duration_ms, 'number');
      assert.ok((line!.duration_ms as number) >= 0);
    }
  });

  test("a request whose token was signed with the network's previous key says so; no other line does", () => {
    const marked = log.events('request').filter((line) => 'previous_key' in line);
    assert.deepEqual(marked.map((line) => [line.user_id, line.previous_key]), [['gil', true]]);
  });

  test('one pull line per pull, with network, user_id, outcome and duration_ms', () => {
    const lines = log.events('pull');
    assert.equal(lines.length, endpoint.pulls.length);
    for (const userId of new Set(endpoint.pulls.map((pull) => pull.userId))) {
      const forUser = lines.filter((line) => line.user_id === userId);
      assert.equal(forUser.length, endpoint.pullsFor(userId).length, `pull lines for ${userId}`);
      for (const line of forUser) {
        assert.equal(line.network, networkName);
        assert.equal(typeof line.duration_ms, 'number');
        assert.ok((line.duration_ms as number) >= 0);
      }
    }
    const outcomeOf = (userId: string) => lines.find((line) => line.user_id === userId)?.outcome;
    assert.equal(outcomeOf('ada'), 'ok');
    assert.equal(outcomeOf('nobody'), 'not_found');
    assert.equal(outcomeOf('red'), 'redirect');
  });

  test('no line contains a token or the network key', () => {
    // Sanity: the secrets include the tokens of every transport and of every pull.
    assert.ok(secrets.size >= 1 + 12 + 1, `${secrets.size} secrets`);
    for (const line of log.raw) {
      for (const secret of secrets) {
        assert.ok(!line.includes(secret), `a log line carries a secret (${secret.slice(0, 12)}…): ${line.slice(0, 300)}`);
        assert.ok(!line.includes(encodeURIComponent(secret)));
      }
      // Nor any other JWT-shaped string (header of every HS256 token p4p and the libraries write).
      assert.doesNotMatch(line, /eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9\.|eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9\./);
    }
  });
});

describe('structured logs: tokens under parameter names p4p reads but does not spell plainly', () => {
  const temp = makeTempDir();
  const log = new CapturedLog();
  let server: P4pServer;
  const networkName = `logs-enc-${process.pid}.fyre.co`;
  const key = generateNetworkKey();

  before(async () => {
    server = await startServer(testConfig(temp.path, { logLevel: 'info' }), createLogger('info', log));
    await server.store.createNetwork({ name: networkName, key, owners: [] }, Date.now());
  });
  after(async () => {
    await server.stop();
    temp.remove();
  });

  // The query parser decodes parameter names, so `lf%74oken` is read as `lftoken`; the log line must not carry it either.
  for (const [name, path] of [
    ['lf%74oken', (token: string) => `/api/v3.0/network/settings?lf%74oken=${token}`],
    ['actor%5Ftoken', (token: string) => `/?actor%5Ftoken=${token}&pull_profile_url=${encodeURIComponent('https://id.example.com/{id}')}`],
  ] as const) {
    test(`a token sent as ?${name}= is used but not logged`, async () => {
      const token = buildSystemToken(networkName, key, 600);
      const linesBefore = log.raw.length;
      const response = await fetch(new URL(path(token), server.url), { method: name.startsWith('actor') ? 'POST' : 'GET' });
      assert.ok(response.status === 200 || response.status === 204, `p4p reads the token: ${response.status} ${await response.text()}`);
      const line = await waitFor(() => log.raw.slice(linesBefore).find((raw) => (JSON.parse(raw) as LogLine).event === 'request'), {
        what: 'the request line',
      });
      assert.ok(!line.includes(token), `the request line carries the token: ${line.slice(0, 300)}`);
    });
  }
});

describe('a message text that quotes a URL', () => {
  test('has its token parameters redacted, in any argument position, and is otherwise kept', () => {
    const lines: string[] = [];
    const logger = createLogger('info', { write: (line: string) => void lines.push(line) });
    const token = buildSystemToken('text.fyre.co', generateNetworkKey(), 600);
    // The shape of Fastify's own warning when a route replies twice.
    logger.warn(`Reply was already sent, did you forget to "return reply" in "/api/v3_0/user/ada/refresh?lftoken=${token}" (POST)?`);
    logger.info({ event: 'x' }, `GET /?actor_token=${token}&pull_profile_url=x`);
    logger.info('plain text = kept as it is');
    assert.equal(lines.length, 3);
    for (const line of lines.slice(0, 2)) {
      assert.ok(!line.includes(token), `the line carries the token: ${line}`);
      assert.match(line, /(lftoken|actor_token)=\[redacted\]/);
    }
    assert.equal((JSON.parse(lines[2]!) as { msg: string }).msg, 'plain text = kept as it is');
    assert.match(lines[1]!, /pull_profile_url=x/);
  });
});
