/**
 * The customer's side of Ping-for-Pull, with the operations of the official
 * Livefyre libraries' `Network` class (spec section 8): tokens, the ping, the
 * bulk ping and the registration of the pull URL.
 */
import { P4pApiError, P4pInputError, P4pNetworkError } from '../errors.js';
import { checkTemplateShape } from '../pull-template.js';
import { quoteText } from '../quote-text.js';
import {
  assertKey,
  assertNetworkName,
  assertUserId,
  buildSystemToken,
  buildUserAuthToken,
  readValidToken,
  SYSTEM_USER_ID,
} from '../tokens.js';
import { attemptFloorMs, retryPolicyFrom, type RetryPolicy } from './retry-policy.js';
import { sendWithRetry, type SendOptions, type SentAnswer } from './send-with-retry.js';

/** Most user ids p4p takes in one bulk ping; {@link Network.syncUsers} splits longer lists. */
export const MAX_BULK_USER_IDS = 1000;

export interface NetworkOptions {
  /** The network name, e.g. `labs.fyre.co`: every token's `domain`. */
  name: string;
  /** The network key that signs and checks tokens. */
  key: string;
  /** Base URL of p4p, e.g. `https://p4p.example.com`. Needed for the calls, not for tokens. */
  url?: string;
  /** Retries of the calls to p4p; see {@link RetryPolicy} for the defaults. */
  retry?: Partial<RetryPolicy>;
}

/** Lifetime of the system token the SDK signs for each of its own requests, in seconds. */
export const REQUEST_TOKEN_SECONDS = 300;

/** Options of one call to p4p. */
export interface CallOptions {
  /** Abandons the call (waits and attempts); it rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** What p4p said about a registered template. */
export interface RegistrationResult {
  /** Advice p4p attached (`x-p4p-warning`), e.g. to use HTTPS. */
  warnings: string[];
}

const NETWORK_OPTIONS: readonly string[] = ['name', 'key', 'url', 'retry'];

export class Network {
  readonly name: string;
  readonly #key: string;
  readonly #baseUrl: string | undefined;
  readonly #retry: RetryPolicy;

  /** @throws P4pInputError for a name or key p4p would refuse, a url that is not absolute http(s), an unknown option, or a bad retry setting. */
  constructor(options: NetworkOptions) {
    if (options === null || typeof options !== 'object') {
      throw new P4pInputError('new Network() needs { name, key, url }');
    }
    // A misspelt option (uri, retries) would otherwise be dropped without a word.
    const unknown = Object.keys(options).find((option) => !NETWORK_OPTIONS.includes(option));
    if (unknown !== undefined) throw new P4pInputError(`${quoteText(unknown, 40)} is not a Network option; the options are ${NETWORK_OPTIONS.join(', ')}`);
    assertNetworkName(options.name);
    assertKey(options.key);
    this.name = options.name;
    this.#key = options.key;
    this.#baseUrl = options.url === undefined ? undefined : baseUrlFrom(options.url);
    this.#retry = retryPolicyFrom(options.retry);
  }

