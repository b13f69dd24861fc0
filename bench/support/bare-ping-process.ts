import { fileURLToPath } from 'node:url';
import { BenchChild, freePort, TSX_NODE_ARGS } from './child-process.js';
import type { PingTarget } from './ping-load.js';

const SCRIPT = fileURLToPath(new URL('./bare-ping-server.ts', import.meta.url));

/** Runs `work` against the bare node:http ping server (bare-ping-server.ts) as a child process of its own. */
export async function withBarePingServer<T>(network: string, key: string, work: (target: PingTarget) => Promise<T>): Promise<T> {
  const port = await freePort();
  const child = BenchChild.start('bare ping server', TSX_NODE_ARGS, SCRIPT, [String(port), network, key]);
  try {
    const url = `http://127.0.0.1:${port}`;
    await child.waitReady(`${url}/healthz`);
    return await work({ url, network, key });
  } finally {
    await child.stop();
  }
}
