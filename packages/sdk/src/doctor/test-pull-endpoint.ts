import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { P4pInputError } from '../errors.js';
import { checkTemplateShape } from '../pull-template.js';
import { quoteText } from '../quote-text.js';
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
import { buildPullUrl, fillPullTemplate } from '../pull-url.js';

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
  /** Sent as User-Agent, as p4p sends its own, e.g. `p4p/0.1.0` (p4p doctor passes p4p's version). Default `p4p/<p4p-sdk version>`. */
  userAgent?: string;
}

const SDK_VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
/** The User-Agent sent by default: p4p's pulls send `p4p/<version>`, and the doctor sends what p4p sends. */
export const DEFAULT_DOCTOR_USER_AGENT = `p4p/${SDK_VERSION}`;
const USER_AGENT_PATTERN = /^[\x21-\x7e][\x20-\x7e]{0,199}$/;
const MAX_TIMEOUT_MS = 120_000;
const MAX_BODY_BYTES_LIMIT = 64 * 1024 * 1024;

/**
 * The endpoint doctor: tests a pull endpoint the way p4p will use it, with
 * real requests, and says for each check whether it passes, and if not why
 * and what to change. Sends, one after the other: a pull with a valid system
 * token, then (if that was answered 200) requests without a token, with a token
 * signed with a random other key, and with a token that expired 10 minutes ago.
 * Redirects are reported, never followed. Any address may be tested,
 * loopback included: the doctor is run by the endpoint's owner or p4p's operator.
 *
 * @throws P4pInputError when an option is unusable (message says which); the
 * endpoint's own failures are never thrown, they are in the report.
 */
export async function testPullEndpoint(options: TestPullEndpointOptions): Promise<DoctorReport> {
  if (options === null || typeof options !== 'object') throw new P4pInputError('testPullEndpoint needs { template, network, key, userId }');
  // A misspelt option (timeout for timeoutMs) would otherwise be dropped without a word.
  const unknown = Object.keys(options).find((option) => !DOCTOR_OPTIONS.includes(option));
  if (unknown !== undefined) throw new P4pInputError(`${quoteText(unknown, 40)} is not a testPullEndpoint option; the options are ${DOCTOR_OPTIONS.join(', ')}`);
  const { template, network, key, userId } = options;
  const shape = checkTemplateShape(template, 'template');
  if (!shape.ok) throw new P4pInputError(shape.message);
  assertNetworkName(network);
  assertKey(key);
  assertUserId(userId);
  const probe: ProbeOptions = {
    timeoutMs: integerOption('timeoutMs', options.timeoutMs, DEFAULT_DOCTOR_TIMEOUT_MS, MAX_TIMEOUT_MS),
    maxBodyBytes: integerOption('maxBodyBytes', options.maxBodyBytes, DEFAULT_DOCTOR_MAX_BODY_BYTES, MAX_BODY_BYTES_LIMIT),
    userAgent: userAgentOption(options.userAgent),
    ...(options.ca === undefined ? {} : { ca: caOption(options.ca) }),
  };
  const pullWith = (token: string): Promise<ProbeResult> =>
    probeRequest(new URL(buildPullUrl(template, userId, token)), probe);

  const tokens = [
    buildSystemToken(network, key, DOCTOR_TOKEN_SECONDS),
    buildSystemToken(network, otherKey(key), DOCTOR_TOKEN_SECONDS),
    expiredSystemToken(network, key),
  ] as const;
  const validPull = await pullWith(tokens[0]);
  // A refusal proves the endpoint checks tokens only when the valid token got 200.
  const accepted = validPull.kind === 'answer' && validPull.status === 200;
  const noToken = accepted ? await probeRequest(new URL(fillPullTemplate(template, userId)), probe) : null;
  const wrongKey = accepted ? await pullWith(tokens[1]) : null;
  const expiredToken = accepted ? await pullWith(tokens[2]) : null;

  const checks = judgeAll({ url: shape.url, userId, ...probe, validPull, noToken, wrongKey, expiredToken, tokens });
  return {
    ok: checks.every((check) => check.status !== 'fail'),
    template,
    network,
    userId,
    url: fillPullTemplate(template, userId),
    checks,
  };
}

const DOCTOR_OPTIONS: readonly string[] = ['template', 'network', 'key', 'userId', 'timeoutMs', 'maxBodyBytes', 'ca', 'userAgent'];

function integerOption(name: string, value: unknown, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > max) {
    throw new P4pInputError(`${name} must be a whole number from 1 to ${max}, got ${String(value)}`);
  }
  return value;
}

function userAgentOption(value: unknown): string {
  if (value === undefined) return DEFAULT_DOCTOR_USER_AGENT;
  if (typeof value !== 'string' || !USER_AGENT_PATTERN.test(value)) {
    throw new P4pInputError(`userAgent must be 1 to 200 printable ASCII characters, e.g. p4p/0.1.0, got ${typeof value === 'string' ? quoteText(value, 80) : typeof value}`);
  }
  return value;
}

function caOption(value: unknown): string | Buffer {
  if (typeof value === 'string' || Buffer.isBuffer(value)) return value;
  throw new P4pInputError(`ca must be PEM certificates as a string or a Buffer, got ${typeof value}`);
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
