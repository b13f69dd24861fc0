import { randomBytes } from 'node:crypto';
import { P4pInputError } from '../errors.js';
import { assertKey, assertNetworkName, assertUserId, buildSystemToken } from '../tokens.js';
import { judgeAll } from './doctor-checks.js';
import {
  DEFAULT_DOCTOR_MAX_BODY_BYTES,
  DEFAULT_DOCTOR_TIMEOUT_MS,
  DOCTOR_TOKEN_SECONDS,
  EXPIRED_TOKEN_AGE_SECONDS,
  type DoctorReport,
} from './doctor-report.js';
import { probeRequest, type ProbeOptions, type ProbeResult } from './probe-request.js';
import { buildPullUrl, fillPullTemplate, USER_ID_PLACEHOLDER } from './pull-url.js';

export interface TestPullEndpointOptions {
  /** The pull URL template, with `{id}`, as it is (or will be) registered with p4p. */
  template: string;
  /** The network name, e.g. `labs.fyre.co`. */
  network: string;
  /** The network key p4p signs pull tokens with. */
  key: string;
  /** A user that exists at the identity system. */
  userId: string;
  /** Total timeout of each request, in ms, 1 to 120000. Default 10000, p4p's pull timeout. */
  timeoutMs?: number;
  /** Largest answer accepted, in bytes, 1 to 67108864. Default 262144, p4p's cap. */
  maxBodyBytes?: number;
  /** Extra trusted CA certificates (PEM), for an https endpoint with a private CA. */
  ca?: string | Buffer;
}

const LONGEST_TEMPLATE = 2048;
const MAX_TIMEOUT_MS = 120_000;
const MAX_BODY_BYTES_LIMIT = 64 * 1024 * 1024;

/**
 * The endpoint doctor: tests a pull endpoint the way p4p will use it, with
 * real requests, and says for each check whether it passes, and if not why
 * and what to change. Sends, one after the other: a pull with a valid system
 * token, then (if that got an answer) requests without a token, with a token
 * signed with a random other key, and with a token that expired 10 minutes ago.
 * Redirects are reported, never followed. Any address may be tested,
 * loopback included: the doctor is run by the endpoint's owner or p4p's operator.
 *
 * @throws P4pInputError when an option is unusable (message says which); the
 * endpoint's own failures are never thrown, they are in the report.
 */
export async function testPullEndpoint(options: TestPullEndpointOptions): Promise<DoctorReport> {
  const { template, network, key, userId } = options;
  const url = checkTemplate(template);
  assertNetworkName(network);
  assertKey(key);
  assertUserId(userId);
  const probe: ProbeOptions = {
    timeoutMs: integerOption('timeoutMs', options.timeoutMs, DEFAULT_DOCTOR_TIMEOUT_MS, MAX_TIMEOUT_MS),
    maxBodyBytes: integerOption('maxBodyBytes', options.maxBodyBytes, DEFAULT_DOCTOR_MAX_BODY_BYTES, MAX_BODY_BYTES_LIMIT),
    ...(options.ca === undefined ? {} : { ca: options.ca }),
  };
  const pullWith = (token: string): Promise<ProbeResult> =>
    probeRequest(new URL(buildPullUrl(template, userId, token)), probe);

  const validPull = await pullWith(buildSystemToken(network, key, DOCTOR_TOKEN_SECONDS));
  const answered = validPull.kind === 'answer';
  const noToken = answered ? await probeRequest(new URL(fillPullTemplate(template, userId)), probe) : null;
  const wrongKey = answered ? await pullWith(buildSystemToken(network, otherKey(key), DOCTOR_TOKEN_SECONDS)) : null;
  const expiredToken = answered ? await pullWith(expiredSystemToken(network, key)) : null;

  const checks = judgeAll({ url, userId, ...probe, validPull, noToken, wrongKey, expiredToken });
  return {
    ok: checks.every((check) => check.status !== 'fail'),
    template,
    network,
    userId,
    url: fillPullTemplate(template, userId),
    checks,
  };
}

/** The template filled with a sample id, parsed; or a P4pInputError saying what is wrong with it. */
function checkTemplate(template: unknown): URL {
  if (typeof template !== 'string' || template.length === 0 || template.length > LONGEST_TEMPLATE) {
    throw new P4pInputError(`template must be a URL of 1 to ${LONGEST_TEMPLATE} characters containing {id}, e.g. https://example.com/users/{id}`);
  }
  if (!template.split('#')[0]!.includes(USER_ID_PLACEHOLDER)) {
    throw new P4pInputError(`template has no {id} (outside any #fragment): put {id} where the user id goes, e.g. https://example.com/users/{id}`);
  }
  let url: URL;
  try {
    url = new URL(fillPullTemplate(template, 'sample-user'));
  } catch {
    throw new P4pInputError(`template is not an absolute URL: it must start with https:// (or http://) and a host name`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new P4pInputError(`template uses the ${url.protocol.slice(0, -1)} scheme: p4p pulls only over https and http`);
  }
  return url;
}

function integerOption(name: string, value: unknown, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > max) {
    throw new P4pInputError(`${name} must be a whole number from 1 to ${max}, got ${String(value)}`);
  }
  return value;
}

/** A random key that is not `key`. */
function otherKey(key: string): string {
  const candidate = randomBytes(32).toString('base64url');
  return candidate === key ? otherKey(key) : candidate;
}

/** A system token signed with `key` that expired {@link EXPIRED_TOKEN_AGE_SECONDS} ago. */
function expiredSystemToken(network: string, key: string): string {
  const issuedAtMs = Date.now() - (EXPIRED_TOKEN_AGE_SECONDS + DOCTOR_TOKEN_SECONDS) * 1000;
  return buildSystemToken(network, key, DOCTOR_TOKEN_SECONDS, issuedAtMs);
}
