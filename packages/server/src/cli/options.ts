import { existsSync } from 'node:fs';
import { InvalidArgumentError, Option } from 'commander';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
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

/** `--data DIR` (P4P_DATA), shared by every command that opens the store. */
export function dataOption(): Option {
  return new Option('--data <dir>', 'directory of the SQLite database').env('P4P_DATA').default('./data');
}

/** What to add to a DataDirError so the user knows what to do. */
export const DATA_DIR_HINT = 'check that the directory is readable and writable, or pass --data';

/**
 * Runs `use` with the store in `dataDir` open, and closes it whatever happens.
 * Only `create` may make a new data directory; reading commands need one.
 */
export async function withStore<T>(
  dataDir: string,
  use: (store: SqliteStore) => Promise<T>,
  { create = false }: { create?: boolean } = {},
): Promise<T> {
  if (!create && !existsSync(dataDir)) {
    throw new CliError(`no data directory ${dataDir}; create a network first (p4p network create NAME), or pass --data`);
  }
  let store: SqliteStore;
  try {
    store = SqliteStore.open({ dataDir });
  } catch (error) {
    throw new CliError(`${(error as Error).message}; ${DATA_DIR_HINT}`, { cause: error });
  }
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}
