import { Command, InvalidArgumentError, Option } from 'commander';
import { generateNetworkKey, networkKeyProblem, networkNameProblem, weakKeyWarning } from '../networks/network-input.js';
import { NetworkExistsError } from '../store/store.js';
import { userIdProblem } from '../tokens/token-claims.js';
import { CliError } from './cli-error.js';
import { dataOption, databaseOption, describeLocation, networkIn, networkName, withStore, type StoreLocation } from './options.js';

/**
 * Collects repeated --owner flags. One value per flag: a list after one flag
 * would swallow the network name that follows it.
 */
function addOwner(userId: string, owners: string[] | undefined): string[] {
  const problem = userIdProblem(userId);
  if (problem !== null) throw new InvalidArgumentError(`${problem}; give one user id per --owner.`);
  return [...(owners ?? []), userId];
}

export function networkCommand(): Command {
  const network = new Command('network').description('create and list networks (tenants), rotate their keys');

  network
    .command('create')
    .description('create a network and print its name and key (a random 256-bit key unless --key is given)')
    .argument('<name>', 'domain-like network name, e.g. labs.fyre.co')
    .addOption(new Option('--key <key>', 'the network key shared with the customer (printable, no spaces; 16+ characters recommended)'))
    .addOption(new Option('--owner <user-id>', 'a user id whose tokens count as system tokens; repeat for several').argParser(addOwner))
    .addOption(dataOption())
    .addOption(databaseOption())
    .option('--json', 'print JSON')
    .action(async (name: string, options: { key?: string; owner?: string[]; json?: boolean } & StoreLocation) => {
      const problem = networkNameProblem(name) ?? (options.key === undefined ? null : networkKeyProblem(options.key));
      if (problem !== null) throw new CliError(problem);
      const key = options.key ?? generateNetworkKey();
      const weak = weakKeyWarning(key);
      if (weak !== null) process.stderr.write(`p4p: ${weak}\n`);
      const created = await withStore(options, async (store) => {
        try {
          return await store.createNetwork({ name, key, owners: options.owner ?? [] }, Date.now());
        } catch (error) {
          if (error instanceof NetworkExistsError) throw new CliError(`network ${name} already exists in ${describeLocation(options)}`);
          throw error;
        }
      }, { create: true });
      if (options.json) console.log(JSON.stringify({ name: created.name, key, owners: created.owners }));
      else console.log(`network ${created.name}\nkey     ${key}`);
    });

  network
    .command('list')
    .description('list the networks and their pull URLs')
    .addOption(dataOption())
    .addOption(databaseOption())
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean } & StoreLocation) => {
      const networks = await withStore(options, (store) => store.listNetworks());
      const rows = networks.map((n) => ({
        name: n.name,
        pull_profile_url: n.pullUrlTemplate,
        owners: n.owners,
        previous_key_verifies: n.keys.length > 1,
      }));
      if (options.json) console.log(JSON.stringify(rows));
      else if (rows.length === 0) console.log(`no networks in ${describeLocation(options)}; create one with: p4p network create NAME`);
      else {
        for (const row of rows) {
          const rotating = row.previous_key_verifies ? '\t(key rotation: the previous key still verifies)' : '';
          console.log(`${row.name}\t${row.pull_profile_url ?? '(no pull URL yet)'}${rotating}`);
        }
      }
    });

  network
    .command('rotate-key')
    .description(
      'start a key rotation: a new key (random 256-bit unless --key is given) signs from now on, ' +
        'and the current key keeps verifying until drop-previous-key; prints the new key',
    )
    .argument('<name>', 'network name', networkName)
    .addOption(new Option('--key <key>', 'the new network key (printable, no spaces; 16+ characters recommended)'))
    .addOption(dataOption())
    .addOption(databaseOption())
    .option('--json', 'print JSON')
    .action(async (name: string, options: { key?: string; json?: boolean } & StoreLocation) => {
      const problem = options.key === undefined ? null : networkKeyProblem(options.key);
      if (problem !== null) throw new CliError(problem);
      const key = options.key ?? generateNetworkKey();
      await withStore(options, async (store) => {
        const current = await networkIn(store, options, name);
        if (current.keys.includes(key)) throw new CliError(`--key is already a key of network ${name}; a rotation needs a new one`);
        // The store refuses while a rotation is under way: the key the customer still uses is never dropped.
        if (!(await store.rotateNetworkKey(current.id, key, Date.now()))) {
          throw new CliError(`a key rotation of network ${name} is under way; end it first with: p4p network drop-previous-key ${name}`);
        }
      });
      const weak = weakKeyWarning(key);
      if (weak !== null) process.stderr.write(`p4p: ${weak}\n`);
      if (options.json) console.log(JSON.stringify({ name, key, previous_key_verifies: true }));
      else console.log(`network ${name}\nkey     ${key}\nthe previous key still verifies; once every token uses the new one: p4p network drop-previous-key ${name}`);
    });

  network
    .command('drop-previous-key')
    .description('end a key rotation: only the current key verifies tokens from now on')
    .argument('<name>', 'network name', networkName)
    .addOption(dataOption())
    .addOption(databaseOption())
    .option('--json', 'print JSON')
    .action(async (name: string, options: { json?: boolean } & StoreLocation) => {
      const dropped = await withStore(options, async (store) => store.dropPreviousKey((await networkIn(store, options, name)).id, Date.now()));
      if (options.json) console.log(JSON.stringify({ name, dropped }));
      else console.log(dropped ? `network ${name}: the previous key no longer verifies` : `network ${name} had no previous key; nothing changed`);
    });

  return network;
}
