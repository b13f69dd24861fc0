import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * The `p4p` command line as operators run it: `node bin/p4p.js …`, which
 * loads the compiled dist/ (so `npm run build` first).
 */
export const P4P_BIN = fileURLToPath(new URL('../../bin/p4p.js', import.meta.url));

/** How long one command may take before it is killed: 20 s. */
const COMMAND_TIMEOUT_MS = 20_000;

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The environment without any P4P_* variable of the machine running the tests, plus `extra`. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('P4P_')) env[name] = value;
  return { ...env, ...extra };
}

/** Runs `p4p …` to completion. Never rejects: the exit code is part of the result. */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [P4P_BIN, ...args], { env: cleanEnv(env), timeout: COMMAND_TIMEOUT_MS, killSignal: 'SIGKILL' }, (error, stdout, stderr) => {
      const failure = error as (Error & { code?: number | string; signal?: NodeJS.Signals | null }) | null;
      resolve({
        code: failure === null ? 0 : typeof failure.code === 'number' ? failure.code : null,
        signal: failure?.signal ?? null,
        stdout: String(stdout),
        stderr: String(stderr),
      });
    });
  });
}

/** `p4p network create NAME --json --data DATA`; resolves to the key, rejects when the command fails. */
export async function createNetwork(data: string, name: string): Promise<string> {
  const run = await runCli(['network', 'create', name, '--json', '--data', data]);
  if (run.code !== 0) throw new Error(`p4p network create failed (exit ${run.code}, signal ${run.signal}): ${run.stderr}`);
  return (JSON.parse(run.stdout) as { key: string }).key;
}