  /** A token for one user, as the official `buildUserAuthToken`; `expiresInSeconds` is a whole number above 0. */
  buildUserAuthToken(userId: string, displayName: string, expiresInSeconds: number): string {
    return buildUserAuthToken(this.name, this.#key, userId, displayName, expiresInSeconds);
  }

  /** The network's system token, valid for a day, as the official `buildLivefyreToken`. */
  buildLivefyreToken(): string {
    return buildSystemToken(this.name, this.#key);
  }

  /**
   * True when `token` is a system token of this network: HS256, signed with
   * its key, `domain` this network, `user_id` `system`, not expired (60 s of
   * clock skew allowed). Unlike the official library, never throws: junk gives false.
   */
  validateLivefyreToken(token: unknown): boolean {
    const claims = readValidToken(token, this.#key);
    return claims !== undefined && claims.domain === this.name && claims.user_id === SYSTEM_USER_ID;
  }

  /**
   * Pings p4p for one user: p4p will pull the user's profile. Resolves once
   * p4p has durably recorded the ping.
   * @throws P4pInputError for a bad user id (nothing sent); P4pApiError, P4pNetworkError.
   */
  async syncUser(userId: string, options: CallOptions = {}): Promise<void> {
    assertUserId(userId);
    const send = sendOptionsFrom(options);
    if (userId === '.' || userId === '..') {
      // No URL can carry these as a path segment: fetch's URL parser drops dot
      // segments, percent-encoded (%2E) too. The bulk ping records them the same way.
      checkPingAnswer(await this.#post('/api/v3.0/users/refresh', JSON.stringify({ user_ids: [userId] }), 200, send));
      return;
    }
    checkPingAnswer(await this.#post(`/api/v3.0/user/${encodeURIComponent(userId)}/refresh`, undefined, 200, send));
  }

  /**
   * Pings p4p for many users (duplicates merged), in bulk pings of at most
   * {@link MAX_BULK_USER_IDS}, one after another, all within one
   * `retry.totalTimeoutMs` budget. Every id is checked before anything is
   * sent. When a chunk fails, the earlier chunks stay recorded; calling again
   * with the whole list is safe (a repeated ping costs at most one more pull).
   * @throws P4pInputError naming the first bad id; P4pApiError, P4pNetworkError.
   */
  async syncUsers(userIds: readonly string[], options: CallOptions = {}): Promise<void> {
    if (!Array.isArray(userIds)) throw new P4pInputError('userIds must be an array of user ids');
    // An index loop, not forEach: forEach skips the holes of a sparse array.
    for (let index = 0; index < userIds.length; index++) {
      try {
        assertUserId(userIds[index]);
      } catch (error) {
        throw new P4pInputError(`userIds[${index}]: ${(error as Error).message}`);
      }
    }
    const send = { ...sendOptionsFrom(options), deadline: Date.now() + this.#retry.totalTimeoutMs };
    const unique = [...new Set(userIds)];
    for (let start = 0; start < unique.length; start += MAX_BULK_USER_IDS) {
      // A chunk started with less than an attempt's floor left would time out and be blamed on the network.
      if (send.deadline - Date.now() < attemptFloorMs(this.#retry)) {
        throw new P4pNetworkError(
          `syncUsers used up its ${this.#retry.totalTimeoutMs} ms budget after p4p recorded ${start} of ${unique.length} ids; call it again (ids pinged twice cost at most one more pull)`,
        );
      }
      const body = JSON.stringify({ user_ids: unique.slice(start, start + MAX_BULK_USER_IDS) });
      checkPingAnswer(await this.#post('/api/v3.0/users/refresh', body, 200, send));
    }
  }

  /**
   * Registers the network's pull URL template, as the official
   * `setUserSyncUrl`: p4p will GET it with `{id}` replaced by the user id.
   * @throws P4pInputError when the template breaks a rule p4p checks without
   * a server, e.g. no `{id}` or not an absolute http(s) URL (nothing sent);
   * P4pApiError when p4p refuses it.
   */
  async setUserSyncUrl(template: string, options: CallOptions = {}): Promise<RegistrationResult> {
    checkTemplate(template);
    // The token goes in the Authorization header only (p4p reads actor_token from there too).
    const body = new URLSearchParams({ pull_profile_url: template }).toString();
    const { response } = await this.#post('/', body, 204, sendOptionsFrom(options), 'application/x-www-form-urlencoded');
    const warning = response.headers.get('x-p4p-warning');
    return { warnings: warning === null ? [] : [warning] };
  }

  async #post(
    path: string,
    body: string | undefined,
    expectedStatus: number,
    send: SendOptions,
    contentType = 'application/json',
  ): Promise<SentAnswer> {
    if (this.#baseUrl === undefined) {
      throw new P4pInputError("this Network has no url; pass new Network({ name, key, url: 'https://p4p.example.com' })");
    }
    return sendWithRetry(
      {
        method: 'POST',
        url: `${this.#baseUrl}${path}`,
        headers: () => ({
          // Short-lived: a token that leaks from a log or a proxy is soon worthless.
          authorization: `Bearer ${buildSystemToken(this.name, this.#key, REQUEST_TOKEN_SECONDS)}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': contentType }),
        }),
        body,
        expectedStatus,
      },
      this.#retry,
      send,
    );
  }
}

/** @throws P4pInputError unless `options` is an object whose `signal`, when given, is an AbortSignal. */
function sendOptionsFrom(options: CallOptions): SendOptions {
  if (options === null || typeof options !== 'object') throw new P4pInputError('options must be an object such as { signal }');
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
    throw new P4pInputError('options.signal must be an AbortSignal, e.g. AbortSignal.timeout(5000)');
  }
  return { signal: options.signal };
}

/**
 * p4p acknowledges a recorded ping with `{"status":"ok", …}`. Any other 200
 * (a captive portal, another server at the url) recorded nothing, and must
 * not pass for a ping that did.
 */
function checkPingAnswer({ response, body }: SentAnswer): void {
  let status: unknown;
  try {
    status = (JSON.parse(body) as { status?: unknown } | null)?.status;
  } catch {
    status = undefined;
  }
  if (status === 'ok') return;
  throw new P4pApiError(
    response.status,
    `http_${response.status}`,
    `${response.url} answered ${response.status} without p4p's {"status":"ok"}: nothing was recorded; check the url option`,
  );
}

/** The base URL without a trailing slash, so paths can be appended (a path prefix is kept). p4p's CLI shares it. */
export function baseUrlFrom(url: unknown): string {
  const parsed = typeof url === 'string' && URL.canParse(url) ? new URL(url) : undefined;
  if (parsed === undefined || (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') || parsed.search !== '') {
    // Credentials in a mistyped url are still secrets: never quoted back.
    const got = typeof url === 'string' ? quoteText(url.replace(/\/\/[^/?#]*@/, '//[redacted]@'), 80) : typeof url;
    throw new P4pInputError(`url must be the absolute http(s) base URL of p4p, without a query string, e.g. 'https://p4p.example.com'; got ${got}`);
  }
  if (parsed.username !== '' || parsed.password !== '') {
    throw new P4pInputError("url must not carry a user name or password: p4p authenticates the SDK's calls with the network's tokens");
  }
  return `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}`;
}

/** The template checks p4p makes that need no server (p4p also refuses blocked addresses). */
function checkTemplate(template: unknown): void {
  const shape = checkTemplateShape(template, 'template');
  if (!shape.ok) throw new P4pInputError(shape.message);
}
