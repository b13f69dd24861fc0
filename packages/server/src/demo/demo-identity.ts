import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sendPing, type PingAnswer } from '../client/send-ping.js';
import type { Profile } from '../profile/profile.js';
import { isSystemUser, parseToken, verifyToken } from '../tokens/verify-token.js';

/** Fields a visitor may edit through POST /users/{id}. */
const EDITABLE = ['display_name', 'bio', 'image_url', 'location'] as const;

const SEED: Profile[] = [
  { id: 'ada', display_name: 'Ada Lovelace', bio: 'Analyst of engines', image_url: 'https://example.com/avatars/ada-1.png' },
  { id: 'grace', display_name: 'Grace Hopper', bio: 'Compilers, and nanoseconds', location: 'Arlington' },
  { id: 'alan', display_name: 'Alan Turing', bio: 'Can machines think?' },
];

export interface DemoIdentity {
  url: string;
  close(): Promise<void>;
}

async function readForm(request: IncomingMessage): Promise<URLSearchParams> {
  let text = '';
  for await (const chunk of request) {
    text += chunk;
    if (text.length > 16 * 1024) throw new Error('body too large');
  }
  return new URLSearchParams(text);
}

/**
 * A tiny identity system for the quick start: it serves pulls (checking
 * p4p's lftoken, answering 403 with no body when it fails) and, when a
 * profile is edited, pings p4p.
 */
export async function startDemoIdentity(options: { network: string; key: string; p4pUrl: string; port: number }): Promise<DemoIdentity> {
  const users = new Map(SEED.map((profile) => [profile.id, { ...profile }]));

  function authorised(token: string | null): boolean {
    const parsed = parseToken(token);
    if (!parsed.ok) return false;
    const verified = verifyToken(parsed, { keys: [options.key], networkName: options.network, nowMs: Date.now() });
    return verified.ok && isSystemUser(verified.claims);
  }

  const server: Server = createServer(async (request, response) => {
    const url = new URL(request.url ?? '/', 'http://demo');
    const [, resource, id] = url.pathname.split('/');
    const profile = id === undefined ? undefined : users.get(id);
    if (request.method === 'GET' && resource === 'profiles') {
      if (!authorised(url.searchParams.get('lftoken'))) return response.writeHead(403).end();
      if (profile === undefined) return response.writeHead(404).end();
      return response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(profile));
    }
    if (request.method === 'POST' && resource === 'users' && profile !== undefined) {
      const form = await readForm(request).catch(() => new URLSearchParams());
      for (const field of EDITABLE) {
        const value = form.get(field);
        if (value !== null) profile[field] = value;
      }
      const ping: PingAnswer = await sendPing(options.p4pUrl, options.network, options.key, profile.id).catch((error: Error) => ({
        status: 0,
        body: { message: error.message },
      }));
      return response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ profile, ping }));
    }
    response.writeHead(404, { 'content-type': 'text/plain' }).end('GET /profiles/{id}?lftoken=… or POST /users/{id} with display_name=…\n');
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
