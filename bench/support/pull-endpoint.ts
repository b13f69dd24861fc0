import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { BenchChild, freePort, TSX_NODE_ARGS } from './child-process.js';

const SCRIPT = fileURLToPath(new URL('./pull-endpoint-server.ts', import.meta.url));

export interface EndpointStats {
  served: number;
  inFlight: number;
  held: number;
  distinctUsers: number;
  maxPerUser: number;
  recent: string[];
}

/** The pull endpoint child process (see pull-endpoint-server.ts) and its control routes. */
export class PullEndpointProcess {
  private constructor(
    readonly child: BenchChild,
    readonly origin: string,
  ) {}

  static async start(): Promise<PullEndpointProcess> {
    const port = await freePort();
    const child = BenchChild.start('pull endpoint', TSX_NODE_ARGS, SCRIPT, [String(port)]);
    const origin = `http://127.0.0.1:${port}`;
    await child.waitReady(`${origin}/__stats`);
    return new PullEndpointProcess(child, origin);
  }

  get template(): string {
    return `${this.origin}/users/{id}`;
  }

  /** Changes delay, hold, epoch or resets the counters; answers the stats. */
  async control(settings: { delayMs?: number; hold?: boolean; epoch?: number; reset?: boolean }): Promise<EndpointStats> {
    const query = new URLSearchParams(Object.entries(settings).map(([name, value]) => [name, String(value)]));
    const response = await request(`${this.origin}/__control?${query}`);
    return (await response.body.json()) as EndpointStats;
  }

  /** Answers the stats once the endpoint has answered `served` pulls (since the last reset); fails after `timeoutMs`. */
  async waitServed(served: number, timeoutMs: number): Promise<EndpointStats> {
    const response = await request(`${this.origin}/__wait?served=${served}`, { headersTimeout: timeoutMs }).catch((error: unknown) => {
      throw new Error(`waiting up to ${timeoutMs} ms for the pull endpoint to answer ${served} pulls: ${(error as Error).message}`, { cause: error });
    });
    return (await response.body.json()) as EndpointStats;
  }

  async stats(): Promise<EndpointStats> {
    const response = await request(`${this.origin}/__stats`);
    return (await response.body.json()) as EndpointStats;
  }

  stop(): Promise<void> {
    return this.child.stop();
  }
}
