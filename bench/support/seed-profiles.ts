import { validateProfile } from '../../packages/server/src/profile/validate-profile.js';
import { SqliteStore } from '../../packages/server/src/store/sqlite/sqlite-store.js';
import { NETWORK_NAME } from './p4p-serve.js';
import { profileFor } from './pull-endpoint-server.js';

const BATCH_USERS = 2000;

/**
 * Stores a pulled profile for users `<prefix>0 … <prefix>(count-1)` through
 * p4p's own store API, the verbs a ping and a pull use (recordPings,
 * claimDue, completePull), in batches that share one commit; it writes the
 * same rows as pings and pulls would, minus HTTP, in a fraction of the time.
 * Registers the pull URL too. Runs before `p4p serve` opens the data directory.
 */
export async function seedProfiles(dataDir: string, pullUrlTemplate: string, prefix: string, count: number): Promise<void> {
  const store = SqliteStore.open({ dataDir, durability: 'process' });
  try {
    const network = await store.getNetwork(NETWORK_NAME);
    if (network === null) throw new Error(`no network ${NETWORK_NAME} in ${dataDir}`);
    await store.setPullUrlTemplate(network.id, pullUrlTemplate, Date.now());
    for (let first = 0; first < count; first += BATCH_USERS) {
      const now = Date.now();
      const userIds = Array.from({ length: Math.min(BATCH_USERS, count - first) }, (_, i) => `${prefix}${first + i}`);
      await store.recordPings(network.id, userIds, now);
      const claims = await store.claimDue({ now, limit: userIds.length, perNetworkLimit: userIds.length, leaseMs: 60_000 });
      if (claims.length !== userIds.length) throw new Error(`seeding claimed ${claims.length} of ${userIds.length} pings`);
      const stored = await Promise.all(
        claims.map((claim) => {
          const check = validateProfile(JSON.parse(profileFor(claim.userId, 0)), claim.userId);
          if (!check.ok) throw new Error(`seed profile rejected: ${check.reason}`);
          const attempt = { at: now, outcome: 'ok' as const, httpStatus: 200, durationMs: 1, message: null, warnings: [], responseExcerpt: null };
          return store.completePull(claim, { attempt, newVersion: { profile: check.profile, changed: ['display_name'] }, retryAt: null, gaveUp: false }, now);
        }),
      );
      if (stored.includes(false)) throw new Error('seeding could not complete a claimed pull');
    }
  } finally {
    await store.close();
  }
}
