/**
 * The doctor's verdicts: pure functions from what the endpoint answered to one
 * check each, with the exact reason and the fix. They judge as p4p's pull
 * would (spec section 5): only 200 with a valid profile is stored, 401/403 is
 * an authentication failure, redirects are never followed, answers over the
 * cap are refused.
 */
import { isUtf8 } from 'node:buffer';
import { validateProfile } from '../profile/validate-profile.js';
import { contentCoding } from '../pull-headers.js';
import { quoteText } from '../quote-text.js';
import { redactUrl } from '../redact-url.js';
import {
  LARGE_ANSWER_BYTES,
  SLOW_ANSWER_MS,
  type DoctorCheck,
  type DoctorCheckId,
  type DoctorStatus,
} from './doctor-report.js';
import type { ProbeResult } from './probe-request.js';

type Answer = Extract<ProbeResult, { kind: 'answer' }>;

/** What the doctor knows when judging: the answers, and what it asked for. */
export interface DoctorFindings {
  url: URL;
  userId: string;
  timeoutMs: number;
  maxBodyBytes: number;
  validPull: ProbeResult;
  /** Null when not sent, because the valid pull did not answer 200. */
  noToken: ProbeResult | null;
  wrongKey: ProbeResult | null;
  expiredToken: ProbeResult | null;
  /** Every token the doctor sent: scrubbed from anything the endpoint echoes into the report. */
  tokens: readonly string[];
}

const TITLES: Record<DoctorCheckId, string> = {
  https: 'the pull URL uses HTTPS',
  valid_pull: 'a pull with a valid token answers 200',
  redirect: 'the pull is answered without a redirect',
  profile: "the answer is a profile that passes p4p's validation",
  profile_id: "the profile's id is the id that was asked for",
  no_token: 'a request without a token is refused with 403 and an empty body',
  wrong_key: 'a token signed with another key is refused with 403 and an empty body',
  expired_token: 'an expired token is refused with 403 and an empty body',
  response_time: `the pull is answered within ${SLOW_ANSWER_MS} ms`,
  response_size: `the answer is at most ${LARGE_ANSWER_BYTES} bytes`,
};

const REACH_FIX =
  'check that the endpoint runs and is reachable from where p4p runs at this address (host, port, firewall, TLS certificate)';
const REFUSE_FIX = 'answer 403 with an empty body whenever lftoken is missing or invalid (p4p-sdk createPullHandler does)';

function check(id: DoctorCheckId, status: DoctorStatus, reason: string, fix: string | null = null): DoctorCheck {
  return { id, title: TITLES[id], status, reason, fix: status === 'pass' || status === 'skip' ? null : fix };
}

/** Every check, in report order. */
export function judgeAll(findings: DoctorFindings): DoctorCheck[] {
  const { validPull } = findings;
  const json = validPull.kind === 'answer' && validPull.status === 200 && !validPull.tooLarge ? parseJson(validPull) : null;
  const describe = (answer: Answer): string => describeStatus(answer, findings.tokens);
  const refusalSkipped = refusalSkipReason(validPull);
  const judgeRefusal = (id: DoctorCheckId, probe: ProbeResult | null, what: string, leak: string): DoctorCheck =>
    refusalSkipped !== null || probe === null
      ? check(id, 'skip', refusalSkipped ?? 'not checked: the valid pull did not answer 200')
      : judgeRefusalAnswer(id, probe, what, leak, describe);
  return [
    judgeHttps(findings.url),
    judgeValidPull(validPull, findings.userId, describe),
    judgeRedirect(validPull, describe, findings.tokens),
    judgeProfile(validPull, json),
    judgeProfileId(json, findings.userId),
    judgeRefusal('no_token', findings.noToken, 'without a token', 'anyone who knows the URL can read every profile'),
    judgeRefusal('wrong_key', findings.wrongKey, 'to a token signed with another key', 'the endpoint does not verify the signature with the network key'),
    judgeRefusal('expired_token', findings.expiredToken, 'to a token that expired 10 minutes ago', 'the endpoint does not check the expires claim, so a leaked token never stops working'),
    judgeResponseTime(validPull, findings.timeoutMs),
    judgeResponseSize(validPull, findings.maxBodyBytes),
  ];
}

/**
 * Why the refusal checks prove nothing, or null when they do: a refusal only
 * shows that the endpoint checks tokens when the valid token was answered 200.
 */
function refusalSkipReason(validPull: ProbeResult): string | null {
  if (validPull.kind === 'no_answer') return 'not checked: the valid pull got no answer';
  if (validPull.status === 200) return null;
  if (validPull.status === 401 || validPull.status === 403) return 'not checked: the valid token was refused too, so a refusal proves nothing';
  return `not checked: the valid pull answered ${validPull.status}, not 200, so a refusal proves nothing`;
}

