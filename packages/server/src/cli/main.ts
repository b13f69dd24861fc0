import { Command, CommanderError } from 'commander';
import { P4P_VERSION } from '../version.js';
import { CliError } from './cli-error.js';
import { chooseStore } from './options.js';
import { doctorCommand } from './doctor-command.js';
import { migrateCommand } from './migrate-command.js';
import { networkCommand } from './network-command.js';
import { pingCommand } from './ping-command.js';
import { serveCommand } from './serve-command.js';
import { tokenCommand } from './token-command.js';

/** Runs the p4p command line; resolves to the exit code. */
export async function main(args: string[]): Promise<number> {
  const program = new Command('p4p')
    .description('p4p: Ping-for-Pull user profile sync')
    .version(P4P_VERSION)
    .addCommand(serveCommand())
    .addCommand(networkCommand())
    .addCommand(migrateCommand())
    .addCommand(tokenCommand())
    .addCommand(pingCommand())
    .addCommand(doctorCommand())
    .hook('preAction', (_program, command) => chooseStore(command));
  const exitOverride = (command: Command): void => {
    command.exitOverride();
    command.commands.forEach(exitOverride);
  };
  exitOverride(program);
  try {
    await program.parseAsync(args, { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    if (error instanceof CliError) {
      process.stderr.write(`p4p: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}
