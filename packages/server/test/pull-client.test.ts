import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { buildConnector } from 'undici';
import { PullClient, type PullAnswer, type PullClientOptions } from '../src/pull/pull-client.js';
import { PullCancellation } from '../src/pull/pull-cancellation.js';
import { buildPullUrl } from '../src/pull/pull-url.js';
import { BLOCKED_TARGET_CODE, guardConnector } from '../src/pull/guarded-connector.js';
import { MAX_RETRY_AFTER_MS, parseRetryAfter } from '../src/pull/retry-after.js';
import { classifyError } from '../src/pull/classify-error.js';

const TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjoic3lzdGVtIn0.c2lnbmF0dXJlLXNlY3JldA';
const USER_AGENT = 'p4p/0.1.0-test';
const PROFILE = JSON.stringify({ id: '1234', email: 'jane@example.com', display_name: 'Jane' });

interface SeenRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
}

interface TestServer {
  /** Requests received, in order. */
  seen: SeenRequest[];
  port: number;
  template(path?: string): string;
  close(): Promise<void>;
}

async function startServer(handler: http.RequestListener): Promise<TestServer> {
  const seen: SeenRequest[] = [];
  const server = http.createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    handler(req, res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    seen,
    port,
    template: (path = '/users/{id}') => `http://127.0.0.1:${port}${path}`,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/** Resolves on 'drain' or 'close', whichever comes first, leaving no listener behind. */
function drainOrClose(res: http.ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}

function client(options: Partial<PullClientOptions> = {}): PullClient {
  return new PullClient({ userAgent: USER_AGENT, allowPrivateTargets: true, ...options });
}

function failed(answer: PullAnswer): Extract<PullAnswer, { kind: 'failed' }> {
  assert.equal(answer.kind, 'failed', `expected a failed answer, got ${JSON.stringify(answer).slice(0, 200)}`);
  if (answer.kind !== 'failed') throw new Error('unreachable');
  assert.ok(!answer.message.includes(TOKEN), `message leaks the lftoken: ${answer.message}`);
  assert.ok(!(answer.bodyExcerpt ?? '').includes(TOKEN), 'bodyExcerpt leaks the lftoken');
  return answer;
}

/** Answers every request by the status code in its path: /status/503?… → 503. */
function byStatusPath(extra: (status: number, res: http.ServerResponse) => void = () => {}): http.RequestListener {
  return (req, res) => {
    const status = Number(/^\/status\/(\d+)/.exec(req.url ?? '')?.[1] ?? 500);
    extra(status, res);
    res.statusCode = status;
    res.end(status === 204 || status === 304 ? undefined : `body of ${status} with ${req.url}`);
  };
}

describe('PullClient against a real HTTP server', () => {
  let server: TestServer;
  let pulls: PullClient;
  let retryAfter = new Map<number, string>();

  before(async () => {
    server = await startServer((req, res) => {
      if (req.url?.startsWith('/users/')) {
        res.setHeader('content-type', 'application/json');
        res.end(PROFILE);
        return;
      }
      byStatusPath((status, response) => {
        if (status === 302) response.setHeader('location', `https://elsewhere.example/users/1234?lftoken=${TOKEN}`);
        const value = retryAfter.get(status);
        if (value !== undefined) response.setHeader('retry-after', value);
      })(req, res);
    });
    pulls = client();
  });

  after(async () => {
    await pulls.close();
    await server.close();
  });

  const statusUrl = (status: number): string => buildPullUrl(server.template(`/status/${status}/{id}`), '1234', TOKEN);

  it('returns the body of a 200 as text', async () => {
    const answer = await pulls.pull(buildPullUrl(server.template(), '1234', TOKEN));
    assert.equal(answer.kind, 'body');
    if (answer.kind !== 'body') return;
    assert.equal(answer.httpStatus, 200);
    assert.equal(answer.body, PROFILE);
    assert.ok(answer.durationMs >= 0);
  });

  it('sends Accept, Accept-Encoding: identity, User-Agent and the lftoken, and nothing is followed', async () => {
    const before = server.seen.length;
    await pulls.pull(buildPullUrl(server.template('/users/?id={id}'), 'jane.doe', TOKEN));
    const request = server.seen[before];
    assert.ok(request);
    assert.equal(request.method, 'GET');
    assert.equal(request.headers.accept, 'application/json');
    assert.equal(request.headers['accept-encoding'], 'identity');
    assert.equal(request.headers['user-agent'], USER_AGENT);
    const sent = new URL(request.url, 'http://placeholder');
    assert.equal(sent.searchParams.get('lftoken'), TOKEN);
    assert.equal(sent.searchParams.get('id'), 'jane.doe');
  });

  it('sends the id ".." as an encoded segment instead of resolving it away', async () => {
    const before = server.seen.length;
    await pulls.pull(buildPullUrl(server.template(), '..', TOKEN));
    assert.equal(server.seen[before]?.url, `/users/%2E%2E?lftoken=${TOKEN}`);
  });

  it('204 is invalid_response, not retriable', async () => {
    const answer = failed(await pulls.pull(statusUrl(204)));
    assert.equal(answer.outcome, 'invalid_response');
    assert.equal(answer.retriable, false);
    assert.equal(answer.httpStatus, 204);
    assert.match(answer.message, /expected 200 with a profile, got 204/);
    assert.equal(answer.bodyExcerpt, null);
  });

  it('302 is redirect with the (redacted) Location, not followed', async () => {
    const answer = failed(await pulls.pull(statusUrl(302)));
    assert.equal(answer.outcome, 'redirect');
    assert.equal(answer.retriable, false);
    assert.equal(answer.httpStatus, 302);
    assert.match(answer.message, /https:\/\/elsewhere\.example\/users\/1234\?lftoken=\[redacted\]/);
  });

  for (const status of [401, 403]) {
    it(`${status} is auth_failed, not retriable, explaining the key mismatch`, async () => {
      const answer = failed(await pulls.pull(statusUrl(status)));
      assert.equal(answer.outcome, 'auth_failed');
      assert.equal(answer.retriable, false);
      assert.equal(answer.httpStatus, status);
      assert.match(answer.message, /rejected p4p's lftoken/);
      assert.match(answer.message, /network key/);
      assert.match(answer.message, /lftoken=\[redacted\]/);
      assert.match(answer.bodyExcerpt ?? '', new RegExp(`body of ${status}`));
    });
  }

  it('404 is not_found, not retriable', async () => {
    const answer = failed(await pulls.pull(statusUrl(404)));
    assert.equal(answer.outcome, 'not_found');
    assert.equal(answer.retriable, false);
    assert.equal(answer.httpStatus, 404);
    assert.equal(answer.retryAfterMs, null);
  });

  it('500 with Retry-After in seconds is a retriable http_error', async () => {
    retryAfter = new Map([[500, '120']]);
    const answer = failed(await pulls.pull(statusUrl(500)));
    assert.equal(answer.outcome, 'http_error');
    assert.equal(answer.retriable, true);
    assert.equal(answer.httpStatus, 500);
    assert.equal(answer.retryAfterMs, 120_000);
    assert.match(answer.bodyExcerpt ?? '', /body of 500/);
  });

  it('503 with Retry-After as an HTTP date is a retriable http_error', async () => {
    retryAfter = new Map([[503, new Date(Date.now() + 120_000).toUTCString()]]);
    const answer = failed(await pulls.pull(statusUrl(503)));
    assert.equal(answer.outcome, 'http_error');
    assert.equal(answer.retriable, true);
    assert.ok(answer.retryAfterMs !== null && answer.retryAfterMs > 60_000 && answer.retryAfterMs <= 121_000, String(answer.retryAfterMs));
  });

  it('Retry-After is capped at one hour', async () => {
    retryAfter = new Map([[503, '86400']]);
    const answer = failed(await pulls.pull(statusUrl(503)));
    assert.equal(answer.retryAfterMs, MAX_RETRY_AFTER_MS);
  });

  it('a Retry-After that is neither seconds nor an HTTP date is ignored, and the message says so', async () => {
    retryAfter = new Map([[503, 'foo 2030']]);
    const answer = failed(await pulls.pull(statusUrl(503)));
    assert.equal(answer.retryAfterMs, null);
    assert.match(answer.message, /answered 503, a temporary failure \(Retry-After "foo 2030" ignored: send whole seconds or an HTTP date\)$/);
  });

  it('429 and 408 are retriable http_error; no Retry-After gives null', async () => {
    retryAfter = new Map();
    for (const status of [429, 408]) {
      const answer = failed(await pulls.pull(statusUrl(status)));
      assert.equal(answer.outcome, 'http_error');
      assert.equal(answer.retriable, true);
      assert.equal(answer.httpStatus, status);
      assert.equal(answer.retryAfterMs, null);
    }
  });

  it('418 (another 4xx) is an http_error that is not retried', async () => {
    const answer = failed(await pulls.pull(statusUrl(418)));
    assert.equal(answer.outcome, 'http_error');
    assert.equal(answer.retriable, false);
    assert.equal(answer.httpStatus, 418);
  });
});

describe('PullClient limits', () => {
  it('a server that never answers is a retriable timeout', async () => {
    const server = await startServer(() => {});
    const pulls = client({ totalTimeoutMs: 300 });
    try {
      const answer = failed(await pulls.pull(buildPullUrl(server.template(), '1', TOKEN)));
      assert.equal(answer.outcome, 'timeout');
      assert.equal(answer.retriable, true);
      assert.equal(answer.httpStatus, null);
      assert.match(answer.message, /300 ms/);
      assert.equal(server.seen.length, 1);
    } finally {
      await pulls.close();
      await server.close();
    }
  });

  it('a body that stops halfway is a timeout too', async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('{"id":');
    });
    const pulls = client({ totalTimeoutMs: 300 });
    try {
      const answer = failed(await pulls.pull(buildPullUrl(server.template(), '1', TOKEN)));
      assert.equal(answer.outcome, 'timeout');
      assert.equal(answer.retriable, true);
    } finally {
      await pulls.close();
      await server.close();
    }
  });

  it('a closed port is a retriable network_error naming the code', async () => {
    const probe = net.createServer().listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const { port } = probe.address() as AddressInfo;
    probe.close();
    await once(probe, 'close');
    const pulls = client();
    try {
      const answer = failed(await pulls.pull(`http://127.0.0.1:${port}/users/1?lftoken=${TOKEN}`));
      assert.equal(answer.outcome, 'network_error');
      assert.equal(answer.retriable, true);
      assert.match(answer.message, /ECONNREFUSED/);
    } finally {
      await pulls.close();
    }
  });

  it('a TLS handshake with a plain HTTP server is a retriable network_error', async () => {
    const server = await startServer((_req, res) => res.end('plain'));
    const pulls = client();
    try {
      const answer = failed(await pulls.pull(`https://127.0.0.1:${server.port}/users/1?lftoken=${TOKEN}`));
      assert.equal(answer.outcome, 'network_error');
      assert.equal(answer.retriable, true);
      assert.match(answer.message, /network error [A-Z_]+/);
    } finally {
      await pulls.close();
      await server.close();
    }
  });

  it('a 5 MB chunked body is too_large', async () => {
    const chunk = Buffer.alloc(64 * 1024, 'x');
    const server = await startServer(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      for (let sent = 0; sent < 5 * 1024 * 1024 && !res.destroyed; sent += chunk.length) {
        if (!res.write(chunk)) await drainOrClose(res);
      }
      res.end();
    });
    const pulls = client();
    try {
      const answer = failed(await pulls.pull(buildPullUrl(server.template(), '1', TOKEN)));
      assert.equal(answer.outcome, 'too_large');
      assert.equal(answer.retriable, false);
      assert.equal(answer.httpStatus, 200);
      assert.match(answer.message, /262144-byte cap/);
      assert.equal(answer.bodyExcerpt?.length, 2048);
    } finally {
      await pulls.close();
      await server.close();
    }
  });

  it('keeps the first 2048 bytes of a long error body as its excerpt, and the next pull still works', async () => {
    let calls = 0;
    const server = await startServer((_req, res) => {
      calls += 1;
      if (calls > 1) return res.end(PROFILE);
      res.writeHead(500);
      res.end('e'.repeat(3000) + 'x'.repeat(7000));
    });
    const pulls = client({ connectionsPerOrigin: 1 });
    try {
      const answer = failed(await pulls.pull(buildPullUrl(server.template(), '1', TOKEN)));
      assert.equal(answer.httpStatus, 500);
      assert.equal(answer.bodyExcerpt, 'e'.repeat(2048));
      const next = await pulls.pull(buildPullUrl(server.template(), '2', TOKEN));
      assert.equal(next.kind, 'body');
    } finally {
      await pulls.close();
      await server.close();
    }
  });

  it('stops reading an oversized body instead of buffering it (endless body)', async () => {
    const chunk = Buffer.alloc(64 * 1024, 'x');
    let peerClosed!: () => void;
    const closed = new Promise<void>((resolve) => (peerClosed = resolve));
    const server = await startServer(async (_req, res) => {
      res.on('close', () => peerClosed());
      res.writeHead(200);
      // Writes until the client hangs up; 1 GiB is only a backstop so a broken client cannot hang the test.
      for (let sent = 0; sent < 1024 ** 3 && !res.destroyed; sent += chunk.length) {
        if (!res.write(chunk)) await drainOrClose(res);
      }
      res.end();
    });
    const pulls = client({ maxBodyBytes: 1000, totalTimeoutMs: 30_000 });
    try {
      const answer = failed(await pulls.pull(buildPullUrl(server.template(), '1', TOKEN)));
      assert.equal(answer.outcome, 'too_large');
      await closed;
    } finally {
      await pulls.close();
      await server.close();
    }
  });

  it('a Content-Length over the cap is too_large without reading the body', async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(200, { 'content-length': String(300_000) });
      res.end(Buffer.alloc(300_000, 'x'));
    });
    const pulls = client();
    try {
      const answer = failed(await pulls.pull(buildPullUrl(server.template(), '1', TOKEN)));
      assert.equal(answer.outcome, 'too_large');
      assert.equal(answer.retriable, false);
      assert.match(answer.message, /Content-Length 300000/);
      assert.equal(answer.bodyExcerpt, null);
    } finally {
      await pulls.close();
      await server.close();
    }
  });

  it('a body of exactly maxBodyBytes is accepted', async () => {
    const server = await startServer((_req, res) => res.end('y'.repeat(1000)));
    const pulls = client({ maxBodyBytes: 1000 });
    try {
      const answer = await pulls.pull(buildPullUrl(server.template(), '1', TOKEN));
      assert.equal(answer.kind, 'body');
    } finally {
      await pulls.close();
      await server.close();
    }
  });

  it('a cancelled pull ends as a cancelled timeout, and one cancelled before it starts sends nothing', async () => {
    const cancelled = (): PullCancellation => {
      const cancellation = new PullCancellation();
      cancellation.cancel();
      return cancellation;
    };
    const server = await startServer(() => {});
    const pulls = client({ totalTimeoutMs: 30_000 });
    try {
      const cancellation = new PullCancellation();
      const pending = pulls.pull(buildPullUrl(server.template(), '1', TOKEN), cancellation);
      while (server.seen.length === 0) await new Promise((resolve) => setImmediate(resolve));
      cancellation.cancel();
      const answer = failed(await pending);
      assert.equal(answer.outcome, 'timeout');
      assert.match(answer.message, /cancelled/);

      const already = failed(await pulls.pull(buildPullUrl(server.template(), '2', TOKEN), cancelled()));
      assert.match(already.message, /cancelled/);
      assert.equal(server.seen.length, 1);
    } finally {
      await pulls.close();
      await server.close();
    }
  });

  it('a pull cancelled while it waits for a connection ends at once and is never sent', async () => {
    const held: http.ServerResponse[] = [];
    const server = await startServer((req, res) => (req.url?.startsWith('/users/1?') ? held.push(res) : res.end(PROFILE)));
    const pulls = client({ connectionsPerOrigin: 1, totalTimeoutMs: 30_000 });
    try {
      const first = pulls.pull(buildPullUrl(server.template(), '1', TOKEN));
      while (server.seen.length === 0) await new Promise((resolve) => setImmediate(resolve));
      const cancellation = new PullCancellation();
      const queued = pulls.pull(buildPullUrl(server.template(), '2', TOKEN), cancellation);
      cancellation.cancel();
      const answer = failed(await queued);
      assert.match(answer.message, /cancelled/);

      held[0]!.end(PROFILE);
      assert.equal((await first).kind, 'body');
      // The one connection serves the queue in order: had the cancelled pull gone out, it would come before this one.
      assert.equal((await pulls.pull(buildPullUrl(server.template(), '3', TOKEN))).kind, 'body');
      assert.deepEqual(server.seen.map((request) => request.url.split('?')[0]), ['/users/1', '/users/3']);
    } finally {
      for (const res of held) res.end();
      await pulls.close();
      await server.close();
    }
  });
});

