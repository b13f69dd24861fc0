import { Command, Option } from 'commander';
import type { Network } from '../store/store.js';
import { buildSystemToken } from '../tokens/sign-token.js';
import { CliError } from './cli-error.js';
import { dataOption, databaseOption, describeLocation, integerIn, withStore, type StoreLocation } from './options.js';

/** The network `name` from the store, or a CliError saying how to create it. */
export async function findNetwork(location: StoreLocation, name: string): Promise<Network> {
  const network = await withStore(location, (store) => store.getNetwork(name));
  if (network === null) throw new CliError(`no network ${name} in ${describeLocation(location)}; create it with: p4p network create ${name}`);
  return network;
}

export function tokenCommand(): Command {
  const token = new Command('token').description('build tokens');
  token
    .command('system')
    .description("print a system token for a network, signed with the network's key")
    .requiredOption('--network <name>', 'network name')
    .addOption(new Option('--ttl <seconds>', 'lifetime').argParser(integerIn(1, 30 * 24 * 3600)).default(3600))
    .addOption(dataOption())
    .addOption(databaseOption())
    .action(async (options: { network: string; ttl: number } & StoreLocation) => {
      const network = await findNetwork(options, options.network);
      console.log(buildSystemToken(network.name, network.keys[0]!, options.ttl));
    });
  return token;
}
