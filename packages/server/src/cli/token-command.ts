import { Command, Option } from 'commander';
import { buildSystemToken } from '../tokens/sign-token.js';
import { dataOption, databaseOption, findNetwork, integerIn, networkName, type StoreLocation } from './options.js';

export function tokenCommand(): Command {
  const token = new Command('token').description('build tokens');
  token
    .command('system')
    .description("print a system token for a network, signed with the network's key")
    .requiredOption('--network <name>', 'network name', networkName)
    .addOption(new Option('--ttl <seconds>', 'lifetime').argParser(integerIn(1, 30 * 24 * 3600)).default(3600))
    .addOption(dataOption())
    .addOption(databaseOption())
    .action(async (options: { network: string; ttl: number } & StoreLocation) => {
      const network = await findNetwork(options, options.network);
      console.log(buildSystemToken(network.name, network.keys[0]!, options.ttl));
    });
  return token;
}
