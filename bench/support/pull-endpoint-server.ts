/**
 * The customer's pull endpoint for the benchmark, run as a process of its own
 * (`node --import tsx pull-endpoint-server.ts PORT`): `GET /users/{id}`
 * answers a small valid profile, optionally after a delay or held until
 * released, and counts the pulls of every user. `/__…` routes steer it;
 * `/__wait?served=N` answers once N pulls have been answered, so that a run
 * is timed without polling the endpoint while it works.
 */
import { createServer, type ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';

let delayMs = 0;
let holding = false;
/** Part of every display name: bumping it makes every next pull a changed profile. */
let epoch = 0;
let held: Array<() => void> = [];
let served = 0;
let inFlight = 0;
let pullsPerUser = new Map<string, number>();
/** The most recently answered users, newest last, to check that they were stored. */
let recent: string[] = [];
const RECENT_KEPT = 256;
/** `/__wait` requests not yet answered: each is answered once `served` reaches its count. */
let waiters: Array<{ served: number; answer: () => void }> = [];

/** The profile the endpoint serves for a user at an epoch (also what row 9 seeds). */
export function profileFor(userId: string, epoch: number): string {
  return JSON.stringify({
    id: userId,
    display_name: `User ${userId} e${epoch}`,
    email: `${userId}@example.com`,
    image_url: `https://img.example.com/avatars/${userId}-${epoch}.jpg`,
    tags: ['bench'],
  });
}

function answerPull(userId: string, response: ServerResponse): void {
  const body = profileFor(userId, epoch);
  response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
  served += 1;
  inFlight -= 1;
  pullsPerUser.set(userId, (pullsPerUser.get(userId) ?? 0) + 1);
  recent.push(userId);
  if (recent.length > RECENT_KEPT * 2) recent = recent.slice(-RECENT_KEPT);
  if (waiters.length > 0) answerWaiters();
}

function answerWaiters(): void {
  const waiting = waiters;
  waiters = [];
  for (const waiter of waiting) {
    if (served >= waiter.served) waiter.answer();
    else waiters.push(waiter);
  }
}

function stats(): Record<string, unknown> {
  let maxPerUser = 0;
  for (const count of pullsPerUser.values()) maxPerUser = Math.max(maxPerUser, count);
  return { served, inFlight, held: held.length, distinctUsers: pullsPerUser.size, maxPerUser, recent: recent.slice(-RECENT_KEPT) };
}

function control(url: URL): void {
  const { searchParams: q } = url;
  if (q.has('delayMs')) delayMs = Number(q.get('delayMs'));
  if (q.has('epoch')) epoch = Number(q.get('epoch'));
  if (q.get('hold') === 'true') holding = true;
  if (q.get('hold') === 'false') {
    holding = false;
    const release = held;
    held = [];
    for (const answer of release) answer();
  }
  if (q.get('reset') === 'true') {
    served = 0;
    pullsPerUser = new Map();
    recent = [];
  }
}

function startEndpoint(port: number): void {
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://endpoint');
    if (url.pathname.startsWith('/users/')) {
      const userId = decodeURIComponent(url.pathname.slice('/users/'.length));
      inFlight += 1;
      const answer = (): void => answerPull(userId, response);
      if (holding) held.push(answer);
      else if (delayMs > 0) setTimeout(answer, delayMs);
      else answer();
      return;
    }
    if (url.pathname === '/__wait') {
      const answer = (): void => void response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(stats()));
      waiters.push({ served: Number(url.searchParams.get('served')), answer });
      return answerWaiters();
    }
    if (url.pathname === '/__control') control(url);
    else if (url.pathname !== '/__stats') return void response.writeHead(404).end();
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(stats()));
  });

  server.keepAliveTimeout = 60_000;
  server.listen(port, '127.0.0.1');
  process.once('SIGTERM', () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) startEndpoint(Number(process.argv[2]));
