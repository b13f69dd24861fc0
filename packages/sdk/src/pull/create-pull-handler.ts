/**
 * The identity system's pull endpoint (spec section 5): p4p GETs it with the
 * user id and an `lftoken`; it answers 200 with the profile JSON, 403 with no
 * body when the token is missing or not this network's system token, 404
 * when there is no such user.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ProfileInput } from '../profile/profile.js';
import { quoteText } from '../quote-text.js';
import { USER_ID_PATTERN, USER_ID_RULE } from '../tokens.js';
import { profileDevCheck, type Warn } from './profile-dev-check.js';

/** What the handler needs of a network: `Network` has it. */
export interface TokenValidator {
  validateLivefyreToken(token: unknown): boolean;
}

export interface PullHandlerOptions<Req extends IncomingMessage = IncomingMessage> {
  /** Checks p4p's `lftoken`; a `Network` built with the network's name and key. */
  network: TokenValidator;
  /** The user's profile (spec section 6), or null/undefined when there is no such user (404). */
  getProfile: (userId: string, req: Req) => ProfileInput | null | undefined | Promise<ProfileInput | null | undefined>;
  /**
   * Where the user id is in the request. Default: the `id` query parameter,
   * as in the template `https://example.com/p4p/profile?id={id}`. For
   * `…/users/{id}` in Express: `(req) => req.params.id`. Whatever it returns
   * is checked against {@link USER_ID_PATTERN} (anything else gets a 400), so
   * it may return any value.
   */
  userId?: (req: Req) => unknown;
  /**
   * Check each profile served against p4p's rules and warn (once per field)
   * about what p4p would reject or drop. Default: on unless NODE_ENV is `production`.
   */
  devChecks?: boolean;
  /** Where dev-check warnings go. Default `console.warn`. */
  warn?: Warn;
  /**
   * Told of errors thrown by `getProfile`, `userId` or `warn`, or met while
   * serialising the profile (the answer is then a bare 500). Default `console.error`.
   */
  onError?: (error: unknown, req: Req) => void;
}

/** A Node request handler: `http.createServer(handler)`, `app.get(path, handler)` in Express. */
export type PullHandler<Req extends IncomingMessage = IncomingMessage> = (req: Req, res: ServerResponse) => Promise<void>;

const HANDLER_OPTIONS: Record<string, 'function' | 'boolean'> = { userId: 'function', devChecks: 'boolean', warn: 'function', onError: 'function' };

/**
 * @throws TypeError when `network` or `getProfile` is missing, an option has
 * the wrong type (a wrong one would fail every pull later, with a 500), or an
 * option is unknown (a misspelt one would be ignored).
 */
export function createPullHandler<Req extends IncomingMessage = IncomingMessage>(
  options: PullHandlerOptions<Req>,
): PullHandler<Req> {
  const { network, getProfile } = options ?? {};
  if (typeof network?.validateLivefyreToken !== 'function' || typeof getProfile !== 'function') {
    throw new TypeError('createPullHandler needs { network: new Network({ name, key }), getProfile: (userId) => profile }');
  }
  for (const [name, value] of Object.entries(options)) {
    if (name === 'network' || name === 'getProfile') continue;
    const type = HANDLER_OPTIONS[name];
    if (type === undefined) throw new TypeError(`createPullHandler: ${quoteText(name, 40)} is not an option; the options are network, getProfile, ${Object.keys(HANDLER_OPTIONS).join(', ')}`);
    if (value !== undefined && typeof value !== type) throw new TypeError(`createPullHandler: ${name} must be a ${type}, got ${typeof value}`);
  }
  const userIdOf = options.userId ?? ((req: Req) => queryOf(req)?.get('id'));
  const devChecks = options.devChecks ?? process.env.NODE_ENV !== 'production';
  const devCheck = devChecks ? profileDevCheck(options.warn ?? console.warn) : undefined;
  const onError = options.onError ?? ((error: unknown) => console.error('p4p-sdk: pull handler failed', error));

  async function answer(req: Req, res: ServerResponse): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const query = queryOf(req);
    if (query === undefined) {
      sendJson(res, 400, { code: 'invalid_request', message: 'the request URL could not be parsed' });
      return;
    }
    // Authentication comes first, so nothing is revealed to a caller without a valid token.
    if (!network.validateLivefyreToken(query.get('lftoken'))) {
      res.writeHead(403, { 'cache-control': 'no-store' }).end();
      return;
    }
    const userId = userIdOf(req);
    if (typeof userId !== 'string' || !USER_ID_PATTERN.test(userId)) {
      sendJson(res, 400, {
        code: 'invalid_user_id',
        message: `no valid user id in the request (${USER_ID_RULE}); register a template such as https://example.com/p4p/profile?id={id}`,
      });
      return;
    }
    const profile = await getProfile(userId, req);
    if (profile === null || profile === undefined) {
      res.writeHead(404, { 'cache-control': 'no-store' }).end();
      return;
    }
    // Checked as serialised, so what toJSON makes of a Date or an ORM document is what is judged.
    const body = JSON.stringify(profile);
    devCheck?.(JSON.parse(body) as unknown, userId);
    res.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      // A profile is personal data, and the URL carries a token: no cache may keep it.
      'cache-control': 'no-store',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  // Never rejects: with a plain `createServer(handler)`, a rejection would end the process.
  return async (req, res) => {
    try {
      await answer(req, res);
    } catch (error) {
      try {
        onError(error, req);
      } catch (onErrorFailure) {
        console.error('p4p-sdk: onError threw', onErrorFailure, 'while reporting', error);
      }
      if (!res.headersSent) sendJson(res, 500, { code: 'internal_error', message: 'the profile could not be read' });
      else res.destroy();
    }
  };
}

/** The query string, or undefined when the request target is not a URL at all (`GET http://[ HTTP/1.1`). */
function queryOf(req: IncomingMessage): URLSearchParams | undefined {
  const base = 'http://pull-endpoint';
  const target = req.url ?? '/';
  return URL.canParse(target, base) ? new URL(target, base).searchParams : undefined;
}

function sendJson(res: ServerResponse, status: number, body: { code: string; message: string }): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }).end(JSON.stringify(body));
}
