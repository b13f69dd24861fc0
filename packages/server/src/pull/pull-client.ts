import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { contentCoding, pullRequestHeaders } from 'p4p-sdk';
import { Agent } from 'undici';
import type { PullOutcome } from './pull-outcome.js';
import { buildPullConnector } from './guarded-connector.js';
import { classifyStatus, type StatusFailure } from './classify-status.js';
import { classifyError } from './classify-error.js';
import { collectAnswer } from './collect-answer.js';
import type { PullCancellation } from './pull-cancellation.js';
import { isBlockedAddress, stripBrackets } from './target-guard.js';
import { redactUrl } from '../log/redact-url.js';

export interface PullClientOptions {
  /** Connect timeout in ms (DNS, TCP and TLS). Default 5000. */
  connectTimeoutMs?: number;
  /** Whole request (connect + headers + body) in ms. Default 10000. */
  totalTimeoutMs?: number;
  /** Response body cap in bytes. Default 262144. */
  maxBodyBytes?: number;
  /** Allow loopback/private/link-local/metadata targets. Default false. */
  allowPrivateTargets?: boolean;
  /** Sent as User-Agent, e.g. "p4p/0.1.0". */
  userAgent: string;
  /** Max sockets per origin. Default 16. */
  connectionsPerOrigin?: number;
}

export type PullAnswer =
  | { kind: 'body'; httpStatus: 200; body: string; durationMs: number }
  | {
      kind: 'failed';
      outcome: Exclude<PullOutcome, 'ok' | 'unchanged'>;
      retriable: boolean;
      httpStatus: number | null;
      message: string;
      retryAfterMs: number | null;
      durationMs: number;
      bodyExcerpt: string | null;
    };

/** Bytes of a failed answer's body kept as `bodyExcerpt`. */
export const BODY_EXCERPT_BYTES = 2048;

/** JSON on the wire is UTF-8 (RFC 8259); a body that is not is refused rather than stored with U+FFFD in place of its bytes. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

const NOT_UTF8: StatusFailure = {
  outcome: 'invalid_response',
  retriable: false,
  message: 'answered 200 with a body that is not valid UTF-8; send the profile JSON encoded as UTF-8 (RFC 8259), whatever charset the Content-Type names',
  retryAfterMs: null,
};

const DEFAULTS = {
  connectTimeoutMs: 5000,
  totalTimeoutMs: 10_000,
  maxBodyBytes: 262_144,
  allowPrivateTargets: false,
  connectionsPerOrigin: 16,
};

/**
 * The outbound pull (spec section 5): one GET to the customer's pull endpoint, classified
 * into a PullAnswer. Redirects are never followed. Unless allowPrivateTargets, the SSRF
 * guard refuses blocked IP literals before connecting, filters DNS answers, and checks the
 * address actually connected to. Owns a keep-alive undici Agent; call close() when done.
 */
export class PullClient {
  readonly #agent: Agent;
  readonly #options: Required<PullClientOptions>;
  readonly #headers: Record<string, string>;

