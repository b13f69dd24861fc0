import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { DOCTOR_CHECK_IDS, readValidToken, type DoctorReport } from 'p4p-sdk';
import { P4P_VERSION } from '../src/version.js';
import { createNetworkIn, createTestDatabase, postgresSkip } from './support/postgres.js';
import { PullEndpoint, type RecordedPull } from './support/pull-endpoint.js';
import { createNetwork, runCli, type CliRun } from './support/run-cli.js';
import { TempDirs } from './support/temp-dir.js';

/**
 * `p4p doctor` as operators run it (node bin/p4p.js, the compiled dist/),
 * against real pull endpoints on loopback. Each way of breaking an endpoint
 * is covered by p4p-sdk's doctor tests; here: output, exit codes, input errors.
 */

const NETWORK = 'doctor.fyre.co';
const KEY = 'the-network-key-of-doctor-fyre-co';
const ADA = { id: 'ada', display_name: 'Ada Lovelace' };

/** An endpoint that answers the profile when `accepts(lftoken)`, else 403 with no body. */
function endpointAccepting(accepts: (lftoken: string | null) => boolean) {
  return (_userId: string, response: ServerResponse, pull: RecordedPull): void => {
    if (!accepts(pull.query.get('lftoken'))) response.writeHead(403).end();
    else response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(ADA));
  };
}
const validToken = (lftoken: string | null): boolean => readValidToken(lftoken, KEY)?.domain === NETWORK;

const dataDirs = new TempDirs('p4p-doctor-cli-');
let correct: PullEndpoint;
let open: PullEndpoint;
before(async () => {
  correct = await PullEndpoint.start();
  correct.behaviour = endpointAccepting(validToken);
  open = await PullEndpoint.start();
  open.behaviour = endpointAccepting((lftoken) => lftoken === null || validToken(lftoken));
});
after(async () => {
  await Promise.all([correct.close(), open.close()]);
  dataDirs.removeAll();
});

function doctor(template: string, ...extra: string[]): Promise<CliRun> {
  return runCli(['doctor', template, '--network', NETWORK, '--user', 'ada', ...extra]);
}

/** Exit 1 and a single line on stderr, which is returned. */
function refusalLine(run: CliRun): string {
  assert.equal(run.code, 1, `expected exit 1; stdout: ${run.stdout}; stderr: ${run.stderr}`);
  const lines = run.stderr.trim().split('\n');
  assert.equal(lines.length, 1, run.stderr);
  return lines[0]!;
}

describe('p4p doctor', () => {
  test('a correct endpoint: every check printed, plain HTTP warned about, exit 0', async () => {
    const run = await doctor(correct.template, '--key', KEY);
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
    for (const id of DOCTOR_CHECK_IDS) assert.match(run.stdout, new RegExp(`^(PASS|WARN)  ${id} `, 'm'));
    assert.match(run.stdout, /^WARN {2}https .*\n.*fix: serve the pull endpoint over HTTPS/m);
    // response_time may warn on a loaded machine; nothing else may.
    assert.match(run.stdout, /\d passed, [12] warned, 0 failed, 0 skipped/);
    assert.equal(run.stderr, '');
    assert.equal(correct.pulls.at(-1)?.headers['user-agent'], `p4p/${P4P_VERSION}`, 'the doctor sends what p4p sends');
  });

  test('an endpoint that serves profiles without a token: the failure named, its fix printed, exit 1', async () => {
    const run = await doctor(open.template, '--key', KEY);
    assert.match(run.stdout, /^FAIL {2}no_token +answered 200 without a token/m);
    assert.match(run.stdout, /fix: answer 403 with an empty body/);
    assert.equal(refusalLine(run), 'p4p: 1 of 10 checks failed: no_token');
  });

  test('--json prints the report as JSON; the exit code still says whether a check failed', async () => {
    const run = await doctor(open.template, '--key', KEY, '--json');
    assert.equal(run.code, 1);
    const report = JSON.parse(run.stdout) as DoctorReport;
    assert.equal(report.ok, false);
    assert.equal(report.url, open.template.replace('{id}', 'ada'));
    assert.deepEqual(
      report.checks.filter((check) => check.status !== 'pass' && check.id !== 'response_time').map((check) => [check.id, check.status]),
      [['https', 'warn'], ['no_token', 'fail']],
    );
  });

  test('without --key, the key is read from the data directory', async () => {
    const data = dataDirs.make();
    const key = await createNetwork(data, NETWORK);
    const keyed = await PullEndpoint.start();
    keyed.behaviour = endpointAccepting((lftoken) => readValidToken(lftoken, key) !== undefined);
    try {
      const run = await doctor(keyed.template, '--data', data);
      assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
      assert.match(run.stdout, /^PASS {2}valid_pull/m);
    } finally {
      await keyed.close();
    }
  });

  test('with --database, the key is read from PostgreSQL', async (t) => {
    const skip = await postgresSkip();
    if (skip !== false) return t.skip(skip);
    const database = await createTestDatabase('p4p_doctor');
    const keyed = await PullEndpoint.start();
    try {
      const key = await createNetworkIn(database.url, NETWORK);
      keyed.behaviour = endpointAccepting((lftoken) => readValidToken(lftoken, key) !== undefined);
      const run = await doctor(keyed.template, '--database', database.url);
      assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
      assert.match(run.stdout, /^PASS {2}valid_pull/m);
    } finally {
      await keyed.close();
      await database.drop();
    }
  });

  test('bad input gets one line saying what to fix, and nothing is sent', async () => {
    const before = correct.pulls.length;
    assert.match(refusalLine(await doctor(`${correct.origin}/users`, '--key', KEY)), /^p4p: the template does not contain \{id\}/);
    assert.match(refusalLine(await doctor('ftp://example.com/{id}', '--key', KEY)), /ftp scheme/);
    assert.match(refusalLine(await runCli(['doctor', correct.template, '--network', NETWORK, '--user', 'a b', '--key', KEY])), /user id must be/);
    assert.match(refusalLine(await doctor(correct.template, '--key', KEY, '--timeout-ms', '0')), /--timeout-ms.*integer from 1/);
    assert.match(refusalLine(await doctor(correct.template, '--data', dataDirs.make())), /no network doctor\.fyre\.co/);
    assert.equal(correct.pulls.length, before);
  });
});
