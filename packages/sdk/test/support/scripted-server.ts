import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Writes the answer to request number `index` (0-based). */
export type Script = (response: ServerResponse, index: number, request: ReceivedRequest) => void;

/**
 * A real HTTP server on 127.0.0.1 that answers by a script and records every
 * request: for what p4p itself does not do on demand (a 503, a proxy's HTML page).
 */
export class ScriptedServer {
  readonly received: ReceivedRequest[] = [];
  private readonly server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      const received = { method: request.method ?? '', path: request.url ?? '', headers: request.headers, body };
      this.received.push(received);
      this.script(response, this.received.length - 1, received);
    });
  });

  private constructor(private readonly script: Script) {}

  static async start(script: Script): Promise<ScriptedServer> {
    const scripted = new ScriptedServer(script);
    await new Promise<void>((resolve) => scripted.server.listen(0, '127.0.0.1', resolve));
    return scripted;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Answers `status` with a p4p-style `{ code, message }` body and optional headers. */
export function p4pError(response: ServerResponse, status: number, code: string, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify({ code, message: `${code} for a test` }));
}
