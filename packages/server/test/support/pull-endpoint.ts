import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedPull {
  userId: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** Date.now() when the request arrived and when the answer was finished. */
  startedAt: number;
  finishedAt: number | null;
}

/** Writes the answer for one pull; may be async (to delay). */
export type PullBehaviour = (userId: string, response: ServerResponse, pull: RecordedPull) => void | Promise<void>;

/** Answers 200 with `profiles[userId]` as JSON, or 404 when there is none. */
export function serveProfiles(profiles: Map<string, unknown>): PullBehaviour {
  return (userId, response) => {
    const profile = profiles.get(userId);
    if (profile === undefined) response.writeHead(404).end();
    else response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(profile));
  };
}

/**
 * A customer's pull endpoint for tests: a real HTTP server on 127.0.0.1
 * serving `GET /users/{id}`, recording every request it receives. Its
 * behaviour can be swapped at any time.
 */
export class PullEndpoint {
  readonly pulls: RecordedPull[] = [];
  /** Per-user answers; users without one get `behaviour`. */
  readonly profiles = new Map<string, unknown>();
  behaviour: PullBehaviour = serveProfiles(this.profiles);
  private inFlight = 0;
  /** Most requests seen in flight at once. */
  maxInFlight = 0;
  private readonly server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://endpoint');
    const userId = decodeURIComponent(url.pathname.replace(/^\/users\//, ''));
    const pull: RecordedPull = { userId, path: url.pathname, query: url.searchParams, headers: request.headers, startedAt: Date.now(), finishedAt: null };
    this.pulls.push(pull);
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    response.on('close', () => {
      this.inFlight -= 1;
      pull.finishedAt = Date.now();
    });
    void Promise.resolve(this.behaviour(userId, response, pull)).catch(() => response.destroy());
  });

  static async start(): Promise<PullEndpoint> {
    const endpoint = new PullEndpoint();
    await new Promise<void>((resolve) => endpoint.server.listen(0, '127.0.0.1', resolve));
    return endpoint;
  }

  get origin(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The template to register: `<origin>/users/{id}`. */
  get template(): string {
    return `${this.origin}/users/{id}`;
  }

  pullsFor(userId: string): RecordedPull[] {
    return this.pulls.filter((pull) => pull.userId === userId);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