function judgeHttps(url: URL): DoctorCheck {
  if (url.protocol === 'https:') return check('https', 'pass', 'the template is an https URL');
  return check(
    'https',
    'warn',
    'the template is a plain http URL: tokens and profiles (with e-mail addresses) cross the network unencrypted',
    'serve the pull endpoint over HTTPS and register the https:// template',
  );
}

function judgeValidPull(probe: ProbeResult, userId: string, describe: (answer: Answer) => string): DoctorCheck {
  if (probe.kind === 'no_answer') {
    const fix = probe.timedOut ? 'answer within the timeout: p4p records a timeout and retries with backoff' : REACH_FIX;
    return check('valid_pull', 'fail', `no answer: ${probe.message}`, fix);
  }
  const { status } = probe;
  if (status === 200) return check('valid_pull', 'pass', 'answered 200');
  const answered = `answered ${describe(probe)}`;
  if (status === 401 || status === 403) {
    return check(
      'valid_pull',
      'fail',
      `${answered} to a valid token signed with the key given: p4p would record auth_failed`,
      'validate lftoken with the same network name and key as p4p (check --network and --key), e.g. with p4p-sdk validateLivefyreToken',
    );
  }
  if (status === 404) {
    return check('valid_pull', 'fail', `${answered}: the identity system has no user ${JSON.stringify(userId)}`, 'pass --user the id of a user that exists');
  }
  if (status >= 300 && status < 400) return check('valid_pull', 'fail', answered, 'see the redirect check');
  const retried = status === 408 || status === 429 || status >= 500 ? ', a temporary failure that p4p retries with backoff' : '';
  return check('valid_pull', 'fail', `${answered}${retried}`, 'answer 200 with the profile JSON');
}

function judgeRedirect(probe: ProbeResult, describe: (answer: Answer) => string, tokens: readonly string[]): DoctorCheck {
  if (probe.kind === 'no_answer') return check('redirect', 'skip', 'not checked: the pull got no answer');
  if (probe.status < 300 || probe.status >= 400) return check('redirect', 'pass', `answered ${probe.status}, not a redirect`);
  const location = headerValue(probe, 'location', tokens);
  return check(
    'redirect',
    'fail',
    `answered ${describe(probe)}: p4p never follows redirects and records the pull as failed`,
    location === undefined
      ? 'serve the profile at the registered URL itself'
      : `register the final URL (${location} with {id} in it) as the pull URL, or serve the profile without a redirect`,
  );
}

function judgeProfile(probe: ProbeResult, json: ParsedJson | null): DoctorCheck {
  if (probe.kind === 'answer' && probe.status === 200 && probe.tooLarge) {
    return check('profile', 'skip', 'not checked: the answer is over the size cap (see response_size)');
  }
  if (json === null) return check('profile', 'skip', 'not checked: the pull did not answer 200');
  if (!json.ok) return check('profile', 'fail', json.reason, json.fix);
  const verdict = validateProfile(json.value);
  if (!verdict.ok) {
    return check('profile', 'fail', `p4p rejects this profile: ${verdict.reason}`, 'fix that field (spec section 6 lists every rule)');
  }
  if (verdict.warnings.length > 0) {
    return check(
      'profile',
      'warn',
      `p4p stores it but drops: ${verdict.warnings.join('; ')}`,
      'fix or leave out the fields named; p4p keeps the rest of the profile',
    );
  }
  return check('profile', 'pass', `a valid profile, display_name ${quoteText(verdict.profile.display_name, 80)}`);
}

function judgeProfileId(json: ParsedJson | null, userId: string): DoctorCheck {
  if (json === null || !json.ok || !isObject(json.value)) return check('profile_id', 'skip', 'not checked: no JSON object to read the id from');
  const id = json.value['id'];
  if (id === userId) return check('profile_id', 'pass', `id is ${JSON.stringify(userId)}`);
  return check(
    'profile_id',
    'fail',
    `the pull asked for ${JSON.stringify(userId)} but the profile's id is ${describeId(id)}: p4p rejects the answer`,
    'answer with the profile of the user whose id is in the URL, with that exact id as a string',
  );
}

function describeId(id: unknown): string {
  if (id === undefined) return 'missing';
  return typeof id === 'string' ? quoteText(id, 80) : `not a string but ${quoteText(JSON.stringify(id), 40)}`;
}

