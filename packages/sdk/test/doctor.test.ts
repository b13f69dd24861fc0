import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, type AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import {
  createPullHandler,
  DEFAULT_DOCTOR_USER_AGENT,
  DOCTOR_CHECK_IDS,
  formatDoctorReport,
  LARGE_ANSWER_BYTES,
  P4pInputError,
  readValidToken,
  SLOW_ANSWER_MS,
  testPullEndpoint,
  Network,
  type DoctorCheckId,
  type DoctorReport,
  type DoctorStatus,
} from '../src/index.js';

/**
 * The endpoint doctor against real pull endpoints on loopback: one correct
 * (HTTPS, with a self-signed certificate for 127.0.0.1 kept in doctor-tls/),
 * and one broken in each way the doctor checks.
 */

const NETWORK = 'doctor.fyre.co';
const KEY = 'the-network-key-of-doctor-fyre-co';
const TLS = {
  cert: readFileSync(new URL('./doctor-tls/localhost-cert.pem', import.meta.url)),
  key: readFileSync(new URL('./doctor-tls/localhost-key.pem', import.meta.url)),
};
const ADA = { id: 'ada', display_name: 'Ada Lovelace', email: 'ada@example.com', image_url: 'https://example.com/ada.png' };

/** What the endpoint makes of the request's lftoken. */
type TokenVerdict = 'valid' | 'missing' | 'expired' | 'bad_signature';

/** How an endpoint answers a request for `userId`, given its token's verdict. */
type Answer = (request: { token: TokenVerdict; userId: string }, response: ServerResponse) => void | Promise<void>;

/** The contract: 200 with the profile for a valid token, 404 for another user, 403 with no body otherwise. */
function correct(profile: Record<string, unknown> = ADA, accepts: readonly TokenVerdict[] = ['valid']): Answer {
  return ({ token, userId }, response) => {
    if (!accepts.includes(token)) response.writeHead(403).end();
    else if (userId !== 'ada') response.writeHead(404).end();
    else response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(profile));
  };
}

function verdictOf(token: string | null): TokenVerdict {
  if (token === null) return 'missing';
  const claims = readValidToken(token, KEY);
  if (claims !== undefined && claims.domain === NETWORK) return 'valid';
  // Signed with the key but rejected now: valid at time 0, so only its expiry failed.
  return readValidToken(token, KEY, 0) !== undefined ? 'expired' : 'bad_signature';
}

const servers: Server[] = [];
after(() => Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve).closeAllConnections()))));

/** Headers of the last request each endpoint received. */
const lastHeaders = new Map<string, IncomingMessage['headers']>();

