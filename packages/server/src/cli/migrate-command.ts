import { Command } from 'commander';
import { PostgresStore } from '../store/postgres/postgres-store.js';
import { CliError } from './cli-error.js';
import { databaseOption, safeDatabaseUrl } from './options.js';

export function migrateCommand(): Command {
  return new Command('migrate')
    .description('apply pending schema migrations to the PostgreSQL --database (p4p serve also applies them at start)')
    .addOption(databaseOption())
    .action(async (options: { database?: string }) => {
      if (options.database === undefined) {
        throw new CliError('p4p migrate needs --database postgres://… (or P4P_DATABASE_URL); SQLite data directories migrate when opened');
      }
      let result;
      try {
        result = await PostgresStore.migrate(options.database);
      } catch (error) {
        throw new CliError(`cannot migrate the database at ${safeDatabaseUrl(options.database)}: ${(error as Error).message}`, { cause: error });
      }
      const applied = result.applied.length === 0 ? 'nothing to apply' : `applied ${result.applied.join(', ')}`;
      console.log(`schema version ${result.version} (${applied})`);
    });
}