  constructor(options: PullClientOptions) {
    this.#options = { ...DEFAULTS, ...definedOnly(options) } as Required<PullClientOptions>;
    this.#headers = pullRequestHeaders(this.#options.userAgent);
    this.#agent = new Agent({
      connect: buildPullConnector(this.#options),
      connections: this.#options.connectionsPerOrigin,
      headersTimeout: this.#options.totalTimeoutMs,
      bodyTimeout: this.#options.totalTimeoutMs,
    });
  }

  /**
   * GET with p4p's pull headers (JSON, uncompressed, the User-Agent); never throws, always resolves to a
   * PullAnswer. No message contains the lftoken. Cancelling `cancellation` ends the pull as
   * a `timeout` whose message says it was cancelled.
   */
  async pull(url: string, cancellation?: PullCancellation): Promise<PullAnswer> {
    const startedAt = performance.now();
    const target = this.#target(url);
    const token = target.token;
    const finish = (failure: StatusFailure, httpStatus: number | null, excerpt: Buffer | null): PullAnswer => ({
      kind: 'failed',
      outcome: failure.outcome,
      retriable: failure.retriable,
      httpStatus,
      message: scrub(`GET ${redactUrl(url)}: ${oneLine(failure.message)}`, token),
      retryAfterMs: failure.retryAfterMs,
      durationMs: elapsedMs(startedAt),
      bodyExcerpt: excerpt === null || excerpt.length === 0 ? null : scrub(excerpt.toString('utf8'), token),
    });

    if ('refusal' in target) return finish(target.refusal, null, null);
    const { maxBodyBytes, connectTimeoutMs, totalTimeoutMs } = this.#options;
    const answer = await collectAnswer(
      this.#agent,
      { origin: target.origin, path: target.path, headers: this.#headers },
      { maxBodyBytes, excerptBytes: BODY_EXCERPT_BYTES, totalTimeoutMs },
      cancellation,
    );
    switch (answer.kind) {
      case 'complete': {
        const coding = contentCoding(answer.headers['content-encoding']);
        if (coding !== null) return finish(codedAnswer(coding), 200, null);
        const body = decodeUtf8(answer.bytes);
        if (body === null) return finish(NOT_UTF8, 200, answer.bytes.subarray(0, BODY_EXCERPT_BYTES));
        return { kind: 'body', httpStatus: 200, body, durationMs: elapsedMs(startedAt) };
      }
      case 'status':
        return finish(classifyStatus(answer.status, answer.headers, Date.now()), answer.status, answer.excerpt);
      case 'too_large':
        return finish(
          this.#tooLarge(answer.declared === null ? 'sent a longer body' : `declares Content-Length ${answer.declared}`),
          200,
          answer.excerpt,
        );
      case 'cut_short':
        return finish(
          classifyError(answer.error, {
            cancelled: answer.cause === 'cancelled',
            timedOut: answer.cause === 'timed_out',
            connectTimeoutMs,
            totalTimeoutMs,
          }),
          null,
          null,
        );
    }
  }

  /** Closes the Agent's pools; waits for pulls in flight. */
  async close(): Promise<void> {
    await this.#agent.close();
  }

  /** Where to send the GET, or why not; and the lftoken it carries, to keep it out of messages. */
  #target(url: string): ({ origin: string; path: string } | { refusal: StatusFailure }) & { token: string | null } {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return { refusal: refused('refused: not an absolute URL'), token: null };
    }
    const token = parsed.searchParams.get('lftoken');
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      return { refusal: refused(`refused: the ${parsed.protocol.slice(0, -1)} scheme is not http or https`), token };
    }
    const host = stripBrackets(parsed.hostname);
    if (!this.#options.allowPrivateTargets && isIP(host) !== 0 && isBlockedAddress(host)) {
      return {
        refusal: refused(
          `refused: ${host} is a loopback, private, link-local or metadata address; p4p pulls from them only when the operator allows private targets`,
        ),
        token,
      };
    }
    return { origin: parsed.origin, path: requestPath(url, parsed), token };
  }

  #tooLarge(what: string): StatusFailure {
    return {
      outcome: 'too_large',
      retriable: false,
      message: `answered 200 but ${what}, over the ${this.#options.maxBodyBytes}-byte cap`,
      retryAfterMs: null,
    };
  }
}

function codedAnswer(coding: string): StatusFailure {
  return {
    outcome: 'invalid_response',
    retriable: false,
    message: `answered 200 with Content-Encoding: ${coding}, though p4p asks for none (Accept-Encoding: identity); send the profile JSON uncompressed`,
    retryAfterMs: null,
  };
}

function refused(message: string): StatusFailure {
  return { outcome: 'blocked_target', retriable: false, message, retryAfterMs: null };
}

/**
 * The path and query exactly as built, so that dot segments produced by a user id are sent
 * to the server instead of being resolved away by URL parsing. Falls back to the parsed
 * (normalised) form when the raw text would not be a valid request target.
 */
function requestPath(url: string, parsed: URL): string {
  const raw = /^\s*[a-z][a-z0-9+.-]*:\/\/[^/?#\\]*([^#]*)/i.exec(url)?.[1] ?? '';
  if (raw === '') return `/${parsed.search}`;
  if (/^[/?][\x21-\x7e]*$/.test(raw) && !raw.includes('\\')) return raw.startsWith('?') ? `/${raw}` : raw;
  return `${parsed.pathname}${parsed.search}`;
}

/** Belt and braces: errors or bodies echoing the token verbatim never carry it out. */
function scrub(text: string, token: string | null): string {
  if (token === null || token.length < 8) return text;
  return text.split(token).join('[redacted]').split(encodeURIComponent(token)).join('[redacted]');
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function elapsedMs(startedAt: number): number {
  return Math.round(performance.now() - startedAt);
}

function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}

function decodeUtf8(bytes: Uint8Array): string | null {
  try {
    return UTF8.decode(bytes);
  } catch {
    return null;
  }
}
