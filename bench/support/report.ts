import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';

/** One line of the results: a figure, its same-run baseline, their ratio and the goal it is held to. */
export interface ResultRow {
  name: string;
  value: number | null;
  baseline: number | null;
  ratio: number | null;
  /** The goal in words, e.g. `ratio >= 0.50`. */
  goal: string;
  pass: boolean;
  /** Units of value and baseline. */
  unit: string;
  /** Raw figures behind the row (rates, percentiles, counts). */
  detail?: string;
  /** Why the row could not run; a skipped row never passes. */
  skipped?: string;
}

type Comparison = '>=' | '<=' | '<';

/** A row whose ratio is value ÷ baseline, held to `ratio <comparison> goal`. */
export function ratioRow(name: string, unit: string, value: number, baseline: number, comparison: Comparison, goal: number, detail?: string): ResultRow {
  const ratio = value / baseline;
  return { name, unit, value, baseline, ratio, goal: `ratio ${comparison} ${goal}`, pass: compare(ratio, comparison, goal), ...(detail ? { detail } : {}) };
}

/** A row held to a bound on the value itself (no baseline). */
export function boundRow(name: string, unit: string, value: number, comparison: Comparison, goal: number, detail?: string): ResultRow {
  return { name, unit, value, baseline: null, ratio: null, goal: `value ${comparison} ${goal} ${unit}`, pass: compare(value, comparison, goal), ...(detail ? { detail } : {}) };
}

/** A figure reported for the record, with no goal of its own. */
export function infoRow(name: string, unit: string, value: number, detail?: string): ResultRow {
  return { name, unit, value, baseline: null, ratio: null, goal: 'reported', pass: true, ...(detail ? { detail } : {}) };
}

export function skippedRow(name: string, goal: string, reason: string): ResultRow {
  return { name, unit: '', value: null, baseline: null, ratio: null, goal, pass: false, skipped: reason };
}

function compare(actual: number, comparison: Comparison, goal: number): boolean {
  if (!Number.isFinite(actual)) return false;
  if (comparison === '>=') return actual >= goal;
  if (comparison === '<=') return actual <= goal;
  return actual < goal;
}

function figure(value: number | null): string {
  if (value === null) return '–';
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  return value.toFixed(2);
}

/** The results as a Markdown table (what the console shows and docs/benchmarks.md keeps). */
export function formatTable(rows: readonly ResultRow[]): string {
  const lines = ['| figure | value | baseline | ratio | goal | pass |', '| --- | ---: | ---: | ---: | --- | --- |'];
  for (const row of rows) {
    const verdict = row.skipped !== undefined ? `skipped: ${row.skipped}` : row.pass ? 'pass' : '**FAIL**';
    const unit = row.unit === '' || row.value === null ? '' : ` ${row.unit}`;
    lines.push(`| ${row.name} | ${figure(row.value)}${unit} | ${figure(row.baseline)} | ${figure(row.ratio)} | ${row.goal} | ${verdict} |`);
  }
  const notes = rows.filter((row) => row.detail !== undefined).map((row) => `- ${row.name}: ${row.detail}`);
  return [...lines, ...(notes.length > 0 ? ['', ...notes] : [])].join('\n');
}

export function machineDescription(): string {
  const cpu = cpus();
  return `${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}, ${process.platform}`;
}

/** Writes `bench/results/<timestamp>.json` (the rows array) and returns its path. */
export function writeResults(rows: readonly ResultRow[], startedAt: Date): string {
  const dir = fileURLToPath(new URL('../results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  const path = `${dir}${startedAt.toISOString().replaceAll(':', '-')}.json`;
  writeFileSync(path, `${JSON.stringify(rows, null, 2)}\n`);
  return path;
}