describe('PullClient SSRF guard', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer((_req, res) => res.end(PROFILE));
  });
  after(async () => {
    await server.close();
  });

  it('refuses 127.0.0.1 and sends nothing', async () => {
    const pulls = client({ allowPrivateTargets: false });
    try {
      const answer = failed(await pulls.pull(buildPullUrl(server.template(), '1', TOKEN)));
      assert.equal(answer.outcome, 'blocked_target');
      assert.equal(answer.retriable, false);
      assert.match(answer.message, /127\.0\.0\.1/);
      assert.equal(server.seen.length, 0);
    } finally {
      await pulls.close();
    }
  });

  it('refuses other blocked literals, including IPv4-mapped IPv6 and metadata', async () => {
    const pulls = client({ allowPrivateTargets: false });
    try {
      for (const url of ['http://[::ffff:127.0.0.1]:1/x', 'http://169.254.169.254/latest/meta-data', 'http://[::1]:1/x', 'http://0x7f.1:1/x']) {
        const answer = failed(await pulls.pull(`${url}?lftoken=${TOKEN}`));
        assert.equal(answer.outcome, 'blocked_target', url);
      }
    } finally {
      await pulls.close();
    }
  });

  it('refuses localhost after DNS and sends nothing', async () => {
    const pulls = client({ allowPrivateTargets: false });
    try {
      const answer = failed(await pulls.pull(`http://localhost:${server.port}/users/1?lftoken=${TOKEN}`));
      assert.equal(answer.outcome, 'blocked_target');
      assert.equal(answer.retriable, false);
      assert.match(answer.message, /localhost resolves only to .*(127\.0\.0\.1|::1)/);
      assert.equal(server.seen.length, 0);
    } finally {
      await pulls.close();
    }
  });

  it('refuses a socket that ended up on a blocked address (DNS rebinding)', async () => {
    // A base connector that, like a rebound DNS name, lands on loopback whatever the host.
    const rebinding = buildConnector({ timeout: 5000 });
    const connect = guardConnector((options, callback) => rebinding({ ...options, hostname: '127.0.0.1', port: String(server.port) }, callback));
    const result = await new Promise<{ err: Error | null; socket: net.Socket | null }>((resolve) =>
      connect({ hostname: 'public.example', host: 'public.example', protocol: 'http:', port: '80' }, (err, socket) =>
        resolve({ err, socket }),
      ),
    );
    assert.equal(result.socket, null);
    assert.equal((result.err as { code?: string } | null)?.code, BLOCKED_TARGET_CODE);
    assert.match(result.err?.message ?? '', /connected to 127\.0\.0\.1 for public\.example/);
    assert.equal(server.seen.length, 0);
  });

  it('refuses URLs that are not http(s) without connecting', async () => {
    const pulls = client();
    try {
      assert.equal(failed(await pulls.pull('ftp://example.com/x')).outcome, 'blocked_target');
      assert.equal(failed(await pulls.pull('not a url')).outcome, 'blocked_target');
    } finally {
      await pulls.close();
    }
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  const cases: Array<[string | string[] | undefined, number | null]> = [
    ['0', 0],
    ['30', 30_000],
    [' 30 ', 30_000],
    ['3600', 3_600_000],
    ['3601', MAX_RETRY_AFTER_MS],
    ['Wed, 01 Jan 2025 00:02:00 GMT', 120_000],
    ['Tue, 31 Dec 2024 23:00:00 GMT', 0],
    ['Thu, 02 Jan 2025 00:00:00 GMT', MAX_RETRY_AFTER_MS],
    ['Wednesday, 01-Jan-25 00:02:00 GMT', 120_000],
    ['Wed Jan  1 00:02:00 2025', 120_000],
    ['foo 2030', null],
    ['Wed, 01 Jan 2025 00:02:00 PST', null],
    ['5, 7', null],
    [['15', '99'], 15_000],
    ['-5', null],
    ['1.5', null],
    ['soon', null],
    ['', null],
    [undefined, null],
  ];
  for (const [value, expected] of cases) {
    it(`${JSON.stringify(value)} → ${expected}`, () => assert.equal(parseRetryAfter(value, now), expected));
  }
});

