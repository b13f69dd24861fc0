/**
 * The baseline of rows 1 and 3 (`node --import tsx bare-ping-server.ts PORT NETWORK KEY`):
 * a bare node:http server that does the ping route's request work and nothing
 * else. It parses the same request (path, user id, form or JSON body with a
 * 16 KiB limit, bearer header), verifies the same token with p4p's own token
 * code, and answers the same 200 body without storing anything.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { USER_ID_PATTERN } from '../../packages/server/src/tokens/token-claims.js';
import { isSystemUser, parseToken, verifyToken } from '../../packages/server/src/tokens/verify-token.js';

const [port, networkName, key] = process.argv.slice(2) as [string, string, string];
const networks = new Map([[networkName, { name: networkName, keys: [key], owners: [] as string[] }]]);
const PING_PATH = /^\/api\/v3[._]0\/user\/([^/?]+)\/refresh(?:\?|$)/;
const MAX_BODY_BYTES = 16 * 1024;

function answer(response: ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(json) }).end(json);
}

function tokenOf(request: IncomingMessage, body: string): string | null {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
  if (bearer !== null) return bearer[1]!;
  const type = request.headers['content-type'] ?? '';
  if (type.startsWith('application/x-www-form-urlencoded')) return new URLSearchParams(body).get('lftoken');
  if (type.startsWith('application/json')) {
    const parsed = JSON.parse(body) as { lftoken?: unknown };
    return typeof parsed.lftoken === 'string' ? parsed.lftoken : null;
  }
  return null;
}

function handle(request: IncomingMessage, response: ServerResponse, body: string): void {
  if (request.url === '/healthz') return answer(response, 200, { status: 'ok' });
  const match = PING_PATH.exec(request.url ?? '');
  if (request.method !== 'POST' || match === null) return answer(response, 404, { code: 'not_found' });
  const userId = decodeURIComponent(match[1]!);
  if (!USER_ID_PATTERN.test(userId)) return answer(response, 400, { code: 'invalid_user_id' });
  const parsed = parseToken(tokenOf(request, body));
  if (!parsed.ok) return answer(response, 403, { code: parsed.code, message: parsed.message });
  const network = networks.get(parsed.claims.domain);
  if (network === undefined) return answer(response, 403, { code: 'unknown_network' });
  const verified = verifyToken(parsed, { keys: network.keys, networkName: network.name, nowMs: Date.now() });
  if (!verified.ok) return answer(response, 403, { code: verified.code, message: verified.message });
  if (!isSystemUser(verified.claims, network.owners)) return answer(response, 403, { code: 'not_system_token' });
  answer(response, 200, { status: 'ok', network: network.name, user_id: userId });
}

const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  let size = 0;
  request.on('data', (chunk: Buffer) => {
    if (response.headersSent) return;
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return void answer(response, 413, { code: 'body_too_large' });
    chunks.push(chunk);
  });
  request.on('end', () => {
    if (response.headersSent) return;
    try {
      handle(request, response, Buffer.concat(chunks).toString('utf8'));
    } catch {
      answer(response, 400, { code: 'invalid_body' });
    }
  });
});

server.keepAliveTimeout = 60_000;
server.listen(Number(port), '127.0.0.1');
process.once('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
