import { Command, Option } from 'commander';
import {
  checkTemplateShape,
  DEFAULT_DOCTOR_MAX_BODY_BYTES,
  DEFAULT_DOCTOR_TIMEOUT_MS,
  formatDoctorReport,
  P4pInputError,
  testPullEndpoint,
  type DoctorReport,
} from 'p4p-sdk';
import { userIdProblem } from '../tokens/token-claims.js';
import { P4P_VERSION } from '../version.js';
import { CliError } from './cli-error.js';
import { dataOption, databaseOption, findNetwork, integerIn, networkName, type StoreLocation } from './options.js';

interface DoctorOptions extends StoreLocation {
  network: string;
  user: string;
  key?: string;
  json?: boolean;
  timeoutMs: number;
  maxBytes: number;
}

/**
 * `p4p doctor TEMPLATE`: tests a pull endpoint as p4p will use it (p4p-sdk's
 * testPullEndpoint) and prints every check. Exits 1 when a check fails.
 * Any address may be tested, loopback included: whoever runs it owns the endpoint or p4p.
 */
export function doctorCommand(): Command {
  return new Command('doctor')
    .description('test a pull endpoint as p4p will use it: tokens, answers, profile, redirects, time and size')
    .argument('<template>', 'pull URL template with {id}, e.g. https://example.com/users/{id}')
    .requiredOption('--network <name>', 'network name', networkName)
    .requiredOption('--user <id>', 'id of a user that exists at the identity system')
    .addOption(new Option('--key <key>', 'network key (default: read from the store, --database or --data)').env('P4P_KEY'))
    .addOption(dataOption())
    .addOption(databaseOption())
    .option('--json', 'print the report as JSON')
    .addOption(
      new Option('--timeout-ms <ms>', 'total timeout of each request (as p4p serve --pull-timeout-ms)')
        .argParser(integerIn(1, 120_000))
        .default(DEFAULT_DOCTOR_TIMEOUT_MS),
    )
    .addOption(
      new Option('--max-bytes <bytes>', 'largest answer accepted (as p4p serve --pull-max-bytes)')
        .argParser(integerIn(1, 64 * 1024 * 1024))
        .default(DEFAULT_DOCTOR_MAX_BODY_BYTES),
    )
    .action(async (template: string, options: DoctorOptions) => {
      const shape = checkTemplateShape(template, 'the template');
      if (!shape.ok) throw new CliError(shape.message);
      const problem = userIdProblem(options.user);
      if (problem !== null) throw new CliError(problem);
      const key = options.key ?? (await findNetwork(options, options.network)).keys[0]!;
      const report = await runDoctor({
        template,
        network: options.network,
        key,
        userId: options.user,
        timeoutMs: options.timeoutMs,
        maxBodyBytes: options.maxBytes,
        userAgent: `p4p/${P4P_VERSION}`,
      });
      process.stdout.write(options.json === true ? `${JSON.stringify(report, null, 2)}\n` : formatDoctorReport(report));
      const failed = report.checks.filter((check) => check.status === 'fail').map((check) => check.id);
      if (failed.length > 0) throw new CliError(`${failed.length} of ${report.checks.length} checks failed: ${failed.join(', ')}`);
    });
}

async function runDoctor(options: Parameters<typeof testPullEndpoint>[0]): Promise<DoctorReport> {
  try {
    return await testPullEndpoint(options);
  } catch (error) {
    if (error instanceof P4pInputError) throw new CliError(error.message, { cause: error });
    throw error;
  }
}
