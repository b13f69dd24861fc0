import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** Every child started and not yet exited, so that a failing run still ends them. */
const running = new Set<BenchChild>();

/** A child process of the benchmark (server under test, baseline server or pull endpoint), ended with {@link BenchChild.stop}. */
export class BenchChild {
  stderr = '';
  private exitCode: number | null | undefined;
  private readonly exited: Promise<void>;

  constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    running.add(this);
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-8192);
    });
    this.exited = new Promise((resolve) =>
      child.once('exit', (code) => {
        this.exitCode = code;
        running.delete(this);
        resolve();
      }),
    );
  }

  /** Starts `node [nodeArgs] script [args]` with stdout ignored and stderr kept for error messages. */
  static start(name: string, nodeArgs: string[], script: string, args: string[], env: NodeJS.ProcessEnv = process.env): BenchChild {
    const child = spawn(process.execPath, [...nodeArgs, script, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    return new BenchChild(name, child);
  }

  get pid(): number {
    return this.child.pid!;
  }

  get hasExited(): boolean {
    return this.exitCode !== undefined;
  }

  /** Peak resident set size of the child so far, in bytes (Linux VmHWM). */
  peakRssBytes(): number {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(status);
    if (match === null) throw new Error(`no VmHWM in /proc/${this.pid}/status`);
    return Number(match[1]) * 1024;
  }

  /** Waits until `url` answers 200, or fails with the child's stderr if it exits or takes over 30 s. */
  async waitReady(url: string): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (this.hasExited) throw new Error(`${this.name} exited with ${this.exitCode} before it was ready:\n${this.stderr}`);
      try {
        const response = await fetch(url);
        await response.arrayBuffer();
        if (response.ok) return;
      } catch {
        // not listening yet
      }
      await sleep(50);
    }
    throw new Error(`${this.name} was not ready at ${url} within 30 s:\n${this.stderr}`);
  }

  /** SIGTERM, then SIGKILL after 10 s; resolves once it has exited. */
  async stop(): Promise<void> {
    if (this.hasExited) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }

  static async stopAll(): Promise<void> {
    await Promise.all([...running].map((child) => child.stop()));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A port free on 127.0.0.1 right now, for a child that cannot report the one it bound. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** `node --import tsx`, for the benchmark's own TypeScript child scripts. */
export const TSX_NODE_ARGS = ['--import', 'tsx'];