/** A pull endpoint on 127.0.0.1 serving `/users/{id}`; resolves to its template. */
async function startEndpoint(answer: Answer, { https = false } = {}): Promise<string> {
  return listen((request, response) => {
    const url = new URL(request.url ?? '/', 'http://endpoint');
    const userId = decodeURIComponent(url.pathname.replace(/^\/users\//, ''));
    void Promise.resolve(answer({ token: verdictOf(url.searchParams.get('lftoken')), userId }, response)).catch(() => response.destroy());
  }, { https, path: '/users/{id}' });
}

/** Serves `handle` on 127.0.0.1; resolves to the template `<origin><path>`. */
async function listen(handle: (request: IncomingMessage, response: ServerResponse) => void, { https = false, path = '/users/{id}' } = {}): Promise<string> {
  let template = '';
  const record = (request: IncomingMessage, response: ServerResponse): void => {
    lastHeaders.set(template, request.headers);
    handle(request, response);
  };
  const server = https ? createHttpsServer(TLS, record) : createHttpServer(record);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  template = `${https ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}${path}`;
  return template;
}

function doctor(template: string, extra: { timeoutMs?: number; userId?: string; userAgent?: string } = {}): Promise<DoctorReport> {
  return testPullEndpoint({ template, network: NETWORK, key: KEY, userId: 'ada', ca: TLS.cert, ...extra });
}

function statuses(report: DoctorReport): Record<DoctorCheckId, DoctorStatus> {
  return Object.fromEntries(report.checks.map((check) => [check.id, check.status])) as Record<DoctorCheckId, DoctorStatus>;
}

/**
 * Asserts that exactly the checks in `expected` have those statuses and every other check passes.
 * response_time is compared only when listed: on a loaded machine any answer may be slow.
 */
function assertStatuses(report: DoctorReport, expected: Partial<Record<DoctorCheckId, DoctorStatus>>): void {
  const ids = DOCTOR_CHECK_IDS.filter((id) => id !== 'response_time' || expected[id] !== undefined);
  const actual = Object.fromEntries(ids.map((id) => [id, statuses(report)[id]]));
  const want = Object.fromEntries(ids.map((id) => [id, expected[id] ?? 'pass']));
  assert.deepEqual(actual, want, formatDoctorReport(report));
  assert.equal(report.ok, !Object.values(expected).includes('fail'));
}

function checkOf(report: DoctorReport, id: DoctorCheckId): DoctorReport['checks'][number] {
  return report.checks.find((check) => check.id === id)!;
}

describe('testPullEndpoint', () => {
  test('a correct HTTPS endpoint passes every check, in report order, with no fix', async () => {
    const report = await doctor(await startEndpoint(correct(), { https: true }));
    assertStatuses(report, {});
    assert.deepEqual(report.checks.map((check) => check.id), [...DOCTOR_CHECK_IDS]);
    assert.ok(report.checks.every((check) => (check.fix === null || check.id === 'response_time') && check.reason.length > 0));
    assert.match(report.url, /^https:\/\/127\.0\.0\.1:\d+\/users\/ada$/);
  });

  test('plain HTTP is a warning with the fix, not a failure', async () => {
    const report = await doctor(await startEndpoint(correct()));
    assertStatuses(report, { https: 'warn' });
    assert.match(checkOf(report, 'https').fix!, /HTTPS/);
  });

  test('an endpoint that serves profiles without a token fails no_token', async () => {
    const report = await doctor(await startEndpoint(correct(ADA, ['valid', 'missing'])));
    assertStatuses(report, { https: 'warn', no_token: 'fail' });
    assert.match(checkOf(report, 'no_token').reason, /answered 200 without a token/);
    assert.match(checkOf(report, 'no_token').fix!, /403/);
  });

  test('a 403 with a body fails every refusal check and says so', async () => {
    const report = await doctor(await startEndpoint((request, response) => {
      if (request.token === 'valid') correct()(request, response);
      else response.writeHead(403, { 'content-type': 'text/plain' }).end('invalid signature');
    }));
    assertStatuses(report, { https: 'warn', no_token: 'fail', wrong_key: 'fail', expired_token: 'fail' });
    assert.match(checkOf(report, 'wrong_key').reason, /403 .*17-byte body/);
    assert.match(checkOf(report, 'wrong_key').fix!, /no body/);
  });

  test('an endpoint that does not verify the signature fails wrong_key', async () => {
    const report = await doctor(await startEndpoint(correct(ADA, ['valid', 'bad_signature'])));
    assertStatuses(report, { https: 'warn', wrong_key: 'fail' });
    assert.match(checkOf(report, 'wrong_key').reason, /answered 200 to a token signed with another key.*signature/);
  });

  test('an endpoint that ignores expires fails expired_token', async () => {
    const report = await doctor(await startEndpoint(correct(ADA, ['valid', 'expired'])));
    assertStatuses(report, { https: 'warn', expired_token: 'fail' });
    assert.match(checkOf(report, 'expired_token').reason, /answered 200 to a token that expired 10 minutes ago/);
  });

  test('a 401 refusal warns: p4p treats it like 403', async () => {
    const report = await doctor(await startEndpoint((request, response) => {
      if (request.token === 'valid') correct()(request, response);
      else response.writeHead(401).end();
    }));
    assertStatuses(report, { https: 'warn', no_token: 'warn', wrong_key: 'warn', expired_token: 'warn' });
  });

  test('a profile with another id fails profile_id; p4p would reject it', async () => {
    const report = await doctor(await startEndpoint((request, response) => correct({ ...ADA, id: 'grace' })(request, response)));
    assertStatuses(report, { https: 'warn', profile_id: 'fail' });
    assert.match(checkOf(report, 'profile_id').reason, /asked for "ada" but the profile's id is "grace"/);
  });

  test('an invalid profile fails profile with the rule that failed; a bad optional field only warns', async () => {
    const invalid = await doctor(await startEndpoint(correct({ id: 'ada', display_name: '   ' })));
    assertStatuses(invalid, { https: 'warn', profile: 'fail' });
    assert.match(checkOf(invalid, 'profile').reason, /display_name/);

    const notJson = await doctor(await startEndpoint(({ token }, response) => void response.writeHead(token === 'valid' ? 200 : 403).end(token === 'valid' ? '<html>' : '')));
    assertStatuses(notJson, { https: 'warn', profile: 'fail', profile_id: 'skip' });
    assert.match(checkOf(notJson, 'profile').reason, /not JSON/);

    const badLink = await doctor(await startEndpoint(correct({ ...ADA, profile_url: 'javascript:alert(1)' })));
    assertStatuses(badLink, { https: 'warn', profile: 'warn' });
    assert.match(checkOf(badLink, 'profile').reason, /profile_url/);
  });

  test('a redirect is reported with its Location and never followed', async () => {
    let followed = false;
    const target = await startEndpoint((_request, response) => {
      followed = true;
      response.writeHead(200).end('{}');
    });
    const report = await doctor(await startEndpoint(({ token }, response) => {
      if (token === 'valid') response.writeHead(301, { location: target.replace('{id}', 'ada?lftoken=secret') }).end();
      else response.writeHead(403).end();
    }));
    assertStatuses(report, {
      https: 'warn',
      valid_pull: 'fail',
      redirect: 'fail',
      profile: 'skip',
      profile_id: 'skip',
      no_token: 'skip',
      wrong_key: 'skip',
      expired_token: 'skip',
    });
    assert.match(checkOf(report, 'redirect').reason, /301 redirecting to http:\/\/127\.0\.0\.1:\d+\/users\/ada\?lftoken=\[redacted\]/);
    assert.match(checkOf(report, 'redirect').fix!, /register the final URL/);
    assert.equal(followed, false);
    assert.doesNotMatch(JSON.stringify(report), /secret/);
  });

  test('a redirect echoing the token in any spelling or nested in another URL never shows it in the report', async () => {
    for (const echo of [
      (token: string) => `/login?%6Cftoken=${token}`,
      (token: string) => `/login?next=${encodeURIComponent(`/users/ada?lftoken=${token}`)}`,
      (token: string) => `/login?next=${encodeURIComponent(`/users/ada?next=${encodeURIComponent(`/x?lftoken=${token}`)}`)}`,
      (token: string) => `/login/${token}`,
    ]) {
      let sent = '';
      const echoing = await listen((request, response) => {
        const token = new URL(request.url ?? '/', 'http://endpoint').searchParams.get('lftoken');
        if (token !== null && verdictOf(token) === 'valid') sent = token;
        response.writeHead(302, { location: echo(token ?? 'none') }).end();
      });
      const report = await doctor(echoing);
      assert.equal(checkOf(report, 'redirect').status, 'fail');
      assert.ok(sent.length > 0);
      assert.ok(!JSON.stringify(report).includes(sent), `the token leaked: ${checkOf(report, 'redirect').reason}`);
      assert.match(checkOf(report, 'redirect').reason, /\[redacted\]/);
    }
  });

  test('the doctor sends the User-Agent p4p sends, p4p/<version>', async () => {
    const template = await startEndpoint(correct());
    await doctor(template);
    assert.equal(lastHeaders.get(template)?.['user-agent'], DEFAULT_DOCTOR_USER_AGENT);
    assert.equal(lastHeaders.get(template)?.['accept-encoding'], 'identity');
    assert.match(DEFAULT_DOCTOR_USER_AGENT, /^p4p\/\d+\.\d+\.\d+/);
    await doctor(template, { userAgent: 'p4p/9.8.7' });
    assert.equal(lastHeaders.get(template)?.['user-agent'], 'p4p/9.8.7');
    await assert.rejects(doctor(template, { userAgent: 'p4p/1\r\nx: y' }), /userAgent must be .*got "p4p\/1\\r\\nx: y"$/);
    await assert.rejects(doctor(template, { ca: 123 } as never), /ca must be PEM certificates as a string or a Buffer, got number/);
    await assert.rejects(doctor(template, { timeout: 5 } as never), /"timeout" is not a testPullEndpoint option; the options are template, network, key, userId, timeoutMs, maxBodyBytes, ca, userAgent/);
  });

  test('a profile that is not valid UTF-8 fails: p4p refuses it', async () => {
    const report = await doctor(await startEndpoint(({ token }, response) => {
      if (token !== 'valid') return void response.writeHead(403).end();
      const body = Buffer.concat([Buffer.from('{"id":"ada","display_name":"Ada '), Buffer.from([0xe0, 0x80]), Buffer.from('"}')]);
      response.writeHead(200, { 'content-type': 'application/json' }).end(body);
    }));
    assertStatuses(report, { https: 'warn', profile: 'fail', profile_id: 'skip' });
    assert.match(checkOf(report, 'profile').reason, /not valid UTF-8: p4p refuses it/);
  });

  test('a compressed profile fails: p4p asks for none and refuses it', async () => {
    const report = await doctor(await startEndpoint(({ token }, response) => {
      if (token !== 'valid') return void response.writeHead(403).end();
      response.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }).end(gzipSync(JSON.stringify(ADA)));
    }));
    assertStatuses(report, { https: 'warn', profile: 'fail', profile_id: 'skip' });
    assert.match(checkOf(report, 'profile').reason, /Content-Encoding: gzip, though p4p asks for none \(Accept-Encoding: identity\)/);
  });

  test("p4p-sdk's own createPullHandler passes every check", async () => {
    const network = new Network({ name: NETWORK, key: KEY });
    const servePull = createPullHandler({ network, getProfile: (userId) => (userId === 'ada' ? ADA : null) });
    const report = await doctor(await listen((request, response) => void servePull(request, response), { https: true, path: '/p4p/profile?id={id}' }));
    assertStatuses(report, {});
  });

  test('an answer over 256 KiB fails response_size; one over 64 KiB warns', async () => {
    const huge = await doctor(await startEndpoint(({ token }, response) => {
      if (token !== 'valid') return void response.writeHead(403).end();
      const body = JSON.stringify({ ...ADA, bio: 'x'.repeat(300 * 1024) });
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
    }));
    assertStatuses(huge, { https: 'warn', response_size: 'fail', profile: 'skip', profile_id: 'skip' });
    assert.match(checkOf(huge, 'response_size').reason, /over 262144 bytes, p4p's cap \(Content-Length \d+\)/);

    const streamed = await doctor(await startEndpoint(({ token }, response) => {
      if (token !== 'valid') return void response.writeHead(403).end();
      response.writeHead(200, { 'content-type': 'application/json' });
      for (let chunk = 0; chunk < 40; chunk += 1) response.write('x'.repeat(8 * 1024));
      response.end();
    }));
    assertStatuses(streamed, { https: 'warn', response_size: 'fail', profile: 'skip', profile_id: 'skip' });
    assert.match(checkOf(streamed, 'response_size').reason, /over 262144 bytes, p4p's cap \(more was sent\)/);

    const large = await doctor(await startEndpoint(correct({ ...ADA, websites: ['https://a.example', 'https://b.example'], extra: 'x'.repeat(LARGE_ANSWER_BYTES) })));
    assert.equal(checkOf(large, 'response_size').status, 'warn', formatDoctorReport(large));
  });

  test(`an answer slower than ${SLOW_ANSWER_MS} ms warns; one past the timeout fails and stops the doctor`, async () => {
    const slow = await doctor(await startEndpoint(async (request, response) => {
      if (request.token === 'valid') await new Promise((resolve) => setTimeout(resolve, SLOW_ANSWER_MS + 100));
      correct()(request, response);
    }));
    assertStatuses(slow, { https: 'warn', response_time: 'warn' });

    const hanging = await doctor(await startEndpoint(() => undefined), { timeoutMs: 200 });
    assertStatuses(hanging, {
      https: 'warn',
      valid_pull: 'fail',
      redirect: 'skip',
      profile: 'skip',
      profile_id: 'skip',
      no_token: 'skip',
      wrong_key: 'skip',
      expired_token: 'skip',
      response_time: 'fail',
      response_size: 'skip',
    });
    assert.match(checkOf(hanging, 'response_time').reason, /within 200 ms/);
  });

  test('a refused valid token (keys differ) fails valid_pull with the fix; the refusal checks are skipped, not passed', async () => {
    const requests: string[] = [];
    const refusing = await doctor(await startEndpoint((request, response) => {
      requests.push(request.token);
      correct(ADA, [])(request, response);
    }));
    const skipped = { no_token: 'skip', wrong_key: 'skip', expired_token: 'skip' } as const;
    assertStatuses(refusing, { https: 'warn', valid_pull: 'fail', profile: 'skip', profile_id: 'skip', ...skipped });
    assert.match(checkOf(refusing, 'valid_pull').reason, /answered 403 to a valid token/);
    assert.match(checkOf(refusing, 'valid_pull').fix!, /--key/);
    assert.equal(checkOf(refusing, 'no_token').reason, 'not checked: the valid token was refused too, so a refusal proves nothing');
    assert.deepEqual(requests, ['valid'], 'nothing more is sent once the valid token is refused');

    const unknown = await doctor(await startEndpoint(correct()), { userId: 'nobody' });
    assertStatuses(unknown, { https: 'warn', valid_pull: 'fail', profile: 'skip', profile_id: 'skip', ...skipped });
    assert.match(checkOf(unknown, 'valid_pull').reason, /404.*no user "nobody"/);
    assert.match(checkOf(unknown, 'no_token').reason, /answered 404, not 200, so a refusal proves nothing/);
  });

  test('an endpoint that is not running fails valid_pull with the connection error', async () => {
    // Port 1 (tcpmux) on loopback: privileged, so no test can bind it, and nothing on a
    // test machine serves it; a port freed by closing a test server could be taken again.
    const refused = await new Promise<string>((resolve) => connect(1, '127.0.0.1').once('error', (error) => resolve((error as NodeJS.ErrnoException).code ?? '')).once('connect', () => resolve('connected')));
    assert.equal(refused, 'ECONNREFUSED', 'something listens on 127.0.0.1:1; this test needs it closed');
    const report = await doctor('http://127.0.0.1:1/users/{id}');
    assert.equal(checkOf(report, 'valid_pull').status, 'fail');
    assert.match(checkOf(report, 'valid_pull').reason, /ECONNREFUSED/);
    assert.equal(report.ok, false);
  });

  test('an HTTPS endpoint whose certificate is not trusted fails valid_pull with the TLS error', async () => {
    const template = await startEndpoint(correct(), { https: true });
    const report = await testPullEndpoint({ template, network: NETWORK, key: KEY, userId: 'ada' });
    assert.equal(checkOf(report, 'valid_pull').status, 'fail');
    assert.match(checkOf(report, 'valid_pull').reason, /self-signed certificate/);
    assert.match(checkOf(report, 'valid_pull').fix!, /TLS certificate/);
  });

  test('unusable options are refused with P4pInputError before anything is sent', async () => {
    for (const template of ['https://example.com/users', 'ftp://example.com/{id}', 'users/{id}', 'https://example.com/#{id}', 'https://{id}.example.com/', 'https://me:pw@example.com/{id}']) {
      await assert.rejects(doctor(template), P4pInputError, template);
    }
    await assert.rejects(doctor('https://{id}.example.com/'), { message: 'template has {id} in the host or port: put {id} in the path or the query string' });
    await assert.rejects(doctor('https://example.com/{id}', { userId: 'a b' }), /user id/);
    await assert.rejects(doctor('https://example.com/{id}', { timeoutMs: 0 }), /timeoutMs/);
  });
});
