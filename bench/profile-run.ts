/**
 * `BENCH_CPU_PROF=/tmp/prof node --import tsx bench/profile-run.ts ingest|pulls [postgres] [--quick]`:
 * one scenario with `p4p serve --cpu-prof`, for the findings in docs/benchmarks.md.
 */
import { BenchChild } from './support/child-process.js';
import { sqliteLocation, withServe, type StoreLocation } from './support/p4p-serve.js';
import { PullEndpointProcess } from './support/pull-endpoint.js';
import { productPullsPerSecond, userIdRange } from './support/pull-runs.js';
import { benchSettings } from './support/settings.js';
import { saturatingPings, targetOf, withIngestServe } from './scenarios/ingest.js';
import { postgresLocation } from './scenarios/postgres.js';

const [what, backend] = process.argv.slice(2).filter((arg) => arg !== '--quick');
const location = (): Promise<StoreLocation> => (backend === 'postgres' ? postgresLocation() : Promise.resolve(sqliteLocation()));
const settings = benchSettings(process.argv.includes('--quick'));
const endpoint = await PullEndpointProcess.start();
try {
  if (what === 'ingest') {
    const result = await withIngestServe(await location(), endpoint, {}, (serve) => saturatingPings(targetOf(serve), settings));
    console.log(`ingest: ${Math.round(result.pingsPerSecond)} pings/s`);
  } else if (what === 'pulls') {
    const store = await location();
    const rate = await withServe(store, endpoint.template, {}, (serve) => productPullsPerSecond(serve, endpoint, userIdRange('t', settings.pullUsers)));
    await store.dispose();
    console.log(`pulls: ${Math.round(rate)} pulls/s`);
  } else throw new Error('say ingest or pulls');
} finally {
  await BenchChild.stopAll();
}
