import { Command, Option } from 'commander';
import { sendPing, type PingAnswer } from '../client/send-ping.js';
import { buildSystemToken } from '../tokens/sign-token.js';
import { userIdProblem } from '../tokens/token-claims.js';
import { CliError } from './cli-error.js';
import { dataOption, databaseOption, findNetwork, networkName, p4pBaseUrl, type StoreLocation } from './options.js';

export function pingCommand(): Command {
  return new Command('ping')
    .description('ping p4p for a user, as the identity system would')
    .argument('<network>', 'network name', networkName)
    .argument('<user-id>', 'the user whose profile changed')
    .addOption(new Option('--url <url>', 'p4p base URL').env('P4P_URL').default('http://127.0.0.1:8080').argParser(p4pBaseUrl))
    .addOption(new Option('--key <key>', 'network key (default: read from the store, --data or --database)').env('P4P_KEY'))
    .addOption(dataOption())
    .addOption(databaseOption())
    .action(async (networkName: string, userId: string, options: { url: string; key?: string } & StoreLocation) => {
      const problem = userIdProblem(userId);
      if (problem !== null) throw new CliError(problem);
      const key = options.key ?? (await findNetwork(options, networkName)).keys[0]!;
      const lftoken = signedToken(networkName, key);
      let answer: PingAnswer;
      try {
        answer = await sendPing(options.url, lftoken, userId);
      } catch (error) {
        throw new CliError(`cannot reach p4p at ${options.url}: ${reasonOf(error as Error)}; is p4p serve running? (--url)`, { cause: error });
      }
      if (answer.status !== 200) {
        throw new CliError(`ping refused: ${answer.status} ${answer.body?.code ?? ''}: ${answer.body?.message ?? 'no JSON answer'}`);
      }
      if (answer.body?.status !== 'ok') {
        throw new CliError(`${options.url} answered 200, but not with p4p's {"status":"ok"}; is --url a p4p serve?`);
      }
      console.log(JSON.stringify(answer.body));
    });
}

/** A short-lived system token, or the key's problem said as such (not as an unreachable p4p). */
function signedToken(networkName: string, key: string): string {
  try {
    return buildSystemToken(networkName, key, 300);
  } catch (error) {
    throw new CliError(`cannot sign a ping token: ${(error as Error).message}`, { cause: error });
  }
}

/** fetch says only "fetch failed": the reason (ECONNREFUSED, ENOTFOUND, a timeout) is in its cause. */
function reasonOf(error: Error): string {
  return (error.cause as Error | undefined)?.message ?? error.message;
}
