import { createNetwork, directoryBytes, P4pServe, sqliteLocation } from '../support/p4p-serve.js';
import { pingLoad } from '../support/ping-load.js';
import { productPullsPerSecond } from '../support/pull-runs.js';
import type { PullEndpointProcess } from '../support/pull-endpoint.js';
import { boundRow, infoRow, ratioRow, type ResultRow } from '../support/report.js';
import { seedProfiles } from '../support/seed-profiles.js';
import { SCALE_BASELINE_PROFILES, type BenchSettings } from '../support/settings.js';
import { checked, targetOf } from './ingest.js';

interface AtSize {
  pingsPerSecond: number;
  pullsPerSecond: number;
  peakRssBytes: number;
  databaseBytes: number;
  seedSeconds: number;
}

/** Pull rate rounds at each size, the best kept: one round of 10,000 pulls lasts 2–3 s, short enough for a slow moment to halve it. */
const PULL_ROUNDS = 2;
/** Pinged users of the ingest load, drawn at random (with repeats) from the stored ones. */
const INGEST_USER_DRAWS = 300_000;
let epoch = 0;

/** `count` distinct ids out of `<prefix>0 … <prefix>(size-1)`, in random order. */
function sampleUsers(size: number, count: number): string[] {
  const indexes = Array.from({ length: size }, (_, i) => i);
  for (let i = 0; i < Math.min(count, size - 1); i++) {
    const j = i + Math.floor(Math.random() * (size - i));
    [indexes[i], indexes[j]] = [indexes[j]!, indexes[i]!];
  }
  return indexes.slice(0, count).map((i) => `p${i}`);
}

/**
 * A database seeded with `profiles` stored profiles (see seed-profiles.ts;
 * seeding is not timed), then, on `p4p serve`: the pull rate of re-pulling
 * existing users whose profile changed, and the saturated ingest rate of
 * pings for existing users drawn at random.
 */
async function measureAtSize(endpoint: PullEndpointProcess, settings: BenchSettings, profiles: number): Promise<AtSize> {
  const store = sqliteLocation();
  try {
    const key = await createNetwork(store);
    const seedStarted = Date.now();
    await seedProfiles(store.dataDir, endpoint.template, 'p', profiles);
    const seedSeconds = (Date.now() - seedStarted) / 1000;
    const serve = await P4pServe.start(store, key);
    let figures: Omit<AtSize, 'databaseBytes' | 'seedSeconds'>;
    try {
      let pullsPerSecond = 0;
      for (let round = 0; round < PULL_ROUNDS; round++) {
        await endpoint.control({ epoch: ++epoch });
        const rate = await productPullsPerSecond(serve, endpoint, sampleUsers(profiles, Math.min(profiles, settings.scalePullUsers)));
        pullsPerSecond = Math.max(pullsPerSecond, rate);
      }
      await endpoint.control({ hold: true, reset: true });
      const userIds = Array.from({ length: INGEST_USER_DRAWS }, () => `p${Math.floor(Math.random() * profiles)}`);
      await pingLoad(targetOf(serve), { durationSeconds: settings.warmupSeconds, userPrefix: '', userIds });
      const ingest = checked(await pingLoad(targetOf(serve), { durationSeconds: settings.loadSeconds, userPrefix: '', userIds, firstUser: 100_000 }));
      figures = { pingsPerSecond: ingest.pingsPerSecond, pullsPerSecond, peakRssBytes: serve.child.peakRssBytes() };
    } finally {
      await endpoint.control({ hold: false });
      await serve.stop();
    }
    return { ...figures, databaseBytes: directoryBytes(store.dataDir), seedSeconds };
  } finally {
    await store.dispose();
  }
}

const MB = 1024 * 1024;

/** Row 9. */
export async function scaleRows(endpoint: PullEndpointProcess, settings: BenchSettings): Promise<ResultRow[]> {
  const small = await measureAtSize(endpoint, settings, SCALE_BASELINE_PROFILES);
  const large = await measureAtSize(endpoint, settings, settings.scaleProfiles);
  const size = settings.scaleProfiles.toLocaleString('en-US');
  const base = SCALE_BASELINE_PROFILES.toLocaleString('en-US');
  return [
    ratioRow(`9 scale: ingest at ${size} profiles ÷ at ${base}`, 'pings/s', large.pingsPerSecond, small.pingsPerSecond, '>=', 0.8),
    ratioRow(`9 scale: pulls at ${size} profiles ÷ at ${base}`, 'pulls/s', large.pullsPerSecond, small.pullsPerSecond, '>=', 0.8,
      `best of ${PULL_ROUNDS} rounds of ${settings.scalePullUsers.toLocaleString('en-US')} changed profiles at each size`),
    boundRow(`9 scale: server peak RSS at ${size} profiles`, 'MB', large.peakRssBytes / MB, '<=', 300, `at ${base}: ${Math.round(small.peakRssBytes / MB)} MB`),
    infoRow(`9 scale: database on disk at ${size} profiles`, 'MB', large.databaseBytes / MB,
      `at ${base}: ${(small.databaseBytes / MB).toFixed(1)} MB; seeded in ${large.seedSeconds.toFixed(0)} s through the store API`),
  ];
}
