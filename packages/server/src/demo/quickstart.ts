import { sendPing } from '../client/send-ping.js';
import { generateNetworkKey } from '../networks/network-input.js';
import type { P4pServer } from '../server/p4p-server.js';
import type { ServeConfig } from '../server/serve-config.js';
import type { Network } from '../store/store.js';
import { buildSystemToken } from '../tokens/sign-token.js';
import { startDemoIdentity } from './demo-identity.js';

export const DEMO_NETWORK = 'demo.fyre.co';

/** Pings the demo user `ada` and reports how the pull that follows ended. */
async function loopCheck(server: P4pServer, network: Network, key: string): Promise<string> {
  const startedAt = Date.now();
  const ping = await sendPing(server.url, DEMO_NETWORK, key, 'ada');
  if (ping.status !== 200) return `the ping was refused: ${ping.status} ${ping.body?.message ?? ''}`;
  for (let waited = 0; waited < 10_000; waited += 5) {
    const user = await server.store.getUser(network.id, 'ada');
    const pulled = user !== null && user.sync.lastPullAt !== null && user.sync.lastPullAt >= startedAt;
    if (pulled && (user.sync.state === 'idle' || user.sync.state === 'failed')) {
      const outcome = user.sync.lastOutcome === 'ok' ? `stored as version ${user.version}`
        : user.sync.lastOutcome === 'unchanged' ? `unchanged since version ${user.version}`
        : `${user.sync.lastOutcome}: ${user.sync.lastMessage}`;
      return `ping → pull → ${outcome} in ${Date.now() - startedAt} ms (user ada)`;
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return 'the pull of ada did not finish within 10 s; see the log';
}

/**
 * `p4p serve --demo`: makes sure the demo network exists, starts the demo
 * identity system next to p4p, registers its pull URL through the public
 * API, runs one ping → pull → store round trip and prints what to try next.
 * Resolves to a function that stops the demo identity system.
 */
export async function quickstart(server: P4pServer, config: ServeConfig): Promise<() => Promise<void>> {
  const network = (await server.store.getNetwork(DEMO_NETWORK)) ??
    (await server.store.createNetwork({ name: DEMO_NETWORK, key: generateNetworkKey() }, Date.now()));
  const key = network.keys[0]!;
  const identity = await startDemoIdentity({ network: DEMO_NETWORK, key, p4pUrl: server.url, port: config.port === 0 ? 0 : config.port + 1 })
    .catch(() => startDemoIdentity({ network: DEMO_NETWORK, key, p4pUrl: server.url, port: 0 }));
  const template = `${identity.url}/profiles/{id}`;
  const registration = await fetch(new URL('/', server.url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ actor_token: buildSystemToken(DEMO_NETWORK, key, 60), pull_profile_url: template }),
  });
  if (registration.status !== 204) throw new Error(`registering the demo pull URL failed with ${registration.status}`);

  const check = await loopCheck(server, network, key);
  const token = buildSystemToken(DEMO_NETWORK, key, 24 * 3600);
  console.log(`
p4p is running at ${server.url} (data in ${config.dataDir})

  demo network   ${DEMO_NETWORK}
  network key    ${key}
  identity demo  ${identity.url} (pull URL ${template})
  loop check     ${check}

Try the whole loop:
  1. change a profile at the identity system (it pings p4p):
       curl -X POST ${identity.url}/users/ada -d 'display_name=Ada King'
  2. read what p4p pulled and stored (profile, sync state, versions, attempts):
       curl '${server.url}/api/v3.0/user/ada/profile?lftoken=${token}'
       curl '${server.url}/api/v3.0/user/ada/versions?lftoken=${token}'
  3. ping by hand, as an operator:
       npx p4p ping ${DEMO_NETWORK} grace --data ${config.dataDir} --url ${server.url}

Stop with Ctrl-C (pulls in flight finish first).
`);
  return () => identity.close();
}
