import { existsSync } from 'node:fs';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { baseUrlFrom } from 'p4p-sdk';
import { dataDirIsServed } from '../server/data-dir-lock.js';
import { PostgresStore } from '../store/postgres/postgres-store.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import type { Network, Store } from '../store/store.js';
import { networkNameProblem } from '../networks/network-input.js';
import { CliError } from './cli-error.js';

/** An argument parser for integers in [min, max]. */
export function integerIn(min: number, max: number): (value: string) => number {
  return (value) => {
    const number = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(number) || number < min || number > max) {
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}.`);
    }
    return number;
  };
}

/** An argument parser for one of a closed set of words. */
export function oneOf<T extends string>(choices: readonly T[]): (value: string) => T {
  return (value) => {
    if (!(choices as readonly string[]).includes(value)) throw new InvalidArgumentError(`expected one of ${choices.join(', ')}.`);
    return value as T;
  };
}

/** An argument parser for a network name (domain-like, as `network create` requires). */
export function networkName(value: string): string {
  const problem = networkNameProblem(value);
  if (problem !== null) throw new InvalidArgumentError(`${problem}.`);
  return value;
}

/** Parses --host: a host name or IP address; an empty P4P_HOST would otherwise listen on every interface. */
export function listenAddress(value: string): string {
  if (value.trim() === '' || /\s/.test(value)) {
    throw new InvalidArgumentError('expected a host name or IP address without spaces, e.g. 127.0.0.1, or 0.0.0.0 for every interface.');
  }
  return value;
}

/** `--data DIR` (P4P_DATA), shared by every command that opens the store. */
export function dataOption(): Option {
  return new Option('--data <dir>', 'directory of the SQLite database').env('P4P_DATA').default('./data').argParser(dataDir);
}

/** Parses --data: a directory path, not empty (an empty P4P_DATA would otherwise mean the current directory). */
function dataDir(value: string): string {
  if (value.trim() === '') throw new InvalidArgumentError('expected a directory, e.g. ./data; unset P4P_DATA or give it a path.');
  return value;
}

/** `--database URL` (P4P_DATABASE_URL), shared by every command that opens the store: PostgreSQL instead of --data. */
export function databaseOption(): Option {
  return new Option('--database <url>', 'PostgreSQL database shared by every p4p process (postgres://user@host:5432/db); default: SQLite in --data')
    .env('P4P_DATABASE_URL')
    .argParser(postgresUrl);
}

/**
 * Before any command runs: a `--data` flag beats a P4P_DATABASE_URL from the
 * environment (flags win over the environment; otherwise the command would
 * quietly work on PostgreSQL), and the two flags together are refused.
 */
export function chooseStore(command: Command): void {
  const data = command.getOptionValueSource('data');
  const database = command.getOptionValueSource('database');
  if (data === 'cli' && database === 'cli') {
    throw new CliError('give --data (SQLite) or --database (PostgreSQL), not both');
  }
  if (data === 'cli' && database === 'env') command.setOptionValueWithSource('database', undefined, 'default');
}

/** Parses --database: a postgres:// or postgresql:// URL. */
export function postgresUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError('expected a URL like postgres://user@host:5432/database.');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new InvalidArgumentError(`expected a postgres:// URL, not ${url.protocol}//.`);
  }
  return value;
}

/** Parses --url: p4p's base URL, http or https, perhaps with a path prefix, as the SDK's client takes it. */
export function p4pBaseUrl(value: string): string {
  try {
    return baseUrlFrom(value);
  } catch {
    throw new InvalidArgumentError(`--url must be p4p's base URL, http:// or https:// without a query string, e.g. http://127.0.0.1:8080 or https://example.com/p4p.`);
  }
}

/** Query parameters that carry a secret (pg reads `?password=` like the URL's own password). */
const SECRET_PARAMETERS = ['password', 'sslpassword'] as const;

/** The URL without its password (in the authority or the query string), for messages. */
export function safeDatabaseUrl(value: string): string {
  const url = new URL(value);
  if (url.password !== '') url.password = '***';
  for (const name of SECRET_PARAMETERS) if (url.searchParams.has(name)) url.searchParams.set(name, '***');
  return url.toString();
}

/** Where a command finds the store: the PostgreSQL database when given, else the SQLite data directory. */
export interface StoreLocation {
  data: string;
  database?: string;
}

/** The store's place, for messages. */
export function describeLocation(location: StoreLocation): string {
  return location.database === undefined ? location.data : safeDatabaseUrl(location.database);
}

const SERVED_UPGRADE_ADVICE =
  "a p4p serve is using the directory and a command does not upgrade it under a serve: stop that serve, then start this version's p4p serve, which upgrades the file";

/** What to add to a DataDirError so the user knows what to do. */
export const DATA_DIR_HINT = 'pass --data a directory that p4p can read and write';

/**
 * Runs `use` with the store open, and closes it whatever happens. With
 * SQLite only `create` may make a new data directory; reading commands need
 * one.
 */
export async function withStore<T>(
  { data, database }: StoreLocation,
  use: (store: Store) => Promise<T>,
  { create = false }: { create?: boolean } = {},
): Promise<T> {
  let store: Store;
  if (database !== undefined) {
    try {
      store = await PostgresStore.open({ url: database, poolMax: 2 });
    } catch (error) {
      throw new CliError(`cannot use the database at ${safeDatabaseUrl(database)}: ${(error as Error).message}; check --database (P4P_DATABASE_URL)`, { cause: error });
    }
  } else {
    if (!create && !existsSync(data)) {
      throw new CliError(`no data directory ${data}; create a network first (p4p network create NAME), or pass --data or --database`);
    }
    let served = false;
    try {
      // A newer p4p's command must not migrate the file under an older serve that is using it.
      served = dataDirIsServed(data);
      store = SqliteStore.open({ dataDir: data, ...(served ? { refuseUpgrade: SERVED_UPGRADE_ADVICE } : {}) });
    } catch (error) {
      throw new CliError(`${(error as Error).message}${served ? '' : `; ${DATA_DIR_HINT}`}`, { cause: error });
    }
  }
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

/** The network `name` in an open store, or a CliError saying how to create it. */
export async function networkIn(store: Store, location: StoreLocation, name: string): Promise<Network> {
  const network = await store.getNetwork(name);
  if (network === null) throw new CliError(`no network ${name} in ${describeLocation(location)}; create it with: p4p network create ${name}`);
  return network;
}

/** The network `name`, or a CliError saying how to create it. */
export function findNetwork(location: StoreLocation, name: string): Promise<Network> {
  return withStore(location, (store) => networkIn(store, location, name));
}
