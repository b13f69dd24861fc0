import { createNetwork, directoryBytes, P4pServe, sqliteLocation } from '../support/p4p-serve.js';
import { pingLoad } from '../support/ping-load.js';
import { productPullsPerSecond } from '../support/pull-runs.js';
import type { PullEndpointProcess } from '../support/pull-endpoint.js';
import { boundRow, infoRow, ratioRow, type ResultRow } from '../support/report.js';
import { seedProfiles } from '../support/seed-profiles.js';
import { SCALE_BASELINE_PROFILES, type BenchSettings } from '../support/settings.js';
import { checked, targetOf } from './ingest.js';

/** A seeded database and the `p4p serve` running on it. */
interface SizedServe {
  profiles: number;
  store: ReturnType<typeof sqliteLocation>;
  serve: P4pServe;
  seedSeconds: number;
  /** The best pull round so far. */
  pullsPerSecond: number;
  /** The best ingest round so far. */
  pingsPerSecond: number;
}

/**
 * Pull rate rounds at each size, the two sizes taking turns, the best of each
 * kept: one round of 10,000 pulls lasts 2–3 s, short enough for a slow moment
 * to halve it. A first round at each size is not counted: on a serve that has
 * not pulled yet it ran at about half the rate of the later ones.
 */
const PULL_ROUNDS = 3;
/** Ingest rounds at each size, taking turns the same way (the large database's rounds rose round after round: 6,310, 6,802, 7,804 pings/s). */
const INGEST_ROUNDS = 4;
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

/** A database seeded with `profiles` stored profiles (see seed-profiles.ts; seeding is not timed) and a serve on it. */
async function seededServe(endpoint: PullEndpointProcess, profiles: number): Promise<SizedServe> {
  const store = sqliteLocation();
  try {
    const key = await createNetwork(store);
    const seedStarted = Date.now();
    await seedProfiles(store.dataDir, endpoint.template, 'p', profiles);
    const seedSeconds = (Date.now() - seedStarted) / 1000;
    return { profiles, store, serve: await P4pServe.start(store, key), seedSeconds, pullsPerSecond: 0, pingsPerSecond: 0 };
  } catch (error) {
    await store.dispose();
    throw error;
  }
}

/** The pull rate of re-pulling existing users whose profile changed. */
async function pullRound(endpoint: PullEndpointProcess, settings: BenchSettings, { serve, profiles }: SizedServe): Promise<number> {
  await endpoint.control({ epoch: ++epoch });
  return productPullsPerSecond(serve, endpoint, sampleUsers(profiles, Math.min(profiles, settings.scalePullUsers)));
}

/** The saturated ingest rate of pings for existing users drawn at random, after a warm-up when `warm`. */
async function ingestRound(settings: BenchSettings, { serve, profiles }: SizedServe, warm: boolean): Promise<number> {
  const userIds = Array.from({ length: INGEST_USER_DRAWS }, () => `p${Math.floor(Math.random() * profiles)}`);
  if (warm) await pingLoad(targetOf(serve), { durationSeconds: settings.warmupSeconds, userPrefix: '', userIds });
  return checked(await pingLoad(targetOf(serve), { durationSeconds: settings.loadSeconds, userPrefix: '', userIds, firstUser: 100_000 })).pingsPerSecond;
}

const MB = 1024 * 1024;

/**
 * Row 9: two serves, on 10,000 and on `settings.scaleProfiles` stored
 * profiles, measured in turns (pull rounds alternating between them, then
 * ingest rounds the same way), so that both sizes meet the same moments of
 * the shared machine.
 */
export async function scaleRows(endpoint: PullEndpointProcess, settings: BenchSettings): Promise<ResultRow[]> {
  const started: SizedServe[] = [];
  try {
    const small = await seededServe(endpoint, SCALE_BASELINE_PROFILES);
    started.push(small);
    const large = await seededServe(endpoint, settings.scaleProfiles);
    started.push(large);
    for (const sized of started) await pullRound(endpoint, settings, sized);
    for (let round = 0; round < PULL_ROUNDS; round++) {
      for (const sized of started) sized.pullsPerSecond = Math.max(sized.pullsPerSecond, await pullRound(endpoint, settings, sized));
    }
    // The endpoint holds every pull during the ingest rounds: the figure is the ping path alone, and neither serve pulls during the other's load.
    await endpoint.control({ hold: true, reset: true });
    try {
      for (let round = 0; round < INGEST_ROUNDS; round++) {
        for (const sized of started) sized.pingsPerSecond = Math.max(sized.pingsPerSecond, await ingestRound(settings, sized, round === 0));
      }
    } finally {
      await endpoint.control({ hold: false });
    }
    const [smallRss, largeRss] = started.map(({ serve }) => serve.child.peakRssBytes() / MB) as [number, number];
    await Promise.all(started.map(({ serve }) => serve.stop()));
    const [smallDisk, largeDisk] = started.map(({ store }) => directoryBytes(store.dataDir) / MB) as [number, number];
    const size = settings.scaleProfiles.toLocaleString('en-US');
    const base = SCALE_BASELINE_PROFILES.toLocaleString('en-US');
    return [
      ratioRow(`9 scale: ingest at ${size} profiles ÷ at ${base}`, 'pings/s', large.pingsPerSecond, small.pingsPerSecond, '>=', 0.8,
        `best of ${INGEST_ROUNDS} alternating rounds of ${settings.loadSeconds} s at each size`),
      ratioRow(`9 scale: pulls at ${size} profiles ÷ at ${base}`, 'pulls/s', large.pullsPerSecond, small.pullsPerSecond, '>=', 0.8,
        `best of ${PULL_ROUNDS} alternating rounds of ${settings.scalePullUsers.toLocaleString('en-US')} changed profiles at each size, after one not counted`),
      boundRow(`9 scale: server peak RSS at ${size} profiles`, 'MB', largeRss, '<=', 300, `at ${base}: ${Math.round(smallRss)} MB`),
      infoRow(`9 scale: database on disk at ${size} profiles`, 'MB', largeDisk,
        `at ${base}: ${smallDisk.toFixed(1)} MB; seeded in ${large.seedSeconds.toFixed(0)} s through the store API`),
    ];
  } finally {
    await Promise.all(started.map(async ({ serve, store }) => {
      await serve.stop();
      await store.dispose();
    }));
  }
}