describe('classifyError', () => {
  const context = { cancelled: false, timedOut: false, connectTimeoutMs: 5000, totalTimeoutMs: 10_000 };
  const withCode = (code: string, message = code): Error => Object.assign(new Error(message), { code });

  it('a connect timeout is a retriable timeout naming the connect timeout', () => {
    const failure = classifyError(withCode('UND_ERR_CONNECT_TIMEOUT'), context);
    assert.deepEqual([failure.outcome, failure.retriable], ['timeout', true]);
    assert.match(failure.message, /connect within 5000 ms/);
  });

  it('headers and body timeouts are retriable timeouts', () => {
    for (const code of ['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']) {
      assert.equal(classifyError(withCode(code), context).outcome, 'timeout');
    }
  });

  it('reset, DNS and TLS errors are retriable network errors naming the code', () => {
    for (const code of ['ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'CERT_HAS_EXPIRED', 'UND_ERR_SOCKET']) {
      const failure = classifyError(withCode(code, 'boom'), context);
      assert.deepEqual([failure.outcome, failure.retriable], ['network_error', true]);
      assert.match(failure.message, new RegExp(code));
    }
  });

  it('an aggregated connect error takes the code of its first error', () => {
    const aggregate = new AggregateError([withCode('ECONNREFUSED', 'connect ECONNREFUSED ::1:80')], '');
    assert.match(classifyError(aggregate, context).message, /ECONNREFUSED/);
  });

  it('cancellation and the total timeout win over the error itself', () => {
    assert.match(classifyError(withCode('UND_ERR_ABORTED'), { ...context, cancelled: true }).message, /cancelled/);
    assert.match(classifyError(withCode('UND_ERR_ABORTED'), { ...context, timedOut: true }).message, /10000 ms/);
  });
});