function judgeRefusalAnswer(id: DoctorCheckId, probe: ProbeResult, what: string, leak: string, describe: (answer: Answer) => string): DoctorCheck {
  if (probe.kind === 'no_answer') return check(id, 'fail', `no answer ${what}: ${probe.message}`, REFUSE_FIX);
  const answered = `answered ${describe(probe)} ${what}`;
  if (probe.status >= 200 && probe.status < 300) return check(id, 'fail', `${answered}: ${leak}`, REFUSE_FIX);
  if (probe.status !== 401 && probe.status !== 403) return check(id, 'fail', `${answered}, not 403`, REFUSE_FIX);
  if (probe.sizeBytes > 0) {
    return check(id, 'fail', `${answered}, with a ${probe.sizeBytes}-byte body`, 'send the 403 with no body: a refusal should tell a prober nothing (spec section 5)');
  }
  if (probe.status === 401) return check(id, 'warn', `${answered}: p4p treats 401 like 403, but the contract says 403`, 'answer 403');
  return check(id, 'pass', answered);
}

function judgeResponseTime(probe: ProbeResult, timeoutMs: number): DoctorCheck {
  if (probe.kind === 'no_answer') {
    if (!probe.timedOut) return check('response_time', 'skip', 'not checked: the pull got no answer');
    return check(
      'response_time',
      'fail',
      `no complete answer within ${timeoutMs} ms: p4p would record a timeout and retry with backoff`,
      'answer well within the timeout: look the profile up by id with an index, and keep slow work out of the pull',
    );
  }
  if (probe.durationMs <= SLOW_ANSWER_MS) return check('response_time', 'pass', `answered in ${probe.durationMs} ms`);
  return check(
    'response_time',
    'warn',
    `answered in ${probe.durationMs} ms, over ${SLOW_ANSWER_MS} ms: every profile change waits this long before p4p stores it`,
    'look the profile up by id with an index or a cache, and keep slow work out of the pull',
  );
}

function judgeResponseSize(probe: ProbeResult, maxBodyBytes: number): DoctorCheck {
  if (probe.kind === 'no_answer') return check('response_size', 'skip', 'not checked: the pull got no answer');
  if (probe.tooLarge) {
    return check(
      'response_size',
      'fail',
      `the answer is over ${maxBodyBytes} bytes, p4p's cap (${probe.sizeBytes > maxBodyBytes ? `Content-Length ${probe.sizeBytes}` : 'more was sent'}): p4p records too_large and keeps the old profile`,
      'answer with the profile fields only (spec section 6); they fit in a few KiB',
    );
  }
  if (probe.sizeBytes <= LARGE_ANSWER_BYTES) return check('response_size', 'pass', `${probe.sizeBytes} bytes`);
  return check(
    'response_size',
    'warn',
    `${probe.sizeBytes} bytes: p4p accepts up to ${maxBodyBytes}, but a profile is a few KiB`,
    'leave out what is not a profile field (spec section 6); p4p ignores it anyway',
  );
}

type ParsedJson = { ok: true; value: unknown } | { ok: false; reason: string; fix: string };

/** The body read as p4p reads it: uncompressed, UTF-8 (anything else is refused), then JSON. */
function parseJson({ body, headers }: Answer): ParsedJson {
  const coding = contentCoding(headers['content-encoding']);
  if (coding !== null) {
    return {
      ok: false,
      reason: `the answer has Content-Encoding: ${coding}, though p4p asks for none (Accept-Encoding: identity): p4p refuses it (invalid_response) and keeps the old profile`,
      fix: 'send the profile JSON uncompressed whenever the request does not accept your coding',
    };
  }
  if (!isUtf8(body)) {
    return {
      ok: false,
      reason: 'the answer is not valid UTF-8: p4p refuses it (invalid_response) and keeps the old profile',
      fix: 'send the profile JSON encoded as UTF-8, whatever charset the Content-Type names',
    };
  }
  try {
    return { ok: true, value: JSON.parse(body.toString('utf8')) as unknown };
  } catch (error) {
    return {
      ok: false,
      reason: `the answer is not JSON: ${(error as Error).message}`,
      fix: 'answer with the profile as a JSON object (Content-Type: application/json)',
    };
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** `302 redirecting to https://…`, or just the status. */
function describeStatus(answer: Answer, tokens: readonly string[]): string {
  const location = headerValue(answer, 'location', tokens);
  return answer.status >= 300 && answer.status < 400 && location !== undefined ? `${answer.status} redirecting to ${location}` : String(answer.status);
}

/**
 * A header's first value, with any lftoken in it redacted (a Location may echo
 * the pull URL, even percent-encoded inside another URL), and the tokens the
 * doctor sent scrubbed wherever else they appear.
 */
function headerValue(answer: Answer, name: string, tokens: readonly string[]): string | undefined {
  const value = answer.headers[name];
  const first = Array.isArray(value) ? value[0] : value;
  if (first === undefined) return undefined;
  return tokens.reduce((text, token) => text.replaceAll(token, '[redacted]'), redactUrl(first));
}
