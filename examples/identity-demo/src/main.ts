/**
 * `npm start`: p4p and a small identity system side by side, showing the
 * Ping-for-Pull loop working. Starts p4p in this process (SQLite in the data
 * directory), creates the demo network on first start, starts the identity
 * app on the next port, registers its pull URL through p4p-sdk, runs one
 * ping → pull → store round trip and prints where to go next.
 *
 *   node examples/identity-demo/dist/main.js [--port 8080] [--data ./data]
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createLogger, DEFAULT_SERVE_CONFIG, startServer, type P4pServer, type ServeConfig } from 'p4p';
import { Network, buildSystemToken } from 'p4p-sdk';
import { PULL_PATH, startIdentityApp, type IdentityApp } from './identity-app.js';
import { P4pView } from './p4p-view.js';
import { USERS_FILE, UserDirectory } from './user-directory.js';

const DEMO_NETWORK = 'demo.fyre.co';
/** The user the start-up loop check pings. */
const LOOP_CHECK_USER = 'ada';
/** Lifetime of the read token printed in the banner: a day of trying things out. */
const BANNER_TOKEN_SECONDS = 24 * 3600;

interface DemoOptions {
  port: number;
  dataDir: string;
}

function readOptions(argv: string[]): DemoOptions {
  const { values } = parseArgs({
    args: argv,
    options: { port: { type: 'string', default: process.env.P4P_PORT ?? '8080' }, data: { type: 'string', default: process.env.P4P_DATA ?? './data' } },
  });
  const port = Number(values.port);
  if (!/^\d+$/.test(values.port) || port > 65_534) {
    throw new Error(`--port must be 0 (any free port) or a port number up to 65534 (the demo takes the next one), got ${values.port}`);
  }
  return { port, dataDir: values.data };
}

/** The demo identity system next to p4p: on the next port, or any free port when that one is taken (any other error stops the start). */
async function startNextToP4p(options: Omit<Parameters<typeof startIdentityApp>[0], 'port'>, p4pPort: number): Promise<IdentityApp> {
  if (p4pPort === 0) return startIdentityApp({ ...options, port: 0 });
  return startIdentityApp({ ...options, port: p4pPort + 1 }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EADDRINUSE') throw error;
    return startIdentityApp({ ...options, port: 0 });
  });
}

async function startDemo(options: DemoOptions, server: P4pServer): Promise<{ app: IdentityApp; banner: string }> {
  const stored = (await server.store.getNetwork(DEMO_NETWORK)) ??
    (await server.store.createNetwork({ name: DEMO_NETWORK, key: randomBytes(32).toString('base64url') }, Date.now()));
  const key = stored.keys[0]!;
  const network = new Network({ name: DEMO_NETWORK, key, url: server.url });
  const users = UserDirectory.open(options.dataDir);
  const view = new P4pView(server.url, network);
  const app = await startNextToP4p({ users, network, view, host: '127.0.0.1' }, options.port);
  try {
    return { app, banner: await registerAndCheck(app, network, view, server.url, key, options) };
  } catch (error) {
    // The app's listening socket would keep the process alive after the failed start.
    await app.close();
    throw error;
  }
}

/** Registers the app's pull URL, runs the loop check once and returns the banner. */
async function registerAndCheck(app: IdentityApp, network: Network, view: P4pView, p4pUrl: string, key: string, options: DemoOptions): Promise<string> {
  const template = `${app.url}${PULL_PATH}?id={id}`;
  await network.setUserSyncUrl(template);
  const loopCheck = await view.syncAndWait(LOOP_CHECK_USER);
  const token = buildSystemToken(DEMO_NETWORK, key, BANNER_TOKEN_SECONDS);
  return `
p4p and a demo identity system are running.

  identity demo  ${app.url}
  p4p            ${p4pUrl} (data in ${options.dataDir}, demo users in ${options.dataDir}/${USERS_FILE})
  demo network   ${DEMO_NETWORK}
  network key    ${key}
  pull URL       ${template}
  loop check     ${loopCheck} (user ${LOOP_CHECK_USER})

Open ${app.url} in a browser, edit a user's display name and save: the page
shows what p4p pulled and stored, within a second. Or from a terminal:
  curl -d 'display_name=Ada King' ${app.url}/users/ada
  curl -H 'Authorization: Bearer ${token}' ${p4pUrl}/api/v3.0/user/ada/profile
Check the demo's pull endpoint the way p4p uses it:
  P4P_KEY=${key} npx p4p doctor '${template}' --network ${DEMO_NETWORK} --user ada

Stop with Ctrl-C (pulls in flight finish first).
`;
}

const STOP_SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/**
 * `stopping` resolves on the first SIGTERM or SIGINT; `release()` removes the
 * listeners, giving Ctrl-C back its default (exit) when the demo gives up.
 */
function stopSignal(): { stopping: Promise<string>; release(): void } {
  let onSignal: (signal: string) => void = () => undefined;
  const stopping = new Promise<string>((resolve) => (onSignal = resolve));
  for (const signal of STOP_SIGNALS) process.once(signal, onSignal);
  return { stopping, release: () => STOP_SIGNALS.forEach((signal) => process.removeListener(signal, onSignal)) };
}

async function main(): Promise<number> {
  let options: DemoOptions;
  try {
    options = readOptions(process.argv.slice(2));
  } catch (error) {
    console.error(`identity demo: ${(error as Error).message}`);
    return 1;
  }
  mkdirSync(options.dataDir, { recursive: true });
  const config: ServeConfig = {
    ...DEFAULT_SERVE_CONFIG,
    port: options.port,
    dataDir: options.dataDir,
    // The demo identity system runs on loopback, which p4p refuses to pull from unless allowed.
    allowPrivateTargets: true,
    logLevel: 'warn',
  };
  // Listen for signals first, so a Ctrl-C during the start still stops cleanly.
  const { stopping, release } = stopSignal();
  let server: P4pServer;
  try {
    server = await startServer(config, createLogger(config.logLevel));
  } catch (error) {
    release();
    console.error(`identity demo: p4p could not start: ${(error as Error).message}`);
    return 1;
  }
  let app: IdentityApp | undefined;
  try {
    const started = await startDemo(options, server);
    app = started.app;
    console.log(started.banner);
  } catch (error) {
    release();
    console.error(`identity demo: could not start: ${(error as Error).message}`);
    await server.stop();
    return 1;
  }
  await stopping;
  await app.close();
  await server.stop();
  return 0;
}

process.exitCode = await main();
