/**
 * `npm run bench [-- --quick] [--only ingest]`: every scenario of docs/benchmarks.md (or
 * those whose name starts with `--only`'s word), each
 * figure a ratio against a baseline measured in the same run with the same
 * load generator. Prints the table and writes bench/results/<timestamp>.json.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { coalescingRows, pullThroughputRows } from './scenarios/pulls.js';
import { freshnessRows } from './scenarios/freshness.js';
import { ingestRows } from './scenarios/ingest.js';
import { postgresRows } from './scenarios/postgres.js';
import { scaleRows } from './scenarios/scale.js';
import { tokenVerifyRows } from './scenarios/token-verify.js';
import { BenchChild } from './support/child-process.js';
import { PullEndpointProcess } from './support/pull-endpoint.js';
import { formatTable, machineDescription, writeResults, type ResultRow } from './support/report.js';
import { benchSettings } from './support/settings.js';

const COMPILED_CLI = fileURLToPath(new URL('../packages/server/dist/cli/main.js', import.meta.url));

function parseArgs(argv: readonly string[]): { quick: boolean; only: string | null } {
  const onlyAt = argv.indexOf('--only');
  const only = onlyAt === -1 ? null : (argv[onlyAt + 1] ?? '');
  if (only === '' || only?.startsWith('--')) throw new Error('--only needs the first word of a scenario name, e.g. --only ingest');
  const unknown = argv.filter((arg, index) => arg !== '--quick' && (onlyAt === -1 || index < onlyAt || index > onlyAt + 1));
  if (unknown.length > 0) throw new Error(`unknown argument ${unknown[0]}; the options are --quick and --only <scenario>`);
  return { quick: argv.includes('--quick'), only };
}

let onlyScenario: string | null = null;

/** Runs one scenario; a scenario that throws becomes a failing row with the reason, and the others still run. */
async function scenario(name: string, rows: ResultRow[], run: () => Promise<ResultRow[]> | ResultRow[]): Promise<void> {
  if (onlyScenario !== null && !name.startsWith(onlyScenario)) return;
  const started = Date.now();
  process.stderr.write(`bench: ${name}…\n`);
  try {
    rows.push(...(await run()));
  } catch (error) {
    process.stderr.write(`bench: ${name} failed: ${(error as Error).stack ?? String(error)}\n`);
    rows.push({ name, unit: '', value: null, baseline: null, ratio: null, goal: 'runs', pass: false, skipped: `error: ${(error as Error).message}` });
  }
  process.stderr.write(`bench: ${name} took ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
}

async function main(): Promise<void> {
  const { quick, only } = parseArgs(process.argv.slice(2));
  onlyScenario = only;
  if (!existsSync(COMPILED_CLI)) throw new Error('the p4p CLI is not built; run `npm run build` first');
  const settings = benchSettings(quick);
  const startedAt = new Date();
  const rows: ResultRow[] = [];
  const endpoint = await PullEndpointProcess.start();
  try {
    await scenario('ingest (rows 1–3)', rows, () => ingestRows(endpoint, settings));
    await scenario('token verification (row 4)', rows, () => tokenVerifyRows(settings));
    let pullsPerSecond: number | null = null;
    await scenario('pull throughput (rows 5, 6)', rows, async () => {
      const result = await pullThroughputRows(endpoint, settings);
      pullsPerSecond = result.pullsPerSecond;
      return result.rows;
    });
    await scenario('coalescing (row 7)', rows, () => coalescingRows(endpoint, settings));
    await scenario('freshness (row 8)', rows, () => {
      if (pullsPerSecond === null) throw new Error('no pull rate from rows 5 and 6 to take half of');
      return freshnessRows(endpoint, pullsPerSecond, settings);
    });
    await scenario('scale (row 9)', rows, () => scaleRows(endpoint, settings));
    await scenario('PostgreSQL (row 10)', rows, () => postgresRows(endpoint, settings));
  } finally {
    await BenchChild.stopAll();
  }
  const took = ((Date.now() - startedAt.getTime()) / 1000).toFixed(0);
  console.log(`\np4p benchmarks (${quick ? 'quick' : 'full'} run, ${took} s) on ${machineDescription()}\n`);
  console.log(formatTable(rows));
  const failed = rows.filter((row) => !row.pass).length;
  console.log(`\n${rows.length - failed} of ${rows.length} rows pass; results in ${writeResults(rows, startedAt)}`);
}

await main();
