import { Command, Option } from 'commander';
import { sendPing, type PingAnswer } from '../client/send-ping.js';
import { userIdProblem } from '../tokens/token-claims.js';
import { CliError } from './cli-error.js';
import { dataOption, databaseOption, findNetwork, type StoreLocation } from './options.js';

export function pingCommand(): Command {
  return new Command('ping')
    .description('ping p4p for a user, as the identity system would')
    .argument('<network>', 'network name')
    .argument('<user-id>', 'the user whose profile changed')
    .addOption(new Option('--url <url>', 'p4p base URL').env('P4P_URL').default('http://127.0.0.1:8080'))
    .addOption(new Option('--key <key>', 'network key (default: read from the store, --data or --database)').env('P4P_KEY'))
    .addOption(dataOption())
    .addOption(databaseOption())
    .action(async (networkName: string, userId: string, options: { url: string; key?: string } & StoreLocation) => {
      const problem = userIdProblem(userId);
      if (problem !== null) throw new CliError(problem);
      const key = options.key ?? (await findNetwork(options, networkName)).keys[0]!;
      let answer: PingAnswer;
      try {
        answer = await sendPing(options.url, networkName, key, userId);
      } catch (error) {
        throw new CliError(`cannot reach p4p at ${options.url}: ${(error as Error).message}; is p4p serve running? (--url)`, { cause: error });
      }
      if (answer.status !== 200) {
        throw new CliError(`ping refused: ${answer.status} ${answer.body?.code ?? ''}: ${answer.body?.message ?? 'no JSON answer'}`);
      }
      console.log(JSON.stringify(answer.body));
    });
}
