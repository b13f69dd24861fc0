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

/** Opens the store in `dataDir`, turning failures into one line that says what to fix. */
export function openStore(dataDir: string): SqliteStore {
  try {
    return SqliteStore.open({ dataDir });
  } catch (error) {
    throw new CliError(
      `cannot open the database in ${dataDir}: ${(error as Error).message}; check that the directory is readable and writable, or pass --data`,
      { cause: error },
    );
  }
}

/** Runs `use` with the store open, and closes it whatever happens. */
export async function withStore<T>(dataDir: string, use: (store: SqliteStore) => Promise<T>): Promise<T> {
  const store = openStore(dataDir);
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}
